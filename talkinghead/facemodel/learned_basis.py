"""An expression basis learned from real faces: PCA of tracked, pose-normalised deformations.

Per region (the lower face: lips, jaw, chin, lower cheeks; the brows and forehead) the
deformations of tracked real talking clips from each clip's closed-mouth neutral shape are
decomposed into principal components. Component k is stored as a displacement field in
canonical units (inter-ocular distance) scaled to two standard deviations of the training
data, so coefficients stay within about [-1, 1]. The eyelids come from the geometric basis,
which shuts each face's own lids exactly (MotionSequence.eyelids drives them).

The components live on the landmark topology they were learned on (MediaPipe's 478 points);
faces analysed with another layout use the geometric basis.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..face.layout import LandmarkLayout, get_layout
from ..io.checkpoint import load_checkpoint, resolve_checkpoint, save_checkpoint
from .basis import ExpressionBasis
from .geometric_basis import VISIBLE_GAP_FACTOR, GeometricBasis, inner_lip_gap

CHECKPOINT_NAME = "expression_pca"


@dataclass(frozen=True)
class LearnedBasisConfig:
    layout: str
    names: tuple[str, ...]
    regions: dict[str, int]
    """Region name -> number of components, in the order of `names`."""
    explained_variance: tuple[float, ...]
    """Share of the region's deformation variance each component explains."""


class LearnedBasis(ExpressionBasis):
    """PCA expression basis. `checkpoint`: a folder written by `fit_learned_basis`; None loads
    the shipped checkpoints/expression_pca."""

    #: landmark layouts the shipped checkpoint works with
    layouts = ("mediapipe478",)

    def __init__(self, checkpoint: str | Path | None = None):
        folder = resolve_checkpoint(checkpoint, CHECKPOINT_NAME)
        self.checkpoint = folder
        config, tensors = load_checkpoint(folder, "learned expression basis")
        config["names"] = tuple(config["names"])
        config["explained_variance"] = tuple(config["explained_variance"])
        self.config = LearnedBasisConfig(**config)
        self.names = self.config.names
        self.components = tensors["components"].astype(np.float64)  # (E, N, 3) canonical units
        self.neutral = tensors["neutral"].astype(np.float64)  # (N, 3) mean closed-mouth shape
        self.opening = tensors["opening"].astype(np.float64)  # (E,) coefficients of a 1-IOD lip gap
        self._flat_pinv = np.linalg.pinv(self.components.reshape(len(self.names), -1))
        layout = get_layout(self.config.layout)
        self.gap_per_unit = np.array([inner_lip_gap(c, layout) for c in self.components])  # (E,) IOD
        self._geometric = GeometricBasis()

    def _check(self, layout: LandmarkLayout) -> None:
        if layout.name != self.config.layout:
            raise InputError(
                f"the learned expression basis needs {self.config.layout} landmarks, the face has {layout.name}; "
                "use the geometric basis (config face_model: {basis: geometric}) with this face backend"
            )

    def deltas(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        self._check(layout)
        return self.components.astype(np.float32)

    def eyelid_deltas(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        return self._geometric.eyelid_deltas(canonical, layout)

    def estimate(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        """The photo's mouth opening expressed along the data's mean opening direction. One
        photo cannot tell identity from expression, so only the visible lip gap is measured."""
        self._check(layout)
        gap = VISIBLE_GAP_FACTOR * inner_lip_gap(canonical, layout) - inner_lip_gap(self.neutral, layout)
        return (max(gap, 0.0) * self.opening).astype(np.float32)

    def project(self, deformations: np.ndarray, neutral: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        """Least-squares coefficients of (T, N, 3) deformations -> (T, E) float32."""
        self._check(layout)
        return (deformations.reshape(len(deformations), -1) @ self._flat_pinv).astype(np.float32)


def region_points(neutral: np.ndarray, layout: LandmarkLayout) -> dict[str, np.ndarray]:
    """(K,) landmark indices of each region, from a canonical neutral shape (y down)."""
    nose_y = neutral[layout.nose_tip, 1]
    brows = list(layout.left_brow + layout.right_brow)
    brow_y = neutral[brows, 1].max()
    eyes = set(layout.left_eye_upper + layout.left_eye_lower + layout.right_eye_upper + layout.right_eye_lower)
    eyes |= set(layout.irises)
    below_nose = [i for i in range(layout.num_points) if neutral[i, 1] > nose_y and i not in eyes]
    above_brows = [i for i in range(layout.num_points) if neutral[i, 1] <= brow_y and i not in eyes]
    return {"mouth": np.array(sorted(below_nose)), "brows": np.array(sorted(set(above_brows) | set(brows)))}


def fit_learned_basis(
    deformations: np.ndarray,
    neutral: np.ndarray,
    layout: LandmarkLayout,
    regions: dict[str, int],
    out: str | Path,
    card: str | None = None,
) -> LearnedBasis:
    """PCA per region of (T, N, 3) deformations (frames of many clips, each from its own clip's
    neutral) and write the checkpoint to `out`. neutral: (N, 3) mean neutral over the clips."""
    points = region_points(neutral, layout)
    components, names, explained = [], [], []
    for region, count in regions.items():
        idx = points[region]
        flat = deformations[:, idx].reshape(len(deformations), -1)
        # Uncentred: 0 must stay "the neutral face", not "the average expression".
        _, s, vt = np.linalg.svd(flat, full_matrices=False)
        std = s / np.sqrt(len(flat))
        for k in range(count):
            field = np.zeros((layout.num_points, 3))
            field[idx] = (vt[k] * 2 * std[k]).reshape(-1, 3)
            components.append(field)
            names.append(f"{region}_{k + 1}")
            explained.append(float(s[k] ** 2 / max((s**2).sum(), 1e-12)))
    components = np.stack(components)
    coefficients = deformations.reshape(len(deformations), -1) @ np.linalg.pinv(components.reshape(len(components), -1))
    config = LearnedBasisConfig(layout.name, tuple(names), dict(regions), tuple(explained))
    tensors = {
        "components": components.astype(np.float32),
        "neutral": neutral.astype(np.float32),
        "opening": opening_direction(deformations, coefficients, layout).astype(np.float32),
    }
    save_checkpoint(out, asdict(config), tensors, card)
    return LearnedBasis(out)


def opening_direction(deformations: np.ndarray, coefficients: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
    """(E,) coefficients per unit (1 IOD) of inner-lip gap: the least-squares regression of the
    coefficients on the measured gap change over the training frames."""
    gap = np.array([inner_lip_gap(d, layout) for d in deformations])  # linear: gap change
    return (gap @ coefficients) / max(float(gap @ gap), 1e-12)
