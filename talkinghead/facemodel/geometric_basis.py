"""A hand-made expression basis: jaw opening, smile, lip rounding and brows, plus eyelids.

Each component is a smooth displacement field over the face's own canonical landmarks
(units: inter-ocular distance, IOD), so it adapts to any face shape and any landmark layout.
Magnitudes of one unit are set to a large but natural expression:
  jaw_open   1 = the lower lip drops by OPEN_UNIT IOD (a wide "ah"), the jaw rotating about a
               hinge behind the cheeks, so the chin moves down and slightly back;
  mouth_wide 1 = each mouth corner moves 0.12 IOD outwards and 0.05 up (a smile / "ee");
  lip_round  1 = the lips narrow by 30 % and push 0.1 IOD forward (an "oo");
  brow_raise 1 = the brows rise by 0.15 IOD, the forehead follows.
"""

from __future__ import annotations

import numpy as np

from ..face.layout import LandmarkLayout
from .basis import ExpressionBasis

OPEN_UNIT = 0.45
# FaceMesh puts the inner-lip points of parted lips slightly inside the visible lip edges, so
# closing the mouth by exactly the landmarks' gap still shows a dark sliver (measured on a
# portrait with parted lips: dlib mouth opening 0.029 at 1.0x, 0.016 at 1.3x; over a whole
# video, with the frames around pauses, 0.030 at 1.3x). The photo's own
# opening is therefore estimated this much larger.
VISIBLE_GAP_FACTOR = 1.5
# How far behind the nose tip the jaw hinge sits, in IOD (the temporomandibular joint).
HINGE_DEPTH = 1.3


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def inner_lip_gap(canonical: np.ndarray, layout: LandmarkLayout) -> float:
    """Mean vertical gap between the inner lips over the middle half of the mouth, in the
    units of `canonical` ((N, 3) or (N, 2+) points)."""
    upper, lower = np.array(layout.inner_lip_upper), np.array(layout.inner_lip_lower)
    n = len(upper)
    middle = slice(n // 4, n - n // 4)
    return float(np.mean(canonical[lower[middle], 1] - canonical[upper[middle], 1]))


class MouthGeometry:
    """Reference points of one face's mouth in canonical units."""

    def __init__(self, q: np.ndarray, layout: LandmarkLayout):
        self.center = q[list(layout.inner_lip_upper + layout.inner_lip_lower)].mean(axis=0)
        right, left = q[layout.outer_lip_upper[0]], q[layout.outer_lip_upper[-1]]
        self.corners = np.stack([right, left])
        self.half_width = max(abs(left[0] - right[0]) / 2, 1e-3)
        self.lower = sorted(set(layout.inner_lip_lower[1:-1] + layout.outer_lip_lower[1:-1]))
        self.upper = sorted(set(layout.inner_lip_upper[1:-1] + layout.outer_lip_upper[1:-1]))
        self.corner_ids = sorted(
            {layout.inner_lip_upper[0], layout.inner_lip_upper[-1], layout.outer_lip_upper[0], layout.outer_lip_upper[-1]}
        )
        self.lips = sorted(set(self.lower) | set(self.upper) | set(self.corner_ids))


class GeometricBasis(ExpressionBasis):
    names = ("jaw_open", "mouth_wide", "lip_round", "brow_raise")

    def deltas(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        q = canonical.astype(np.float64)
        mouth = MouthGeometry(q, layout)
        fields = [
            self._jaw_open(q, layout, mouth),
            self._mouth_wide(q, mouth),
            self._lip_round(q, mouth),
            self._brow_raise(q, layout),
        ]
        out = np.stack(fields).astype(np.float32)
        out[:, list(layout.irises)] = 0.0  # the eyeballs do not deform
        return out

    def _jaw_open(self, q: np.ndarray, layout: LandmarkLayout, mouth: MouthGeometry) -> np.ndarray:
        nose = q[layout.nose_tip]
        hinge_y, hinge_z = nose[1], nose[2] + HINGE_DEPTH
        # Linearised rotation about the hinge axis (parallel to x): points below and in front
        # of the hinge move down and back, those near the hinge barely move.
        direction = np.stack([np.zeros(len(q)), hinge_z - q[:, 2], q[:, 1] - hinge_y], axis=1)
        lower_center = q[layout.inner_lip_lower[len(layout.inner_lip_lower) // 2]]
        theta = OPEN_UNIT / max(hinge_z - lower_center[2], 0.3)
        weight = smoothstep(mouth.center[1] - 0.15, mouth.center[1] + 0.25, q[:, 1])
        weight[mouth.upper] = 0.0
        weight[mouth.lower] = 1.0
        weight[mouth.corner_ids] = 0.45
        field = theta * weight[:, None] * direction
        field[mouth.upper, 1] -= 0.08 * OPEN_UNIT  # the upper lip lifts a little as the mouth opens
        return field

    def _mouth_wide(self, q: np.ndarray, mouth: MouthGeometry) -> np.ndarray:
        field = np.zeros_like(q)
        t = np.clip((q[:, 0] - mouth.center[0]) / mouth.half_width, -1.2, 1.2)
        lip_move = np.stack([0.12 * t, -0.05 * t**2, np.zeros(len(q))], axis=1)
        field[mouth.lips] = lip_move[mouth.lips]
        # Cheeks next to the corners are pulled along.
        near = np.linalg.norm(q[:, None, :2] - mouth.corners[None, :, :2], axis=2)
        nearest = near.argmin(axis=1)
        corner_move = np.array([[-0.12, -0.05, 0.0], [0.12, -0.05, 0.0]])
        pull = 0.6 * np.exp(-((near.min(axis=1) / 0.35) ** 2))
        others = np.setdiff1d(np.arange(len(q)), mouth.lips)
        field[others] = pull[others, None] * corner_move[nearest[others]]
        return field

    def _lip_round(self, q: np.ndarray, mouth: MouthGeometry) -> np.ndarray:
        offset = q - mouth.center
        weight = np.exp(-((np.linalg.norm(offset[:, :2], axis=1) / (1.3 * mouth.half_width)) ** 2))
        weight[mouth.lips] = 1.0
        field = np.zeros_like(q)
        field[:, 0] = -0.3 * offset[:, 0] * weight
        field[:, 2] = -0.1 * weight
        return field

    def _brow_raise(self, q: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        brows = list(layout.left_brow + layout.right_brow)
        distance = np.linalg.norm(q[:, None, :2] - q[None, brows, :2], axis=2).min(axis=1)
        brow_y = q[brows, 1].mean()
        # Above the brows the forehead follows; below them the fall-off is quick so the lids stay.
        reach = np.where(q[:, 1] < brow_y, 0.6, 0.12)
        weight = np.exp(-((distance / reach) ** 2))
        eyes = list(layout.left_eye_upper + layout.left_eye_lower + layout.right_eye_upper + layout.right_eye_lower)
        weight[eyes] = 0.0
        weight[brows] = 1.0
        field = np.zeros_like(q)
        field[:, 1] = -0.15 * weight
        return field

    def eyelid_deltas(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        q = canonical.astype(np.float64)
        out = np.zeros((2,) + q.shape)
        eyes = ((layout.left_eye_upper, layout.left_eye_lower), (layout.right_eye_upper, layout.right_eye_lower))
        lids = set(layout.left_eye_upper + layout.left_eye_lower + layout.right_eye_upper + layout.right_eye_lower)
        for side, (upper, lower) in enumerate(eyes):
            up, low = np.array(upper[1:-1]), np.array(lower[1:-1])
            gap = q[low] - q[up]
            # The upper lid does most of the travel, as in a real blink.
            out[side, up] = 0.85 * gap
            out[side, low] = -0.15 * gap
            # Skin just above the upper lid (the crease) stretches down with it.
            others = np.array(sorted(set(range(len(q))) - lids - set(layout.irises)))
            distance = np.linalg.norm(q[others, None, :2] - q[None, up, :2], axis=2)
            above = q[others, 1] < q[up, 1].max()
            pull = 0.35 * np.exp(-((distance.min(axis=1) / 0.12) ** 2)) * above
            out[side, others] = pull[:, None] * out[side, up].mean(axis=0)
        return out.astype(np.float32)

    def estimate(self, canonical: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
        coefficients = np.zeros(len(self.names), np.float32)
        gap = max(0.0, inner_lip_gap(canonical, layout))
        coefficients[self.index("jaw_open")] = VISIBLE_GAP_FACTOR * gap / OPEN_UNIT
        return coefficients
