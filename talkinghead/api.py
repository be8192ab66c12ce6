"""Public entry points: `generate()` and `load_pipeline()`."""

from __future__ import annotations

from typing import Any

from .config import override
from .registry import DEFAULT_PIPELINE, DEFAULT_RENDERER, PIPELINES, RENDERERS
from .types import GenerationResult


def load_pipeline(name: str = DEFAULT_PIPELINE, *, overrides: dict[str, Any] | None = None, **kwargs: Any):
    """Build a pipeline by its registry name (see `talkinghead info`).

    overrides: {"motion": {...}, "renderer": {...}} changes to the default configs (see
        talkinghead.config); kwargs go to the pipeline's constructor.
    """
    cls = PIPELINES.get(name)
    overrides = overrides or {}
    if "motion" in overrides:
        kwargs["config"] = override(cls.config_class(), overrides["motion"], f"{name} motion config")
    if "renderer" in overrides:
        renderer = RENDERERS.get(kwargs.get("renderer", DEFAULT_RENDERER))
        kwargs["renderer_config"] = override(renderer.config_class(), overrides["renderer"], "renderer config")
    return cls(**kwargs)


def generate(source_image, audio, *, pipeline: str = DEFAULT_PIPELINE, seed: int | None = None, **options: Any) -> GenerationResult:
    """One call from a photo and a speech clip to a talking-head video.

    >>> result = generate("face.jpg", "speech.wav", seed=0)
    >>> result.save("out.mp4")
    """
    pipe = load_pipeline(pipeline)
    try:
        return pipe.generate(source_image, audio, seed=seed, **options)
    finally:
        pipe.close()
