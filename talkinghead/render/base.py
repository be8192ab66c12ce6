"""The renderer interface shared by the warp renderer and the neural renderers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from ..types import MotionSequence, RenderedChunk, SourceFace


class Renderer(ABC):
    #: expression coefficient names this renderer understands (MotionSequence.expression_names)
    expression_names: tuple[str, ...]

    @abstractmethod
    def prepare(self, source: SourceFace) -> Any:
        """Per-photo work done once (geometry, interpolation weights, colours)."""

    @abstractmethod
    def render(self, prepared: Any, motion: MotionSequence, start: int = 0) -> RenderedChunk:
        """Render every frame of `motion` (a chunk of a longer sequence starting at `start`)."""
