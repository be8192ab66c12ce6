"""The `opt` pipeline (OPT): a talking head whose head pose the user controls, from a reference
video of anyone (`--pose-video`) and/or explicit pose curves (`--pose`), while the mouth follows
the driving speech's content and the face keeps the photo's identity.

Speech content, not speaker: the mouth comes from the content mouth (recognised phones and
words through the articulation table, motion.baseline), whose inputs carry almost no speaker
information (benchmarks/content_disentanglement.py; benchmarks/opt_speaker_invariance.py
drives one face with the same sentence in different voices). Identity: only the reference's
pose crosses over, never its face shape; the mouth and eyelids move in the photo's own face
frame (the face model's basis about the photo's own landmarks), so the facial structure is
the photo's at every pose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import InputError
from ..face.tracking import TrackerConfig
from ..io.video import probe_video
from ..motion.baseline import BaselineMotion, BaselineMotionConfig
from ..motion.opt import PoseCurves, controlled_pose, read_pose_file, reference_pose, retargeted_rotation
from ..types import AudioClip, MotionSequence, SourceFace
from .base import GenerateOptions, TalkingHeadPipeline
from .config import PipelineConfig
from .inputs import PoseControlInputs
from .output import GenerationResult

MAX_POSE_SCALE = 3.0


@dataclass(frozen=True)
class OPTOptions(GenerateOptions):
    pose_scale: float = field(
        default=1.0,
        metadata={"help": "how much of the pose video's head motion to follow: 1 = as it moves, 0.5 = half as much, "
                          "0 = none (pose curves from --pose are applied as written)"},
    )  # fmt: skip
    pose_anchor: Literal["neutral", "first-frame"] = field(
        default="neutral",
        metadata={"help": "the pose video's motion is taken relative to its median pose (neutral), or to its first "
                          "frame (first-frame: when the photo is that frame, as in reconstruction)"},
    )  # fmt: skip


@dataclass(frozen=True)
class OPTMotionConfig:
    face: BaselineMotionConfig = field(default_factory=BaselineMotionConfig)
    """Mouth and blinks (the baseline's content mouth; its head settings are not used)."""
    tracker: TrackerConfig = field(default_factory=lambda: TrackerConfig(max_size=512))
    """How the pose video's face is tracked (frames shrunk to 512 px: pose needs no more)."""
    rotation_fit: Literal["by-anchor", "similarity", "perspective"] = "by-anchor"
    """How the pose video's head rotation is read from its landmarks (TrackAnalysisConfig);
    by-anchor: motion.opt.ANCHOR_ROTATION_FIT, the fit measured best for each anchor."""
    pose_gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    """Gain on the upright yaw, pitch, roll changes as rendered (the reference's pose itself is
    taken as tracked)."""


@dataclass(frozen=True)
class OPTConfig(PipelineConfig):
    motion: OPTMotionConfig = field(default_factory=OPTMotionConfig)


class OPTPipeline(TalkingHeadPipeline):
    name = "opt"
    config_class = OPTConfig
    inputs_class = PoseControlInputs
    options_class = OPTOptions
    checkpoint_fields = {
        **TalkingHeadPipeline.checkpoint_fields,
        "audio2exp": "motion.face.audio2exp_checkpoint",
        "audio2exp_v2": "motion.face.audio2exp_v2_checkpoint",
        "articulation": "motion.face.articulation_checkpoint",
    }

    def __init__(self, config: OPTConfig | None = None):
        super().__init__(config)
        self.face_motion = BaselineMotion(self.config.motion.face, self.config.device)

    def to(self, device: str) -> "OPTPipeline":
        super().to(device)
        self.face_motion.to(device)
        return self

    def warm_up(self) -> "OPTPipeline":
        super().warm_up()
        self.face_motion.warm_up()
        return self

    def checkpoints(self, options=None) -> dict[str, Path]:
        return {**super().checkpoints(), **self.face_motion.checkpoints(getattr(options, "mouth", None))}

    @classmethod
    def parse_options(cls, options: dict) -> OPTOptions:
        opts = super().parse_options(options)
        if not 0.0 <= opts.pose_scale <= MAX_POSE_SCALE:
            raise InputError(f"pose_scale must be between 0 and {MAX_POSE_SCALE:g}, got {opts.pose_scale:g}")
        return opts

    # -- the method ---------------------------------------------------------------------------
    def run(self, inputs: PoseControlInputs, *, seed: int, options: OPTOptions) -> GenerationResult:
        curves = self.pose_curves(inputs, options)  # a bad pose file or video fails before any work
        if inputs.pose_video is not None:
            probe_video(inputs.pose_video)
        source = self.load_source(inputs.image, options)
        clip = self.load_audio(inputs.audio)
        pose = None
        if not options.still:
            frames = clip.num_frames(options.fps)
            pose = controlled_pose(frames, options.fps, video=self.video_pose(inputs, options), curves=curves,
                                   video_scale=options.pose_scale, name=str(inputs.pose_video or inputs.pose))  # fmt: skip
        motion = self.make_motion(source, clip, seed=seed, options=options, transcript=inputs.transcript_text(), pose=pose)
        motion.meta.update({"pose_video": _name(inputs.pose_video), "pose": _name(inputs.pose)})
        return GenerationResult(source=source, audio=clip, motion=motion, renderer=self.renderer)

    def make_motion(
        self, source: SourceFace, clip: AudioClip, *, seed: int, options: OPTOptions, transcript: str | None = None,
        pose: PoseCurves | None = None,
    ) -> MotionSequence:  # fmt: skip
        """The content mouth and blinks for this face and speech, the head posed by `pose`
        (as many frames as the motion; None: the head still)."""
        motion = self.face_motion(
            clip, options.fps, self.face_model.basis, self.face_model.own_expression(source), seed=seed, still=True,
            expression_scale=options.expression_scale, mouth=options.mouth, transcript=transcript,
        )  # fmt: skip
        if pose is not None:
            changes = pose.rotation[: len(motion)] * np.asarray(self.config.motion.pose_gain, np.float32)
            motion.rotation[:] = retargeted_rotation(changes, self.face_model.frame(source).rotation)
            motion.translation[:] = pose.translation[: len(motion)]
            motion.scale[:] = pose.scale[: len(motion)]
        motion.meta = {"pipeline": "opt", "seed": seed, "still": pose is None, "mouth": motion.meta.get("mouth"),
                       "pose_scale": options.pose_scale, "pose_anchor": options.pose_anchor}  # fmt: skip
        return motion

    def check(self, inputs: PoseControlInputs, **options) -> dict:
        report = super().check(inputs, **options)
        opts = self.parse_options(options)
        curves = self.pose_curves(inputs, opts)
        if curves is not None:
            report["pose"] = f"{len(curves)} frames of pose curves ({len(curves) / curves.fps:.2f} s)"
        if inputs.pose_video is not None:
            info = probe_video(inputs.pose_video)
            report["pose video"] = f"{info.width}x{info.height}, {info.fps:g} fps, {info.duration:.2f} s"
        return report

    def pose_curves(self, inputs: PoseControlInputs, options: OPTOptions) -> PoseCurves | None:
        """The --pose file's curves at the video's frame rate (None without one); InputError
        when neither a pose video nor a pose file is given."""
        if inputs.pose_video is None and inputs.pose is None:
            raise InputError("the opt pipeline follows a given head pose: give --pose-video REF.mp4 and/or --pose POSE.csv "
                             "(or use another pipeline for a generated head motion)")  # fmt: skip
        return read_pose_file(inputs.pose, options.fps) if inputs.pose is not None else None

    def video_pose(self, inputs: PoseControlInputs, options: OPTOptions) -> PoseCurves | None:
        if inputs.pose_video is None:
            return None
        fit = self.config.motion.rotation_fit
        return reference_pose(inputs.pose_video, self.face_model.pivot, anchor=options.pose_anchor,
                              tracker=self.config.motion.tracker, backend=self.face_backend,
                              rotation_fit=None if fit == "by-anchor" else fit)  # fmt: skip


def _name(value) -> str | None:
    return str(value) if value is not None else None
