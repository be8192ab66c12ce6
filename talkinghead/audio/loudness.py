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
    chunk_seconds: float = 10.0
    """Levels are measured this much audio at a time, so memory does not grow with the clip."""


def frame_rms_db(
    clip: AudioClip,
    fps: float,
    num_frames: int,
    window_seconds: float,
    floor_db: float = -120.0,
    chunk_seconds: float = LoudnessConfig.chunk_seconds,
) -> np.ndarray:
    """(T,) float64 RMS level in dBFS of a `window_seconds` window centred on the middle of each
    video frame, (i + 0.5) / fps; audio past either end counts as silence. Never below
    `floor_db`. Measured `chunk_seconds` of frames at a time (see window_energy)."""
    half = max(1, int(round(window_seconds * clip.sample_rate / 2)))
    centres = np.round((np.arange(num_frames) + 0.5) / fps * clip.sample_rate).astype(np.int64)
    chunk = max(1, int(round(chunk_seconds * fps)))
    energy = np.concatenate([window_energy(clip.samples, centres[i : i + chunk], half) for i in range(0, num_frames, chunk)])
    rms = np.sqrt(np.maximum(energy / (2 * half), 0.0))
    return 20 * np.log10(np.maximum(rms, 10 ** (floor_db / 20)))


def window_energy(samples: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    """(t,) float64 sum of squares of samples[c - half : c + half] for increasing sample indices
    `centres` (outside the clip: silence), from a cumulative sum over only the samples they
    cover: float64 copies of a whole long clip would take 8 bytes a sample several times over,
    and a clip-long cumulative sum loses precision as it grows."""
    if len(centres) == 0:
        return np.zeros(0)
    first = int(np.clip(centres[0] - half, 0, len(samples)))
    last = int(np.clip(centres[-1] + half, first, len(samples)))
    squared = np.concatenate([[0.0], np.cumsum(np.square(samples[first:last], dtype=np.float64))])
    lo = np.clip(centres - half - first, 0, last - first)
    hi = np.clip(centres + half - first, 0, last - first)
    return squared[hi] - squared[lo]


def speech_level_db(level: np.ndarray) -> float:
    """The clip's speech level in dBFS: the 90th percentile of its audible (T,) frame levels,
    SILENCE_DBFS if nothing is audible."""
    audible = level > SILENCE_DBFS
    return float(np.percentile(level[audible], 90)) if audible.any() else SILENCE_DBFS


def loudness_features(clip: AudioClip, fps: float, config: LoudnessConfig = LoudnessConfig()) -> AudioFeatures:
    """AudioFeatures with columns "loudness" (0 silent .. 1 the clip's loud speech) and "voiced"
    (0/1), one row per video frame."""
    num_frames = clip.num_frames(fps)
    level = frame_rms_db(clip, fps, num_frames, config.window_frames / fps, chunk_seconds=config.chunk_seconds)
    audible = level > SILENCE_DBFS
    speech_level = speech_level_db(level)
    loudness = np.clip((level - (speech_level - config.dynamic_range_db)) / config.dynamic_range_db, 0.0, 1.0)
    voiced = (audible & (level > speech_level - config.voice_margin_db)).astype(np.float32)
    values = np.stack([loudness * voiced, voiced], axis=1).astype(np.float32)
    return AudioFeatures(values=values, fps=fps, names=("loudness", "voiced"))
