"""The `baseline` pipeline: loudness-driven mouth, random natural head motion, blinks,
rendered by the training-free warp renderer."""

from __future__ import annotations

from typing import Any

from ..face.frame import canonical_shape
from ..face.layout import get_layout
from ..motion.baseline import BaselineMotion, BaselineMotionConfig
from ..types import AudioClip, MotionSequence, SourceFace
from .base import GenerateOptions, Pipeline


class BaselinePipeline(Pipeline):
    name = "baseline"
    config_class = BaselineMotionConfig

    def __init__(self, config: BaselineMotionConfig | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.motion_model = BaselineMotion(config)

    def make_motion(self, source: SourceFace, clip: AudioClip, *, seed: int, options: GenerateOptions) -> MotionSequence:
        layout = get_layout(source.layout)
        _, canonical = canonical_shape(source.landmarks, layout)
        own = self.renderer.basis.estimate(canonical, layout)
        return self.motion_model(
            clip,
            options.fps,
            self.renderer.basis,
            own,
            seed=seed,
            still=options.still,
            expression_scale=options.expression_scale,
        )
