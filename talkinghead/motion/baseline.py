"""The baseline motion model: mouth from the learned audio-to-expression model (or from
loudness), random natural head motion, blinks.

The loudness mouth needs no training and stays as the reference the learned one is measured
against (and the fallback for bases without the learned coefficients, e.g. 68-point faces).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..audio.loudness import LoudnessConfig, loudness_features
from ..errors import InputError
from ..types import AudioClip, MotionSequence
from .blinks import BlinkConfig, blinks
from .head import HeadMotionConfig, head_motion


MOUTH_MODELS = ("audio2exp", "loudness")


@dataclass(frozen=True)
class BaselineMotionConfig:
    mouth: str = "audio2exp"
    """"audio2exp": the learned audio-to-expression model (needs the learned expression basis);
    "loudness": jaw opening from loudness alone (works with any basis that has jaw_open)."""
    audio2exp_checkpoint: str | None = None
    """Folder of an audio-to-expression checkpoint; None = the shipped checkpoints/audio2exp."""
    learned_mouth_gain: float = 1.8
    """Gain on the learned mouth. Its training speakers include two who barely part their lips,
    so it under-articulates: mean lip gap while speaking 0.026-0.039 inter-ocular distances on
    five voices, against a median of 0.060 over the seven real clips (0.007-0.121);
    benchmarks/audio2exp_robustness.py prints it. Correlations do not depend on it."""
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
        if self.config.mouth not in MOUTH_MODELS:
            raise InputError(f"mouth must be one of {', '.join(MOUTH_MODELS)}, not {self.config.mouth!r}")
        self._audio2exp = None

    @property
    def audio2exp(self):
        """The audio-to-expression model, loaded on first use."""
        if self._audio2exp is None:
            from .audio2exp import Audio2Exp

            self._audio2exp = Audio2Exp.load(self.config.audio2exp_checkpoint)
        return self._audio2exp

    def mouth_targets(self, clip: AudioClip, fps: float, expression_names: tuple[str, ...]) -> tuple[np.ndarray, list[int], np.ndarray]:
        """(T, K) absolute mouth coefficients (0 = closed), the K indices into
        `expression_names` they belong to, and (T,) loudness in [0, 1] (it also drives nods)."""
        jaw, loudness = self.jaw_opening(clip, fps)
        if self.config.mouth == "audio2exp" and set(self.audio2exp.config.expression_names) <= set(expression_names):
            predicted = self.audio2exp.predict(clip, fps)
            targets = np.zeros((len(jaw), predicted.shape[1]), np.float32)
            targets[: len(predicted)] = predicted[: len(jaw)]
            # Scaled by loudness (0 in silence .. 1 at the clip's loud speech): louder syllables
            # open wider and pauses close the mouth, which the model alone, trained on a minute
            # of real video, does not guarantee. Measured on two held-out real clips: r with the
            # real mouth 0.27/0.30 -> 0.31/0.38, with the audio's energy 0.31/0.09 -> 0.39/0.40.
            targets *= self.config.learned_mouth_gain * self.mouth_envelope(loudness)[:, None]
            return targets, [expression_names.index(n) for n in self.audio2exp.config.expression_names], loudness
        if "jaw_open" not in expression_names:
            raise InputError(
                f"the {self.config.mouth} mouth cannot drive an expression basis with coefficients {expression_names}; "
                "the loudness mouth needs the geometric basis (renderer basis: geometric)"
            )
        return jaw[:, None], [expression_names.index("jaw_open")], loudness

    def jaw_opening(self, clip: AudioClip, fps: float) -> tuple[np.ndarray, np.ndarray]:
        """(T,) absolute jaw_open coefficient per frame (0 = closed, in silence) and (T,)
        loudness in [0, 1]."""
        features = loudness_features(clip, fps, self.config.loudness)
        loud = features.column("loudness").astype(np.float64)
        opening = self.config.mouth_gain * loud**self.config.mouth_curve
        if len(opening) > 1:
            opening = gaussian_filter1d(opening, self.config.mouth_smoothing_frames)
        return (opening * features.column("voiced")).astype(np.float32), loud

    def mouth_envelope(self, loudness: np.ndarray) -> np.ndarray:
        """(T,) float32 in [0, 1]: loudness smoothed like the loudness mouth."""
        if len(loudness) > 1:
            loudness = gaussian_filter1d(loudness, self.config.mouth_smoothing_frames)
        return np.clip(loudness, 0.0, 1.0).astype(np.float32)

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
        targets, columns, loudness = self.mouth_targets(clip, fps, expression_names)
        num_frames = len(targets)
        motion = MotionSequence.rest(num_frames, fps, expression_names)
        motion.expression[:, columns] = expression_scale * targets - source_expression[columns]
        rotation, translation = head_motion(rng, num_frames, fps, loudness, self.config.head)
        if not still:
            motion.rotation[:], motion.translation[:] = rotation, translation
        motion.eyelids[:] = blinks(rng, num_frames, fps, self.config.blink)
        motion.meta = {"pipeline": "baseline", "seed": seed, "still": still, "mouth": self.config.mouth}
        return motion
