"""The face model a pipeline owns and hands to both its motion model and its renderer.

It fixes what the numbers in a MotionSequence mean for a face: which expression basis the
coefficients belong to, the canonical face frame they are applied in, and the pivot the head
turns about. Motion models write in it, renderers read it, so neither reaches into the other
(a tracked pose and a rendered pose use the same pivot because both take it from here).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..face.layout import get_layout
from ..registry import EXPRESSION_BASES
from ..types import SourceFace
from .basis import ExpressionBasis
from .frame import FaceFrame, canonical_shape

log = logging.getLogger("talkinghead")

#: what a renderer can take as motion (Renderer.accepts) and what a pipeline's motion model
#: makes (Pipeline.motion_format): expression-basis coefficients + head pose (MotionSequence),
#: or keypoints (the neural renderers of the FOMM family).
MOTION_FORMATS = ("basis_coefficients", "keypoints")


@dataclass(frozen=True)
class FaceModelConfig:
    basis: str = "learned"
    """Expression basis (registry name): "learned" (PCA of real faces, MediaPipe landmarks;
    faces analysed with another landmark layout get "geometric" instead, with a notice) or
    "geometric" (hand-made deformations, any layout)."""
    basis_checkpoint: str | None = None
    """Folder of a learned basis (`talkinghead train expression-basis`); None = the shipped one."""
    pivot: tuple[float, float, float] = (0.0, 0.6, 1.1)
    """Head rotation centre in canonical units from the landmark centroid: below and behind
    the face, near the top of the neck. Tracking (motion.tracked) and rendering both use it."""


class FaceModel:
    """The expression basis, face frame and pivot of one pipeline.

    layout: the landmark layout of the pipeline's face backend; a basis learned on another
        topology is swapped for the geometric one.
    """

    motion_format = "basis_coefficients"

    def __init__(self, config: FaceModelConfig | None = None, layout: str | None = None):
        self.config = config or FaceModelConfig()
        self.basis_name = self._basis_for_layout(self.config.basis, layout)
        self.basis: ExpressionBasis = self._load_basis()
        self.pivot = tuple(float(v) for v in self.config.pivot)

    @staticmethod
    def _basis_for_layout(name: str, layout: str | None) -> str:
        supported = getattr(EXPRESSION_BASES.get(name), "layouts", None)
        if layout is None or supported is None or layout in supported:
            return name
        log.info("the %s expression basis needs %s landmarks; using the geometric basis for %s", name, "/".join(supported), layout)
        return "geometric"

    def _load_basis(self) -> ExpressionBasis:
        cls = EXPRESSION_BASES.get(self.basis_name)
        if self.config.basis_checkpoint is None or self.basis_name != self.config.basis:
            return cls()
        if not getattr(cls, "layouts", None):
            raise InputError(f"face_model.basis_checkpoint: the {self.basis_name} basis has no weights to load")
        return cls(self.config.basis_checkpoint)

    @property
    def expression_names(self) -> tuple[str, ...]:
        return self.basis.names

    def canonical(self, source: SourceFace) -> np.ndarray:
        """(N, 3) float64 the source's landmarks in its own canonical face frame."""
        return canonical_shape(source.landmarks, get_layout(source.layout))[1]

    def frame(self, source: SourceFace) -> FaceFrame:
        """The source's face frame: where the renderers put the canonical face in the photo."""
        return canonical_shape(source.landmarks, get_layout(source.layout))[0]

    def own_expression(self, source: SourceFace) -> np.ndarray:
        """(E,) float32 the photo's own expression coefficients (basis.estimate), which motion
        models subtract so that their targets are absolute (a closed mouth in silence)."""
        return self.basis.estimate(self.canonical(source), get_layout(source.layout))

    def checkpoints(self) -> dict[str, Path]:
        """Name -> folder of the weights this face model loaded (for provenance)."""
        folder = getattr(self.basis, "checkpoint", None)
        return {"expression_basis": Path(folder)} if folder is not None else {}
