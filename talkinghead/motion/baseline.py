"""The baseline motion model: mouth from the learned audio-to-expression model (or from
loudness), random natural head motion, blinks.

The loudness mouth needs no training and stays as the reference the learned one is measured
against (and the fallback for bases without the learned coefficients, e.g. 68-point faces).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..audio.loudness import LoudnessConfig, loudness_features
from ..errors import InputError
from ..types import AudioClip, MotionSequence
from ..facemodel.basis import ExpressionBasis
from .blinks import BlinkConfig, blinks
from ..facemodel.geometric_basis import OPEN_UNIT
from .head import HeadMotionConfig, head_motion


MOUTH_MODELS = ("audio2exp", "loudness")


@dataclass(frozen=True)
class BaselineMotionConfig:
    mouth: str = "audio2exp"
    """"audio2exp": mouth shapes from the learned audio-to-expression model, opened with
    loudness (needs the learned expression basis); "loudness": jaw opening from loudness alone
    (the geometric basis' jaw_open)."""
    audio2exp_checkpoint: str | None = None
    """Folder of an audio-to-expression checkpoint; None = the shipped checkpoints/audio2exp."""
    mouth_gain: float = 0.35
    """jaw_open coefficient at the clip's loudest speech (1 = a wide-open mouth)."""
    mouth_curve: float = 0.8
    """Exponent on loudness: below 1 opens the mouth more on quieter syllables."""
    mouth_smoothing_frames: float = 0.7
    loudness: LoudnessConfig = field(default_factory=LoudnessConfig)
    head: HeadMotionConfig = field(default_factory=HeadMotionConfig)
    blink: BlinkConfig = field(default_factory=BlinkConfig)


class BaselineMotion:
    def __init__(self, config: BaselineMotionConfig | None = None, device: str = "cpu"):
        self.config = config or BaselineMotionConfig()
        if self.config.mouth not in MOUTH_MODELS:
            raise InputError(f"mouth must be one of {', '.join(MOUTH_MODELS)}, not {self.config.mouth!r}")
        self.device = device
        self._audio2exp = None

    @property
    def audio2exp(self):
        """The audio-to-expression model, loaded on first use."""
        if self._audio2exp is None:
            from .audio2exp import Audio2Exp

            self._audio2exp = Audio2Exp.load(self.config.audio2exp_checkpoint, device=self.device)
        return self._audio2exp

    def warm_up(self) -> None:
        """Load the audio2exp model now if this mouth uses it (it loads on first use otherwise)."""
        if self.config.mouth == "audio2exp":
            self.audio2exp  # noqa: B018

    def to(self, device: str) -> "BaselineMotion":
        self.device = device
        if self._audio2exp is not None:
            self._audio2exp.to(device)
        return self

    def checkpoints(self) -> dict[str, Path]:
        """Weight name -> folder of the weights this model uses (the audio2exp mouth's)."""
        if self.config.mouth != "audio2exp":
            return {}
        from ..io.checkpoint import resolve_checkpoint
        from .audio2exp import CHECKPOINT_NAME

        return {"audio2exp": resolve_checkpoint(self.config.audio2exp_checkpoint, CHECKPOINT_NAME)}

    def mouth_targets(self, clip: AudioClip, fps: float, basis: ExpressionBasis) -> tuple[np.ndarray, list[int], np.ndarray]:
        """(T, K) absolute mouth coefficients (0 = closed), the K indices into `basis.names`
        they belong to, and (T,) loudness in [0, 1] (it also drives the nods)."""
        jaw, loudness = self.jaw_opening(clip, fps)
        names = basis.names
        if self.config.mouth == "audio2exp" and set(self.audio2exp.config.expression_names) <= set(names):
            columns = [names.index(n) for n in self.audio2exp.config.expression_names]
            return self.learned_mouth(clip, fps, basis, columns, jaw, loudness), columns, loudness
        if "jaw_open" not in names:
            raise InputError(
                f"the {self.config.mouth} mouth cannot drive an expression basis with coefficients {names}; "
                "the loudness mouth needs the geometric basis (config face_model: {basis: geometric})"
            )
        return jaw[:, None], [names.index("jaw_open")], loudness

    def learned_mouth(self, clip: AudioClip, fps: float, basis, columns: list[int], jaw: np.ndarray, loudness: np.ndarray) -> np.ndarray:
        """(T, K) coefficients: how far the lips part follows loudness, the shape of the mouth
        (rounding, spreading, lip and jaw detail) comes from the audio2exp model.

        Why not the model's opening too: in leave-one-clip-out cross-validation on the seven
        real training clips (benchmarks/audio2exp_cross_validation.py) its lip gap correlated
        with the tracked one at r -0.02 on average against 0.12 for loudness; with that little,
        loosely synchronised video it does not time the opening better than loudness does.
        """
        predicted = np.zeros((len(jaw), len(columns)), np.float32)
        raw = self.audio2exp.predict(clip, fps)[: len(jaw)]
        predicted[: len(raw)] = raw
        per_unit = basis.gap_per_unit[columns]  # lip-gap change per unit of each coefficient
        direction = basis.opening[columns] / float(basis.opening[columns] @ per_unit)  # 1 IOD of gap
        shape = predicted - np.outer(predicted @ per_unit, direction)  # the model minus its opening
        gap = jaw * OPEN_UNIT  # the loudness mouth's lip gap, inter-ocular distances
        return (np.outer(gap, direction) + self.mouth_envelope(loudness)[:, None] * shape).astype(np.float32)

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
        basis: ExpressionBasis,
        source_expression: np.ndarray,
        *,
        seed: int,
        still: bool = False,
        expression_scale: float = 1.0,
    ) -> MotionSequence:
        """A MotionSequence for `clip` at `fps`.

        basis: the renderer's expression basis; source_expression: (E,) the photo's own
            expression coefficients in it (basis.estimate);
            subtracted so that the targets are absolute (a closed mouth in silence).
        """
        rng = np.random.default_rng(seed)
        targets, columns, loudness = self.mouth_targets(clip, fps, basis)
        num_frames = len(targets)
        motion = MotionSequence.rest(num_frames, fps, basis.names)
        motion.expression[:, columns] = expression_scale * targets - source_expression[columns]
        rotation, translation = head_motion(rng, num_frames, fps, loudness, self.config.head)
        if not still:
            motion.rotation[:], motion.translation[:] = rotation, translation
        motion.eyelids[:] = blinks(rng, num_frames, fps, self.config.blink)
        motion.meta = {"pipeline": "baseline", "seed": seed, "still": still, "mouth": self.config.mouth}
        return motion
