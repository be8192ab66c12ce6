"""A folder of talking videos (VoxCeleb/HDTF style: video files with their own audio) read
into tracked clips, with a cache so that each video is tracked once."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InputError, TalkingHeadError
from ..face.tracking import FaceTracker, TrackerConfig
from ..io.atomic import write_atomically
from ..io.audio import load_video_audio
from ..io.video import INPUT_VIDEO_SUFFIXES
from ..types import AudioClip, FaceTrack

log = logging.getLogger("talkinghead")



@dataclass
class TalkingClip:
    """One tracked talking video. audio is None when the video has no (audible) audio track."""

    name: str
    track: FaceTrack
    audio: AudioClip | None


def video_files(folder: str | Path) -> list[Path]:
    """The video files directly in `folder`, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of videos")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in INPUT_VIDEO_SUFFIXES)
    if not files:
        raise InputError(f"{folder}: no video files ({', '.join(INPUT_VIDEO_SUFFIXES)})")
    return files


def cache_key(video: Path, config: TrackerConfig, backend: str) -> str:
    """Changes when the file (size, modification time) or the tracking settings change."""
    stat = video.stat()
    text = f"{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{backend}|{sorted(asdict(config).items())}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cached_track(video: Path, cache: Path, tracker: "Tracker") -> FaceTrack:
    """The face track of `video`: read from `cache` when it was tracked with these settings
    before, else tracked now and written there."""
    cached = cache / f"{video.stem}-{cache_key(video, tracker.config, tracker.backend_name)}.npz"
    if cached.exists():
        return FaceTrack.load(cached)
    log.info("tracking %s", video.name)
    track = tracker.get().track(video)
    write_atomically(cached, track.save)
    return track


class Tracker:
    """A FaceTracker made on first use (reading cached tracks needs none), closed by `close`."""

    def __init__(self, config: TrackerConfig | None = None, backend: str = "mediapipe"):
        self.config, self.backend_name = config or TrackerConfig(), backend
        self._tracker: FaceTracker | None = None

    def get(self) -> FaceTracker:
        self._tracker = self._tracker or FaceTracker(self.config, self.backend_name)
        return self._tracker

    def close(self) -> None:
        if self._tracker is not None:
            self._tracker.close()


def load_talking_clips(
    folder: str | Path,
    cache_dir: str | Path | None = None,
    config: TrackerConfig | None = None,
    backend: str = "mediapipe",
) -> list[TalkingClip]:
    """Track every video in `folder` (or read the cached track). Videos that cannot be read or
    tracked are skipped with a notice. cache_dir defaults to `folder`/.talkinghead-cache."""
    cache = Path(cache_dir) if cache_dir else Path(folder) / ".talkinghead-cache"
    cache.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(config, backend)
    clips = []
    try:
        for video in video_files(folder):
            try:
                clips.append(TalkingClip(video.stem, cached_track(video, cache, tracker), load_video_audio(video)))
            except TalkingHeadError as exc:
                log.info("skipping %s: %s", video.name, exc)
    finally:
        tracker.close()
    return clips
