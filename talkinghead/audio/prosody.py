"""Prosody at video frame rate: pitch, energy and pauses, the cues a listener responds to.

Listeners nod and smile mostly at a speaker's pauses and after falling pitch or emphasis
(backchannel studies: Ward and Tsukahara 2000; Poppe et al. 2010), so the listener model sees
these per frame. Pitch is a normalised autocorrelation estimate (no model, no weights);
levels come from audio.loudness, relative to the clip's own speech level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..types import AudioClip, AudioFeatures
from .loudness import LoudnessConfig, loudness_features

PROSODY_NAMES = ("loudness", "voiced", "pitch", "periodic", "pause", "speech_run")


@dataclass(frozen=True)
class ProsodyConfig:
    window_seconds: float = 0.05
    """Pitch analysis window centred on each video frame (two periods of 40 Hz fit)."""
    min_hz: float = 70.0
    max_hz: float = 400.0
    periodicity: float = 0.45
    """A frame is periodic (pitched) when its normalised autocorrelation peak exceeds this."""
    pitch_range_semitones: float = 12.0
    """Pitch is given in semitones from the clip's median pitch divided by this, clipped to [-1, 1]."""
    pause_cap_seconds: float = 2.0
    """`pause` counts the time since speech stopped up to this, then stays at 1."""
    run_cap_seconds: float = 5.0
    """`speech_run` counts the time since speech started up to this."""
    chunk_frames: int = 250
    """Pitch is measured this many frames at a time, so memory does not grow with the clip."""


def frame_pitch(clip: AudioClip, fps: float, num_frames: int, config: ProsodyConfig = ProsodyConfig()) -> tuple[np.ndarray, np.ndarray]:
    """(T,) float64 pitch in Hz (0 where not periodic) and (T,) float64 periodicity in [0, 1]
    (the normalised autocorrelation peak) of a window centred on each video frame."""
    rate = clip.sample_rate
    size = int(round(config.window_seconds * rate))
    lo, hi = int(rate / config.max_hz), min(size - 2, int(rate / config.min_hz))
    padded = np.concatenate([np.zeros(size), clip.samples.astype(np.float64), np.zeros(size)])
    centres = np.round((np.arange(num_frames) + 0.5) / fps * rate).astype(np.int64) + size
    window = np.hanning(size)
    # Dividing by the window's own autocorrelation undoes the taper's bias towards short lags
    # (Boersma 1993), so a pure tone's peak is about 1 at its period.
    window_auto = np.fft.irfft(np.abs(np.fft.rfft(window, n=2 * size)) ** 2)[:size]
    window_auto = np.maximum(window_auto / window_auto[0], 1e-3)
    pitch, strength = np.zeros(num_frames), np.zeros(num_frames)
    for first in range(0, num_frames, config.chunk_frames):
        idx = centres[first : first + config.chunk_frames, None] + np.arange(size)[None, :] - size // 2
        frames = padded[np.clip(idx, 0, len(padded) - 1)]
        frames = (frames - frames.mean(axis=1, keepdims=True)) * window
        spectrum = np.fft.rfft(frames, n=2 * size)
        auto = np.fft.irfft(np.abs(spectrum) ** 2)[:, :size]
        auto /= np.maximum(auto[:, :1], 1e-12) * window_auto
        lag = lo + shortest_strong_peak(auto[:, lo - 1 : hi + 2])
        peak = auto[np.arange(len(lag)), lag]
        pitch[first : first + len(lag)] = np.where(peak > config.periodicity, rate / lag, 0.0)
        strength[first : first + len(lag)] = np.clip(peak, 0.0, 1.0)
    return pitch, strength


def shortest_strong_peak(auto: np.ndarray, share: float = 0.9) -> np.ndarray:
    """(n,) index into auto[:, 1:-1] of the shortest-lag local maximum within `share` of the
    row's highest: a periodic signal peaks at every multiple of its period about equally, and
    the period is the first of them (taking the highest would halve the pitch at random)."""
    inner = auto[:, 1:-1]
    local = (inner >= auto[:, :-2]) & (inner >= auto[:, 2:])
    strong = local & (inner >= share * np.max(np.where(local, inner, -np.inf), axis=1, keepdims=True))
    return np.where(strong.any(axis=1), np.argmax(strong, axis=1), np.argmax(inner, axis=1))


def time_since(flags: np.ndarray, fps: float, cap_seconds: float) -> np.ndarray:
    """(T,) float32 in [0, 1]: seconds since the last frame where `flags` (T,) bool was False
    (0 on such frames), over `cap_seconds`, capped at 1."""
    out = np.zeros(len(flags), np.float32)
    run = 0
    for i, flag in enumerate(flags):
        run = run + 1 if flag else 0
        out[i] = run
    return np.minimum(out / (cap_seconds * fps), 1.0).astype(np.float32)


def prosody_features(clip: AudioClip, fps: float, config: ProsodyConfig = ProsodyConfig()) -> AudioFeatures:
    """AudioFeatures with PROSODY_NAMES columns, one row per video frame:
    loudness 0..1 and voiced 0/1 (audio.loudness); pitch in [-1, 1] (semitones from the clip's
    median over `pitch_range_semitones`, 0 where unpitched); periodic 0/1; pause in [0, 1] (time
    since speech stopped); speech_run in [0, 1] (time since speech started)."""
    num_frames = clip.num_frames(fps)
    level = loudness_features(clip, fps, LoudnessConfig())
    voiced = level.column("voiced") > 0.5
    hz, _ = frame_pitch(clip, fps, num_frames, config)
    periodic = (hz > 0) & voiced
    pitch = np.zeros(num_frames)
    if periodic.any():
        semitones = 12 * np.log2(hz[periodic] / np.median(hz[periodic]))
        pitch[periodic] = np.clip(semitones / config.pitch_range_semitones, -1.0, 1.0)
    values = np.stack([
        level.column("loudness"), voiced.astype(np.float32), pitch, periodic.astype(np.float32),
        time_since(~voiced, fps, config.pause_cap_seconds), time_since(voiced, fps, config.run_cap_seconds),
    ], axis=1).astype(np.float32)  # fmt: skip
    return AudioFeatures(values=values, fps=fps, names=PROSODY_NAMES)
