"""The expression basis interface: named landmark deformations in the canonical face frame.

A basis turns expression coefficients into landmark displacements for one particular face.
The geometric basis (hand-made deformations) ships now; a basis learned from tracked real
faces can replace it by implementing the same methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..face.layout import LandmarkLayout


class ExpressionBasis(ABC):
    #: names of the coefficients, in order; MotionSequence.expression_names must match
    names: tuple[str, ...]

    @abstractmethod
    def deltas(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        """Displacement of each landmark per unit of each coefficient.

        canonical: (N, 3) the face's own landmarks in canonical units (see face.frame).
        Returns (E, N, 3) float32 in canonical units.
        """

    @abstractmethod
    def eyelid_deltas(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        """(2, N, 3) float32: displacement that shuts the (left, right) eye fully, from the
        face's own eyelid position."""

    @abstractmethod
    def estimate(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        """(E,) float32 coefficients of the face's own expression relative to a neutral,
        closed-mouth face; motion models subtract it to reach absolute targets (e.g. a closed
        mouth in silence even when the photo shows an open one)."""

    def project(self, deformations: np.ndarray, neutral: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        """Coefficients of tracked expressions: (T, N, 3) displacements from a face's `neutral`
        ((N, 3)), canonical units -> (T, E) float32. This default measures each frame with
        `estimate`; bases with linear components override it with a least-squares fit."""
        rest = self.estimate(neutral, layout)
        return np.stack([self.estimate(neutral + d, layout) - rest for d in deformations]).astype(np.float32)

    def index(self, name: str) -> int:
        return self.names.index(name)
