"""Reference figures from real talking videos: what `talkinghead bench` shows as "real video".

The committed reference_real.json holds, for each real clip measured, the figures of
`evaluate_video(clip, source=its first frame)` (no reference video: PSNR / LMD of a clip with
itself say nothing), and their range over the clips. Regenerate it with
    python benchmarks/real_reference.py FOLDER_OF_REAL_VIDEOS
Only numbers are stored, never pixels of the videos.
"""

from __future__ import annotations

import json
from dataclasses import asdict
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from .evaluate import EvalConfig, evaluate_video, flat_summary
from .manifest import BenchInput, resolve

REFERENCE_FILE = Path(__file__).with_name("reference_real.json")

# The figures whose real range is recorded (flat_summary keys).
RANGE_KEYS = (
    "identity_distance", "sync_r", "sync_lag", "mouth_silent", "mouth_voiced", "mouth_std",
    "pose_std_yaw", "pose_std_pitch", "pose_std_roll", "pose_speed_yaw", "pose_speed_pitch",
    "pose_speed_roll", "pose_speed_mean", "blinks_per_min", "jitter", "background_change",
    "sharpness_ratio", "face_found_rate",
)  # fmt: skip

# Motion statistics compared with the real range in a bench ("distance from the real ranges").
MOTION_KEYS = ("pose_std_yaw", "pose_std_pitch", "pose_std_roll", "pose_speed_yaw",
               "pose_speed_pitch", "pose_speed_roll", "blinks_per_min")  # fmt: skip

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")


def measure_real_videos(folder: str | Path, config: EvalConfig = EvalConfig(), log=print) -> dict:
    """{"clips": {name: flat figures}, "ranges": {key: [min, max]}, "settings": ...}."""
    videos = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise InputError(f"{folder}: no videos ({', '.join(VIDEO_SUFFIXES)}) found")
    clips = {}
    with tempfile.TemporaryDirectory() as temp:
        for video in videos:
            row = resolve(BenchInput(name=video.stem, image=None, audio=None, reference=str(video)), Path(temp))
            summary = flat_summary(evaluate_video(str(video), source=row.image, config=config).summary)
            summary["video"] = video.name
            clips[video.stem] = summary
            log(f"{video.name}: {summary['frames']} frames, {summary['seconds']:.1f} s")
    return {"clips": clips, "ranges": value_ranges(clips.values()), "settings": {"eval_config": asdict(config)}}


def value_ranges(summaries) -> dict[str, list[float]]:
    """{key: [min, max]} over the summaries that have a number for it."""
    summaries = list(summaries)
    ranges = {}
    for key in RANGE_KEYS:
        values = [s[key] for s in summaries if isinstance(s.get(key), (int, float))]
        if values:
            ranges[key] = [float(np.min(values)), float(np.max(values))]
    return ranges


def load_reference(path: str | Path = REFERENCE_FILE) -> dict:
    """The committed reference figures ({"clips": ..., "ranges": ...})."""
    return json.loads(Path(path).read_text())
