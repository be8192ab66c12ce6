"""Eye blinks at human rates and durations.

People blink about 15-25 times a minute while talking; a blink closes in about 80 ms, stays
shut briefly and reopens over about 200 ms. Both eyes blink together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlinkConfig:
    per_minute: float = 18.0
    min_gap_seconds: float = 1.2
    close_seconds: float = 0.08
    hold_seconds: float = 0.06
    open_seconds: float = 0.2


def blink_profile(t: np.ndarray, config: BlinkConfig) -> np.ndarray:
    """Closure in [0, 1] at times t (seconds) after the start of a blink."""
    closing = np.clip(t / config.close_seconds, 0, 1)
    opening = np.clip((t - config.close_seconds - config.hold_seconds) / config.open_seconds, 0, 1)
    smooth = lambda x: x * x * (3 - 2 * x)  # noqa: E731
    return np.where(t < 0, 0.0, smooth(closing) * (1 - smooth(opening)))


def blinks(rng: np.random.Generator, num_frames: int, fps: float, config: BlinkConfig = BlinkConfig()) -> np.ndarray:
    """(T, 2) eyelid closure for the (left, right) eye."""
    mean_gap = 60.0 / config.per_minute
    times = np.arange(num_frames) / fps
    closure = np.zeros(num_frames)
    start = rng.uniform(0.3, mean_gap)
    duration = config.close_seconds + config.hold_seconds + config.open_seconds
    while start < num_frames / fps:
        # The frames with start <= time < start + duration (times are sorted): a slice, not a
        # clip-long mask per blink, so a long clip costs O(T), not O(T * blinks).
        lo, hi = np.searchsorted(times, [start, start + duration], side="left")
        closure[lo:hi] = np.maximum(closure[lo:hi], blink_profile(times[lo:hi] - start, config))
        # Gamma-distributed gaps (shape 3): irregular, but never implausibly close together.
        start += config.min_gap_seconds + rng.gamma(3.0, (mean_gap - config.min_gap_seconds) / 3.0)
    return np.repeat(closure[:, None], 2, axis=1).astype(np.float32)
