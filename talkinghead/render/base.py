"""The renderer interface shared by the warp renderer and the neural renderers.

A renderer is built from its own config, the pipeline's face model (basis, face frame, pivot)
and a device; it declares the motion format it accepts, which the pipeline checks when it is
built (`check_motion_format`), so a keypoint renderer is never handed basis coefficients.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ..errors import InputError
from ..facemodel.face_model import MOTION_FORMATS, FaceModel
from ..types import MotionSequence, RenderedChunk, SourceFace


class Renderer(ABC):
    #: the dataclass of the renderer's settings (its constructor's `config`)
    config_class: ClassVar[type]
    #: the motion format this renderer takes (one of facemodel.face_model.MOTION_FORMATS)
    accepts: ClassVar[str] = "basis_coefficients"
    #: CPU threads the command line renders this renderer with (None = every core). One suits
    #: the warp renderer: its per-frame work is small and the encoder runs on the other core;
    #: the font renderer's network is most of the run and renders twice as fast on 2 cores
    #: (benchmarks/bench_generate.py --threads).
    cli_threads: ClassVar[int | None] = 1

    def __init__(self, config: Any, face_model: FaceModel, device: str = "cpu"):
        self.config = config if config is not None else self.config_class()
        self.face_model = face_model
        self.device = device

    @property
    def expression_names(self) -> tuple[str, ...]:
        """Expression coefficient names this renderer understands (MotionSequence.expression_names)."""
        return self.face_model.expression_names

    def to(self, device: str) -> "Renderer":
        """Render on `device` from now on (prepared faces are device-bound: prepare again)."""
        self.device = device
        return self

    @abstractmethod
    def prepare(self, source: SourceFace) -> Any:
        """Per-photo work done once (geometry, interpolation weights, colours)."""

    @abstractmethod
    def render(self, prepared: Any, motion: MotionSequence, start: int = 0) -> RenderedChunk:
        """Render every frame of `motion` (a chunk of a longer sequence starting at `start`)."""


def check_motion_format(renderer_name: str, renderer_cls: type[Renderer], pipeline_name: str, motion_format: str) -> None:
    """InputError unless the renderer takes the motion the pipeline makes."""
    if renderer_cls.accepts not in MOTION_FORMATS:
        raise InputError(f"renderer {renderer_name} declares an unknown motion format {renderer_cls.accepts!r}")
    if renderer_cls.accepts != motion_format:
        raise InputError(
            f"renderer {renderer_name} takes {renderer_cls.accepts} motion, but the {pipeline_name} pipeline "
            f"makes {motion_format}; choose a renderer that takes {motion_format}"
        )
