"""The `mfr` pipeline (MFR-Net): a listener photo that listens and responds to a speaker video.

    talkinghead listen --speaker-video speaker.mp4 --image listener.jpg --out out.mp4 --attitude positive

The speaker video is tracked (pose, mouth, eyelids) and its sound analysed (prosody, phone
classes: motion.speaker_features); MFR-Net's diffusion model (motion.mfr) samples the
listener's head pose, expression and eyelids conditioned on them, on the photo's identity
features and on the attitude; the renderer animates the photo. The listener's mouth stays
closed or smiles: the model was trained on listeners who do not speak. The video carries the
speaker's sound and lasts as long as it; `side_by_side` puts the speaker video beside it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import InputError
from ..face.tracking import FaceTracker, TrackerConfig
from ..io.audio import load_video_audio
from ..io.checkpoint import resolve_checkpoint
from ..io.video import probe_video
from ..motion.feature_aggregation import ATTITUDES
from ..motion.mfr import CHECKPOINT_NAME, EYELID_NAMES, POSE_NAMES, MFRNet
from ..motion.speaker_features import SpeakerFeatures, speaker_features
from ..motion.tracked import analyse_track
from ..render.side_by_side import SideBySideRenderer
from ..types import AudioClip, MotionSequence, SourceFace
from .base import FaceOptions, TalkingHeadPipeline
from .config import PipelineConfig
from .inputs import ListenerInputs
from .output import GenerationResult

log = logging.getLogger("talkinghead")

MAX_DIVERSITY = 2.0
MAX_ATTITUDE_STRENGTH = 5.0


@dataclass(frozen=True)
class MFROptions(FaceOptions):
    attitude: Literal["positive", "neutral", "negative"] = field(
        default="neutral", metadata={"help": "how the listener takes what is said: positive (nods, smiles), neutral, negative"}
    )
    attitude_strength: float = field(
        default=2.0, metadata={"help": "how strongly the attitude shows (classifier-free guidance; 1 = as trained, 0 = none asked)"}
    )
    diversity: float = field(default=1.0, metadata={"help": "spread of the sampled response (0 = the same for every seed)"})
    side_by_side: bool = field(default=False, metadata={"help": "put the speaker video to the left of the listener"})


@dataclass(frozen=True)
class MFRMotionConfig:
    checkpoint: str | None = None
    """MFR-Net's weights (None: the shipped checkpoints/mfr)."""
    tracker: TrackerConfig = field(default_factory=lambda: TrackerConfig(max_size=512))
    """How the speaker's face is tracked (frames shrunk to 512 px: pose and mouth need no more)."""
    pose_gain: tuple[float, float, float] = (2.0, 1.2, 1.0)
    """Gain on the sampled yaw, pitch, roll as rendered. The warp renderer shows a turn smaller
    than it is asked for (it moves FaceMesh's fairly flat landmarks): measured with the
    evaluator (dlib) on two real portraits listening to a held-out 20 s speaker, yaw std read
    0.46 and 1.0 degrees for 1.7 and 2.3 asked, pitch 0.79 and 0.90 for 0.95 and 1.04."""


@dataclass(frozen=True)
class MFRConfig(PipelineConfig):
    motion: MFRMotionConfig = field(default_factory=MFRMotionConfig)


