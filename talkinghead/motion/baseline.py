"""The baseline motion model: mouth from the learned audio-to-expression model (or from
loudness, or from the speech content: recognised phones through the articulation model),
random natural head motion, blinks.

The loudness mouth needs no training and stays as the reference the learned one is measured
against (and the fallback for bases without the learned coefficients, e.g. 68-point faces).
"""

from __future__ import annotations

import logging
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


log = logging.getLogger("talkinghead")

MOUTH_MODELS = ("content", "audio2exp-v2", "audio2exp", "loudness")


@dataclass(frozen=True)
class BaselineMotionConfig:
    mouth: str = "content"
    """"content" (default): mouth shapes from the speech's phones (pocketsphinx phone
    recognition, or forced alignment of a transcript, then the articulation model:
    coarticulation, closed lips on p/b/m, closed in silence); "audio2exp-v2": the same mouth
    sized frame by frame from the mel stream by audio2exp v2; "audio2exp": mouth shapes from the
    learned audio-to-expression model, opened with loudness; "loudness": lip gap from loudness
    alone. content and audio2exp need the learned expression basis (MediaPipe landmarks); other
    faces get the loudness mouth on the geometric basis, with a notice. Measured on held-out
    real speakers (checkpoints/articulation/CARD.md): rendered lip-gap r 0.42 for content
    against 0.08 for audio2exp and loudness."""
    recognizer: str | None = None
    """What the content mouth hears without a transcript: "phones", "words" or "both" (see
    audio.phones.PhoneConfig.recognizer, which holds the default and the measurements)."""
    audio2exp_checkpoint: str | None = None
    """Folder of an audio-to-expression checkpoint; None = the shipped checkpoints/audio2exp."""
    articulation_checkpoint: str | None = None
    """Folder of an articulation checkpoint (the content mouth); None = the shipped
    checkpoints/articulation."""
    audio2exp_v2_checkpoint: str | None = None
    """Folder of an audio2exp v2 checkpoint (the content mouth's gain); None = the shipped
    checkpoints/audio2exp_v2."""
    mouth_gain: float = 0.35
    """jaw_open coefficient at the clip's loudest speech (1 = a wide-open mouth)."""
    mouth_curve: float = 0.8
    """Exponent on loudness: below 1 opens the mouth more on quieter syllables."""
    mouth_smoothing_frames: float = 0.7
    loudness: LoudnessConfig = field(default_factory=LoudnessConfig)
    head: HeadMotionConfig = field(default_factory=HeadMotionConfig)
    blink: BlinkConfig = field(default_factory=BlinkConfig)


MIN_SPEECH_SHARE = 0.1
"""Below this share of phone time (not SIL) in audible sound, the sound is probably not speech."""


def warn_without_speech(clip: AudioClip, segments) -> None:
    """A notice when audible sound holds (almost) no recognised speech: noise or music keep
    the content mouth nearly closed, which is right but should not surprise anyone."""
    duration = clip.duration
    if duration <= 0 or float(np.sqrt(np.mean(np.square(clip.samples, dtype=np.float64)))) < 1e-3:
        return  # silence: nothing to explain
    spoken = sum(s.end - s.start for s in segments if s.phone != "SIL")
    if spoken / duration < MIN_SPEECH_SHARE:
        name = f"{clip.path}: " if clip.path else ""
        log.info("%sno speech recognised in %.0f%% of the sound (noise or music?): the mouth stays nearly closed", name, 100 * (1 - spoken / duration))


def mean_mouth(mouths: list[np.ndarray], gap_per_unit: np.ndarray) -> np.ndarray:
    """(T, K) float32 mean of the mouths of several hearings of one clip (recognizer "both"),
    scaled so its lip gap varies as much as theirs do on average: where two hearings disagree
    their mean moves less than either, which would leave the mouth under-articulated. Closed
    frames stay closed (the scale multiplies)."""
    mean = np.mean(mouths, axis=0)
    if len(mouths) > 1:
        spread = float(np.mean([np.std(m @ gap_per_unit) for m in mouths]))
        now = float(np.std(mean @ gap_per_unit))
        if now > 1e-9:
            mean = mean * (spread / now)
    return mean.astype(np.float32)


