"""The baseline motion model: mouth from loudness, random natural head motion, blinks.

It needs no training and is the reference every other pipeline is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..audio.loudness import LoudnessConfig, loudness_features
from ..types import AudioClip, MotionSequence
from .blinks import BlinkConfig, blinks
from .head import HeadMotionConfig, head_motion


@dataclass(frozen=True)
class BaselineMotionConfig:
    mouth_gain: float = 0.35
    """jaw_open coefficient at the clip's loudest speech (1 = a wide-open mouth)."""
    mouth_curve: float = 0.8
    """Exponent on loudness: below 1 opens the mouth more on quieter syllables."""
    mouth_smoothing_frames: float = 0.7
    loudness: LoudnessConfig = field(default_factory=LoudnessConfig)
    head: HeadMotionConfig = field(default_factory=HeadMotionConfig)
    blink: BlinkConfig = field(default_factory=BlinkConfig)


class BaselineMotion:
    def __init__(self, config: BaselineMotionConfig | None = None):
        self.config = config or BaselineMotionConfig()

    def jaw_opening(self, clip: AudioClip, fps: float) -> tuple[np.ndarray, np.ndarray]:
        """(T,) absolute jaw_open coefficient per frame (0 = closed, in silence) and (T,)
        loudness in [0, 1]."""
        features = loudness_features(clip, fps, self.config.loudness)
        loud = features.column("loudness").astype(np.float64)
        opening = self.config.mouth_gain * loud**self.config.mouth_curve
        if len(opening) > 1:
            opening = gaussian_filter1d(opening, self.config.mouth_smoothing_frames)
        return (opening * features.column("voiced")).astype(np.float32), loud

    def __call__(
        self,
        clip: AudioClip,
        fps: float,
        expression_names: tuple[str, ...],
        source_expression: np.ndarray,
        *,
        seed: int,
        still: bool = False,
        expression_scale: float = 1.0,
    ) -> MotionSequence:
        """A MotionSequence for `clip` at `fps`.

        source_expression: (E,) the photo's own expression coefficients (basis.estimate);
            subtracted so that the targets are absolute (a closed mouth in silence).
        """
        rng = np.random.default_rng(seed)
        jaw, loudness = self.jaw_opening(clip, fps)
        num_frames = len(jaw)
        motion = MotionSequence.rest(num_frames, fps, expression_names)
        jaw_index = expression_names.index("jaw_open")
        own = float(source_expression[jaw_index])
        motion.expression[:, jaw_index] = np.maximum(expression_scale * jaw - own, -own)
        rotation, translation = head_motion(rng, num_frames, fps, loudness, self.config.head)
        if not still:
            motion.rotation[:], motion.translation[:] = rotation, translation
        motion.eyelids[:] = blinks(rng, num_frames, fps, self.config.blink)
        motion.meta = {"pipeline": "baseline", "seed": seed, "still": still}
        return motion
