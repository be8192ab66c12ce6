"""The `baseline` pipeline: loudness-driven mouth, random natural head motion, blinks,
rendered by the training-free warp renderer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..motion.baseline import BaselineMotion, BaselineMotionConfig
from ..types import AudioClip, MotionSequence, SourceFace
from .base import GenerateOptions, TalkingHeadPipeline
from .config import PipelineConfig


@dataclass(frozen=True)
class BaselineConfig(PipelineConfig):
    motion: BaselineMotionConfig = field(default_factory=BaselineMotionConfig)


class BaselinePipeline(TalkingHeadPipeline):
    name = "baseline"
    config_class = BaselineConfig
    checkpoint_fields = {
        **TalkingHeadPipeline.checkpoint_fields,
        "audio2exp": "motion.audio2exp_checkpoint",
        "audio2exp_v2": "motion.audio2exp_v2_checkpoint",
        "articulation": "motion.articulation_checkpoint",
    }

    def __init__(self, config: BaselineConfig | None = None):
        super().__init__(config)
        self.motion_model = BaselineMotion(self.config.motion, self.config.device)

    def to(self, device: str) -> "BaselinePipeline":
        super().to(device)
        self.motion_model.to(device)
        return self

    def warm_up(self) -> "BaselinePipeline":
        super().warm_up()
        self.motion_model.warm_up()
        return self

    def checkpoints(self, options=None) -> dict[str, Path]:
        return {**super().checkpoints(), **self.motion_model.checkpoints(getattr(options, "mouth", None))}

    def make_motion(
        self, source: SourceFace, clip: AudioClip, *, seed: int, options: GenerateOptions, transcript: str | None = None
    ) -> MotionSequence:
        return self.motion_model(
            clip,
            options.fps,
            self.face_model.basis,
            self.face_model.own_expression(source),
            seed=seed,
            still=options.still,
            expression_scale=options.expression_scale,
            mouth=options.mouth,
            transcript=transcript,
        )