class MFRPipeline(TalkingHeadPipeline):
    name = "mfr"
    kind = "listener"
    config_class = MFRConfig
    inputs_class = ListenerInputs
    options_class = MFROptions
    checkpoint_fields = {**TalkingHeadPipeline.checkpoint_fields, "mfr": "motion.checkpoint"}

    def __init__(self, config: MFRConfig | None = None):
        super().__init__(config)
        self._net: MFRNet | None = None
        self._speaker: tuple[tuple, SpeakerFeatures] | None = None

    @property
    def net(self) -> MFRNet:
        if self._net is None:
            self._net = MFRNet.load(self.config.motion.checkpoint, device=self.config.device)
            if tuple(self._net.config.expression_names) != tuple(self.face_model.expression_names):
                raise InputError(f"the mfr weights were trained for the expression basis {self._net.config.expression_names}, "
                                 f"this pipeline's face model has {self.face_model.expression_names}")  # fmt: skip
        return self._net

    def to(self, device: str) -> "MFRPipeline":
        super().to(device)
        if self._net is not None:
            self._net.to(device)
        return self

    def warm_up(self) -> "MFRPipeline":
        super().warm_up()
        self.net  # noqa: B018 (the property loads the network)
        return self

    def checkpoints(self, options: Any = None) -> dict[str, Path]:
        return {**super().checkpoints(), "mfr": resolve_checkpoint(self.config.motion.checkpoint, CHECKPOINT_NAME)}

    @classmethod
    def parse_options(cls, options: dict) -> MFROptions:
        opts = super().parse_options(options)
        if not 0.0 <= opts.diversity <= MAX_DIVERSITY:
            raise InputError(f"diversity must be between 0 and {MAX_DIVERSITY:g}, got {opts.diversity:g}")
        if not 0.0 <= opts.attitude_strength <= MAX_ATTITUDE_STRENGTH:
            raise InputError(f"attitude_strength must be between 0 and {MAX_ATTITUDE_STRENGTH:g}, got {opts.attitude_strength:g}")
        if opts.attitude not in ATTITUDES:
            raise InputError(f"attitude must be one of {', '.join(ATTITUDES)}, got {opts.attitude!r}")
        return opts

    # -- the method ---------------------------------------------------------------------------
    def run(self, inputs: ListenerInputs, *, seed: int, options: MFROptions) -> GenerationResult:
        clip = self.speaker_audio(inputs.speaker_video)
        source = self.load_source(inputs.image, options)
        speaker = self.speaker(inputs.speaker_video, clip)
        motion = self.make_motion(source, clip, seed=seed, options=options, speaker=speaker)
        return self.result(inputs, source, clip, motion, options)

    def run_replay(self, inputs: ListenerInputs, motion: MotionSequence, *, seed: int, options: MFROptions) -> GenerationResult:
        clip = self.speaker_audio(inputs.speaker_video)
        return self.result(inputs, self.load_source(inputs.image, options), clip, motion, options)

    def result(self, inputs: ListenerInputs, source: SourceFace, clip: AudioClip, motion: MotionSequence,
               options: MFROptions) -> GenerationResult:  # fmt: skip
        renderer = SideBySideRenderer(self.renderer, inputs.speaker_video) if options.side_by_side else self.renderer
        return GenerationResult(source=source, audio=clip, motion=motion, renderer=renderer)

    def check(self, inputs: ListenerInputs, **options: Any) -> dict[str, Any]:
        opts = self.parse_options(options)
        inputs.validate()
        clip = self.speaker_audio(inputs.speaker_video)
        source = self.load_source(inputs.image, opts)
        info = probe_video(inputs.speaker_video)
        x0, y0, x1, y1 = (int(round(v)) for v in source.box)
        return {"image": f"{source.size[1]}x{source.size[0]} with a face at ({x0}, {y0})-({x1}, {y1})",
                "speaker video": f"{info.width}x{info.height}, {info.fps:g} fps, {clip.duration:.2f} s of sound",
                "frames": clip.num_frames(opts.fps)}  # fmt: skip

    def speaker_audio(self, video: str | Path) -> AudioClip:
        probe_video(video)  # an unreadable file fails here, with the video's own message
        clip = load_video_audio(video, self.audio_sample_rate)
        if clip is None:
            raise InputError(f"{video}: the speaker video has no sound; the listener responds to the speaker's voice")
        return clip

    def speaker(self, video: str | Path, clip: AudioClip) -> SpeakerFeatures:
        """The speaker's features at the model's frame rate, as long as the sound. The last
        video's are kept: other seeds and attitudes for one speaker skip tracking it again."""
        stat = Path(video).stat()
        key = (str(Path(video).resolve()), stat.st_size, stat.st_mtime_ns)
        if self._speaker is not None and self._speaker[0] == key:
            return self._speaker[1]
        tracker = FaceTracker(self.config.motion.tracker, backend=self.face_backend)
        try:
            track = tracker.track(video)
        except InputError as exc:
            raise InputError(f"speaker video: {exc}") from None
        features = speaker_features(analyse_track(track), clip, self.face_model.pivot, self.net.config.fps)
        self._speaker = (key, features)
        return features

    def make_motion(self, source: SourceFace, clip: AudioClip, *, seed: int, options: MFROptions,
                    transcript: str | None = None, speaker: SpeakerFeatures | None = None) -> MotionSequence:  # fmt: skip
        """The listener's motion for `speaker` (its features, as long as `clip`)."""
        if speaker is None:
            raise InputError("the mfr pipeline needs the speaker's features (a speaker video)")
        net = self.net
        own = self.face_model.own_expression(source)
        values = net.sample(speaker.values, own, ATTITUDES.index(options.attitude), seed=seed,
                            diversity=options.diversity, guidance=options.attitude_strength)  # fmt: skip
        values[:, : len(POSE_NAMES)] *= np.asarray(self.config.motion.pose_gain, np.float32)
        motion = listener_motion(values, net.config.fps, self.face_model.expression_names, own, options)
        motion = motion.resampled(options.fps).with_length(clip.num_frames(options.fps))
        motion.meta = {"pipeline": "mfr", "seed": seed, "attitude": options.attitude, "diversity": options.diversity,
                       "attitude_strength": options.attitude_strength, "still": options.still}  # fmt: skip
        return motion


def listener_motion(values: np.ndarray, fps: float, names: tuple[str, ...], own: np.ndarray, options: MFROptions) -> MotionSequence:
    """MFR-Net's (T, C) output as a MotionSequence for the photo: pose about the photo's own,
    expression relative to the photo's own (the model's coefficients are absolute), eyelids in [0, 1]."""
    p, e = len(POSE_NAMES), len(names)
    rotation = np.zeros_like(values[:, :p]) if options.still else values[:, :p]
    expression = values[:, p : p + e] * options.expression_scale - own[None]
    eyelids = np.clip(values[:, p + e : p + e + len(EYELID_NAMES)], 0.0, 1.0)
    motion = MotionSequence.rest(len(values), fps, names)
    return replace(motion, rotation=rotation.astype(np.float32), expression=expression.astype(np.float32),
                   eyelids=eyelids.astype(np.float32))  # fmt: skip
