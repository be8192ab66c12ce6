"""Frame-level loudness and voice activity, the audio features of the baseline pipeline.

Levels are measured relative to the clip's own speech level, so quiet and loud recordings
drive the mouth alike; a clip with no signal at all is all silence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..types import AudioClip, AudioFeatures

SILENCE_DBFS = -55.0  # frames quieter than this are silent whatever the clip's level


@dataclass(frozen=True)
class LoudnessConfig:
    window_frames: float = 1.5
    """Analysis window length in video frames (centred on each frame)."""
    dynamic_range_db: float = 30.0
    """Loudness below the clip's speech level by this much maps to 0."""
    voice_margin_db: float = 24.0
    """A frame is voiced when within this many dB of the speech level."""


def frame_levels(clip: AudioClip, fps: float, num_frames: int, window_frames: float) -> np.ndarray:
    """(T,) float32 RMS level in dBFS of the audio around each video frame."""
    hop = clip.sample_rate / fps
    half = max(1, int(round(window_frames * hop / 2)))
    centres = np.round((np.arange(num_frames) + 0.5) * hop).astype(np.int64)
    squared = np.concatenate([[0.0], np.cumsum(clip.samples.astype(np.float64) ** 2)])
    lo = np.clip(centres - half, 0, len(clip.samples))
    hi = np.clip(centres + half, 0, len(clip.samples))
    power = (squared[hi] - squared[lo]) / np.maximum(hi - lo, 1)
    return (10 * np.log10(power + 1e-12)).astype(np.float32)


def loudness_features(clip: AudioClip, fps: float, config: LoudnessConfig = LoudnessConfig()) -> AudioFeatures:
    """AudioFeatures with columns "loudness" (0 silent .. 1 the clip's loud speech) and "voiced"
    (0/1), one row per video frame."""
    num_frames = clip.num_frames(fps)
    level = frame_levels(clip, fps, num_frames, config.window_frames)
    audible = level > SILENCE_DBFS
    speech_level = float(np.percentile(level[audible], 90)) if audible.any() else SILENCE_DBFS
    loudness = np.clip((level - (speech_level - config.dynamic_range_db)) / config.dynamic_range_db, 0.0, 1.0)
    voiced = (audible & (level > speech_level - config.voice_margin_db)).astype(np.float32)
    values = np.stack([loudness * voiced, voiced], axis=1).astype(np.float32)
    return AudioFeatures(values=values, fps=fps, names=("loudness", "voiced"))
