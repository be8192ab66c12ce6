"""The short quality summary shown under the demo's video.

Always: duration, frame rate, frame count, size, seed and generation time. With the eval extra
(dlib, `pip install 'talkinghead[eval]'`) also two independent figures measured on the written
video with dlib's landmarks and face embedding, never with the generator's own landmarks:
identity distance to the photo, how often the lips close on the speech's p/b/m sounds, whether
the mouth rests in silence, and how the mouth opening follows the loudness.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TalkingHeadError
from ..eval import metrics
from ..types import AudioClip

IDENTITY_FRAMES = 8  # evenly spaced frames given a face descriptor (about 0.1 s each)
MAX_LAG = 2  # frames of audio-to-mouth delay searched either way, as benchmarks/check_quality.py


def dlib_available() -> bool:
    """Whether the eval extra (dlib + its model files) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("dlib", "face_recognition_models"))


@dataclass(frozen=True)
class LipSync:
    """Independent measures (dlib) of one video.

    identity_distance: mean distance of the frames' face descriptors to the photo's (>= 0;
        the same person is usually below 0.6). NaN when no frame had a face.
    mouth_audio_r: best Pearson r in [-1, 1] between loudness and mouth opening over lags of
        up to MAX_LAG frames (NaN when not measurable, e.g. a silent clip); lag in frames.
    face_found: fraction of frames in which dlib found the face, in [0, 1].
    bilabials_closed, bilabials: of the p/b/m sounds recognised in the audio (pocketsphinx),
        how many show closed lips in the video (metrics.bilabial_closures); 0, 0 without any.
    silence_opening: mean mouth opening over the frames the audio marks silent divided by the
        mean over the others (near 0: the mouth rests in pauses; NaN without silence).
    """

    identity_distance: float
    mouth_audio_r: float
    lag: int
    face_found: float
    bilabials_closed: int = 0
    bilabials: int = 0
    silence_opening: float = float("nan")


@dataclass(frozen=True)
class QualitySummary:
    duration: float
    fps: float
    frames: int
    width: int
    height: int
    seed: int | None
    seconds: float
    measures: LipSync | None = None
    note: str = ""

    def to_markdown(self) -> str:
        lines = [
            f"**{self.duration:.2f} s**, {self.fps:g} fps, {self.frames} frames, {self.width}x{self.height} px, "
            f"seed {self.seed}, made in {self.seconds:.1f} s",
        ]
        if self.measures is not None:
            m = self.measures
            lines.append(
                f"- identity distance to the photo: **{_fmt(m.identity_distance, '.3f')}** "
                "(dlib face embedding; the same person is usually below 0.6)"
            )
            if m.bilabials:
                lines.append(
                    f"- lips closed on **{m.bilabials_closed} of {m.bilabials}** p/b/m sounds "
                    "(real speakers close them on nearly all)"
                )
            if np.isfinite(m.silence_opening):
                lines.append(f"- mouth opening in pauses: **{m.silence_opening:.0%}** of its opening in speech (0 % = shut)")
            lines.append(
                f"- mouth opening vs. loudness: r = {_fmt(m.mouth_audio_r, '.2f')} at a lag of {m.lag:+d} frames "
                "(real speakers read 0.0-0.4 here: lips follow the sounds, not the loudness)"
            )
            lines.append(f"- face found by dlib in {m.face_found:.0%} of the frames")
        if self.note:
            lines.append(f"- {self.note}")
        return "\n".join(lines)


def _fmt(value: float, spec: str) -> str:
    return "n/a" if not np.isfinite(value) else format(value, spec)


def measure_video(video: str | Path, photo: np.ndarray, clip: AudioClip, fps: float) -> LipSync:
    """Identity and lip-sync figures of the written video (dlib, about 30 ms a frame).

    photo: (H, W, 3) uint8 RGB, the picture the video was rendered from.
    Raises TalkingHeadError when dlib finds no face in the photo, MissingPackageError
    without the eval extra.
    """
    from ..eval.dlib_models import face_embedding, landmarks68
    from ..eval.tracking import track_video

    photo_landmarks = landmarks68(photo)
    if photo_landmarks is None:
        raise TalkingHeadError("dlib finds no face in the photo, so identity and lip sync are not measured")
    reference = face_embedding(photo, photo_landmarks)
    track = track_video(str(video), embeddings=IDENTITY_FRAMES)  # the evaluation suite's frame pass
    distances = [metrics.identity_distance(e, reference) for e in track.embeddings]
    mouth_open = track.mouth
    energy = metrics.audio_log_energy(clip, fps, len(mouth_open))
    r, lag = metrics.lagged_correlation(energy, mouth_open, MAX_LAG)
    closed, counted = metrics.bilabial_closures(mouth_open, recognised_phones(clip), fps)
    silent = metrics.silent_frames(clip, fps, len(mouth_open))
    spoken = np.nanmean(mouth_open[~silent]) if (~silent).any() else float("nan")
    paused = np.nanmean(mouth_open[silent]) if silent.any() else float("nan")
    return LipSync(
        identity_distance=float(np.mean(distances)) if distances else float("nan"),
        mouth_audio_r=r,
        lag=lag,
        face_found=float(np.mean(np.isfinite(mouth_open))) if len(mouth_open) else 0.0,
        bilabials_closed=closed,
        bilabials=counted,
        silence_opening=float(paused / spoken) if np.isfinite(paused) and spoken > 0 else float("nan"),
    )


def recognised_phones(clip: AudioClip) -> list:
    """The audio's phones (pocketsphinx), [] when it is not installed."""
    try:
        from ..audio.phones import recognize_phones

        return recognize_phones(clip)
    except ImportError:
        return []