class BaselineMotion:
    def __init__(self, config: BaselineMotionConfig | None = None, device: str = "cpu"):
        self.config = config or BaselineMotionConfig()
        if self.config.mouth not in MOUTH_MODELS:
            raise InputError(f"mouth must be one of {', '.join(MOUTH_MODELS)}, not {self.config.mouth!r}")
        self.device = device
        self._audio2exp = None
        self._articulation = None
        self._audio2exp_v2 = None

    @property
    def audio2exp(self):
        """The audio-to-expression model, loaded on first use."""
        if self._audio2exp is None:
            from .audio2exp import Audio2Exp

            self._audio2exp = Audio2Exp.load(self.config.audio2exp_checkpoint, device=self.device)
        return self._audio2exp

    @property
    def articulation(self):
        """The articulation model of the content mouth, loaded on first use."""
        if self._articulation is None:
            from .articulation import Articulation

            self._articulation = Articulation.load(self.config.articulation_checkpoint)
        return self._articulation

    @property
    def audio2exp_v2(self):
        """audio2exp v2 (the content mouth's gain from the mel stream), loaded on first use."""
        if self._audio2exp_v2 is None:
            from .audio2exp_v2 import Audio2ExpV2

            self._audio2exp_v2 = Audio2ExpV2.load(self.config.audio2exp_v2_checkpoint, device=self.device)
        return self._audio2exp_v2

    def warm_up(self) -> None:
        """Load the model this mouth uses now (it loads on first use otherwise)."""
        if self.config.mouth == "audio2exp":
            self.audio2exp  # noqa: B018
        if self.config.mouth in ("content", "audio2exp-v2"):
            self.articulation  # noqa: B018
        if self.config.mouth == "audio2exp-v2":
            self.audio2exp_v2  # noqa: B018

    def to(self, device: str) -> "BaselineMotion":
        self.device = device
        for model in (self._audio2exp, self._audio2exp_v2):
            if model is not None:
                model.to(device)
        return self

    def checkpoints(self, mouth: str | None = None) -> dict[str, Path]:
        """Weight name -> folder of the weights the `mouth` (default: the config's) uses."""
        from ..io.checkpoint import resolve_checkpoint

        mouth = mouth or self.config.mouth
        if mouth in ("content", "audio2exp-v2"):
            from .articulation import CHECKPOINT_NAME as ARTICULATION
            from .audio2exp_v2 import CHECKPOINT_NAME as V2

            found = {"articulation": resolve_checkpoint(self.config.articulation_checkpoint, ARTICULATION)}
            if mouth == "audio2exp-v2":
                found["audio2exp_v2"] = resolve_checkpoint(self.config.audio2exp_v2_checkpoint, V2)
            return found
        if mouth != "audio2exp":
            return {}
        from .audio2exp import CHECKPOINT_NAME

        return {"audio2exp": resolve_checkpoint(self.config.audio2exp_checkpoint, CHECKPOINT_NAME)}

    def mouth_targets(
        self, clip: AudioClip, fps: float, basis: ExpressionBasis, mouth: str | None = None, transcript: str | None = None
    ) -> tuple[np.ndarray, list[int], np.ndarray]:
        """(T, K) absolute mouth coefficients (0 = closed), the K indices into `basis.names`
        they belong to, and (T,) loudness in [0, 1] (it also drives the nods).

        mouth: one of MOUTH_MODELS (default: the config's); transcript: the words spoken, which
            the content mouth aligns to the audio instead of recognising phones."""
        mouth = mouth or self.config.mouth
        if mouth not in MOUTH_MODELS:
            raise InputError(f"mouth must be one of {', '.join(MOUTH_MODELS)}, not {mouth!r}")
        jaw, loudness = self.jaw_opening(clip, fps)
        names = basis.names
        if mouth in ("content", "audio2exp-v2") and self.articulation_fits(basis):
            return self.content_mouth(clip, fps, basis, len(jaw), transcript, refine=mouth == "audio2exp-v2") + (loudness,)
        if mouth == "audio2exp" and set(self.audio2exp.config.expression_names) <= set(names):
            columns = [names.index(n) for n in self.audio2exp.config.expression_names]
            return self.learned_mouth(clip, fps, basis, columns, jaw, loudness), columns, loudness
        if "jaw_open" in names:
            if mouth != "loudness":
                log.info("the %s mouth needs the learned expression basis; using the loudness mouth", mouth)
            return jaw[:, None], [names.index("jaw_open")], loudness
        if mouth == "loudness" and getattr(basis, "opening", None) is not None:
            return self.loudness_on_opening(basis, jaw), list(range(len(names))), loudness
        raise InputError(
            f"the {mouth} mouth cannot drive an expression basis with coefficients {names}; "
            "the loudness mouth needs the geometric basis (config face_model: {basis: geometric})"
        )

    @staticmethod
    def loudness_on_opening(basis: ExpressionBasis, jaw: np.ndarray) -> np.ndarray:
        """(T, E) the loudness mouth's lip gap along a learned basis' mean opening direction
        (so that `mouth: loudness` can be compared on the default face model)."""
        direction = basis.opening / float(basis.opening @ basis.gap_per_unit)  # 1 IOD of gap
        return np.outer(jaw * OPEN_UNIT, direction).astype(np.float32)

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

    def articulation_fits(self, basis: ExpressionBasis) -> bool:
        """Whether the articulation table drives this basis (the learned one it was fitted on)."""
        model = self.articulation
        if not set(model.expression_names) <= set(basis.names):
            return False
        columns = [basis.names.index(n) for n in model.expression_names]
        gap_per_unit = getattr(basis, "gap_per_unit", None)
        if gap_per_unit is not None and not np.allclose(gap_per_unit[columns], model.gap_per_unit, rtol=1e-3, atol=1e-6):
            raise InputError(
                "the articulation table was fitted on another expression basis (its coefficients open the lips differently); "
                "train one on this basis with `talkinghead train articulation --basis DIR` and set motion.articulation_checkpoint"
            )
        return True

    def content_mouth(
        self, clip: AudioClip, fps: float, basis: ExpressionBasis, num_frames: int, transcript: str | None = None, refine: bool = False
    ) -> tuple[np.ndarray, list[int]]:
        """(T, K) absolute coefficients from the speech's phones (aligned to `transcript` when
        given, else recognised), sized by audio2exp v2 when `refine`, and the K basis columns
        they belong to."""
        from ..audio.phones import PhoneConfig, align_transcript, recognize_speech
        from ..io.audio import audio_from_array

        model = self.articulation
        columns = [basis.names.index(n) for n in model.expression_names]
        if clip.sample_rate != 16000:
            clip = audio_from_array(clip.samples, clip.sample_rate, 16000)
        hearing = PhoneConfig(**({"recognizer": self.config.recognizer} if self.config.recognizer else {}))
        hearings = [align_transcript(clip, transcript)] if transcript else recognize_speech(clip, hearing)
        warn_without_speech(clip, hearings[0])
        shapes = mean_mouth([model(segments, num_frames, fps) for segments in hearings], model.gap_per_unit)
        if refine:
            shapes = self.audio2exp_v2.refine(shapes, clip, fps, int(round(model.offset * fps)))
        return shapes, columns

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
        mouth: str | None = None,
        transcript: str | None = None,
    ) -> MotionSequence:
        """A MotionSequence for `clip` at `fps`.

        basis: the face model's expression basis; source_expression: (E,) the photo's own
            expression coefficients in it (basis.estimate);
            subtracted so that the targets are absolute (a closed mouth in silence).
        mouth, transcript: see mouth_targets.
        """
        rng = np.random.default_rng(seed)
        mouth = mouth or self.config.mouth
        targets, columns, loudness = self.mouth_targets(clip, fps, basis, mouth, transcript)
        num_frames = len(targets)
        motion = MotionSequence.rest(num_frames, fps, basis.names)
        motion.expression[:, columns] = expression_scale * targets - source_expression[columns]
        rotation, translation = head_motion(rng, num_frames, fps, loudness, self.config.head)
        if not still:
            motion.rotation[:], motion.translation[:] = rotation, translation
        motion.eyelids[:] = blinks(rng, num_frames, fps, self.config.blink)
        motion.meta = {"pipeline": "baseline", "seed": seed, "still": still, "mouth": mouth}
        return motion
