"""Seeded, smooth random head motion with the statistics of real talking heads.

Each angle is the sum of a slow drift and quicker nods (Gaussian-filtered noise at two time
scales); the nods grow with speech loudness, as people emphasise words with their head.
Real clips show yaw std 1-12 deg, pitch 3-10 deg, roll 0.5-4 deg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d


@dataclass(frozen=True)
class HeadMotionConfig:
    std_deg: tuple[float, float, float] = (7.0, 4.5, 2.0)
    """Target standard deviation of yaw, pitch, roll in degrees."""
    slow_seconds: float = 0.6
    """Time scale (Gaussian sigma) of the drift."""
    fast_seconds: float = 0.15
    """Time scale of the nods."""
    fast_share: float = 0.55
    """Share of the motion's std carried by the nods while speaking."""
    sway_iod: float = 0.03
    """Std of the sideways/vertical head shift, in inter-ocular distances."""


def smooth_noise(rng: np.random.Generator, num_frames: int, sigma_frames: float) -> np.ndarray:
    """(T,) Gaussian-filtered white noise scaled to unit standard deviation.

    The scale uses the filter's theoretical gain, not the sample std, so a clip's start does
    not change when the clip gets longer."""
    pad = int(4 * sigma_frames) + 1
    noise = rng.standard_normal(num_frames + 2 * pad)
    smoothed = gaussian_filter1d(noise, sigma_frames, mode="constant")[pad : pad + num_frames]
    return smoothed * np.sqrt(2 * np.sqrt(np.pi) * sigma_frames)


def head_motion(
    rng: np.random.Generator, num_frames: int, fps: float, loudness: np.ndarray, config: HeadMotionConfig = HeadMotionConfig()
) -> tuple[np.ndarray, np.ndarray]:
    """Returns rotation (T, 3) degrees and translation (T, 2) in inter-ocular distances.

    loudness: (T,) in [0, 1], scales the quick nods.
    """
    activity = gaussian_filter1d(loudness.astype(np.float64), 0.4 * fps) if num_frames > 1 else loudness
    activity = np.clip(activity / max(float(activity.max()), 1e-6), 0.0, 1.0) if activity.max() > 0 else activity
    slow_share = np.sqrt(1 - config.fast_share**2)
    rotation = np.empty((num_frames, 3))
    for axis, std in enumerate(config.std_deg):
        slow = smooth_noise(rng, num_frames, config.slow_seconds * fps)
        fast = smooth_noise(rng, num_frames, config.fast_seconds * fps)
        rotation[:, axis] = std * (slow_share * slow + config.fast_share * fast * (0.35 + 0.65 * activity))
    translation = np.stack(
        [config.sway_iod * smooth_noise(rng, num_frames, config.slow_seconds * fps) for _ in range(2)], axis=1
    )
    return rotation.astype(np.float32), translation.astype(np.float32)
