"""The pose-normalised face frame: where a face is, how big, and how it is turned.

Canonical coordinates put the landmark centroid at the origin, measure lengths in units of
the inter-ocular distance (outer eye corners), and align the axes with the face: x towards the
person's left eye, y down towards the chin, z away from the camera into the head. Expressions
are applied there, so they mean the same thing on a frontal and on a turned face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face.layout import LandmarkLayout


@dataclass(frozen=True)
class FaceFrame:
    """center: (3,) pixels; rotation: (3, 3) columns are the face's x, y, z axes in camera
    coordinates; scale: inter-ocular distance in pixels."""

    center: np.ndarray
    rotation: np.ndarray
    scale: float

    def to_canonical(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) camera/pixel coordinates -> (N, 3) canonical coordinates."""
        return (points - self.center) @ self.rotation / self.scale

    def from_canonical(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) canonical coordinates -> (N, 3) camera/pixel coordinates."""
        return points * self.scale @ self.rotation.T + self.center


def face_frame(landmarks: np.ndarray, layout: LandmarkLayout) -> FaceFrame:
    """Estimate the face frame from (N, 3) landmarks (x, y pixels, z depth in pixel units)."""
    pts = landmarks.astype(np.float64)
    right_outer, left_outer = (pts[i] for i in layout.outer_eye_corners)
    x_axis = left_outer - right_outer
    scale = float(np.linalg.norm(x_axis))
    if scale < 1e-6:
        raise ValueError("degenerate landmarks: the eye corners coincide")
    x_axis /= scale
    eyes_mid = (left_outer + right_outer) / 2
    mouth_mid = pts[list(layout.outer_lip_upper + layout.outer_lip_lower)].mean(axis=0)
    down = mouth_mid - eyes_mid
    y_axis = down - x_axis * (down @ x_axis)
    y_axis /= np.linalg.norm(y_axis)
    z_axis = np.cross(x_axis, y_axis)
    return FaceFrame(center=pts.mean(axis=0), rotation=np.stack([x_axis, y_axis, z_axis], axis=1), scale=scale)


def canonical_shape(landmarks: np.ndarray, layout: LandmarkLayout) -> tuple[FaceFrame, np.ndarray]:
    """The face frame of (N, 3) landmarks and the landmarks in it, (N, 3) float64 canonical."""
    frame = face_frame(landmarks, layout)
    return frame, frame.to_canonical(landmarks.astype(np.float64))
