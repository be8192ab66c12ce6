"""Public entry points: `generate()` and `load_pipeline()`."""

from __future__ import annotations

from typing import Any

from .registry import DEFAULT_PIPELINE, PIPELINES
from .types import GenerationResult


def load_pipeline(name: str = DEFAULT_PIPELINE, **kwargs: Any):
    """Build a pipeline by its registry name (see `talkinghead info`)."""
    return PIPELINES.get(name)(**kwargs)


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
