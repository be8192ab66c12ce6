"""The face backend interface and `analyze_face`, which turns an image into a SourceFace."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, NoFaceError
from ..registry import FACE_BACKENDS
from ..types import SourceFace
from .human_check import HumanFaceCheck, non_human_error
from .layout import get_layout


@dataclass(frozen=True)
class DetectedFace:
    """landmarks: (N, 3) float32, x/y in pixels, z relative depth in pixel units (see SourceFace).
    box: (x0, y0, x1, y1) in pixels. score: detector confidence in [0, 1]."""

    landmarks: np.ndarray
    box: tuple[float, float, float, float]
    score: float

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


class FaceBackend(ABC):
    """Finds faces and their 3D landmarks in an RGB image."""

    #: name of the LandmarkLayout of the landmarks this backend returns
    layout: str

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """image: (H, W, 3) uint8 RGB. Returns every face found, in any order."""

    def landmarks_in_box(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
        """(N, 3) landmarks of the face inside `box` (x0, y0, x1, y1 pixels), or None.

        Video tracking calls this with the previous frame's face box. Backends that can skip
        detection when the box is known override it; this default detects and keeps the face
        that overlaps the box most."""
        faces = self.detect(image)
        best = max(faces, key=lambda f: box_overlap(f.box, box), default=None)
        if best is None or box_overlap(best.box, box) < 0.3:
            return None
        return best.landmarks

    def close(self) -> None:
        """Release native resources (models, threads)."""


def box_of(points: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box (x0, y0, x1, y1) of (N, 2+) points."""
    return (float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max()))


def box_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes, in [0, 1]."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def pick_face(faces: list[DetectedFace], face_index: int, name: str) -> DetectedFace:
    """The `face_index`-th largest face (0 = the largest)."""
    if not faces:
        raise NoFaceError(f"{name}: no face found in the image")
    faces = sorted(faces, key=lambda f: f.area, reverse=True)
    if not 0 <= face_index < len(faces):
        raise InputError(f"{name}: face_index {face_index} asked for, but only {len(faces)} face(s) found")
    return faces[face_index]


def analyze_face(
    image: np.ndarray,
    *,
    backend: str | FaceBackend = "mediapipe",
    face_index: int = 0,
    path: str | None = None,
    human_check: HumanFaceCheck | None = None,
) -> SourceFace:
    """Find the face to animate in `image` ((H, W, 3) uint8 RGB).

    With several faces the largest is used, or the `face_index`-th largest.
    Raises NoFaceError naming `path` when there is none, and (a NoFaceError too) when
    `human_check` is given and finds that the face does not look human.
    """
    owned = isinstance(backend, str)
    engine: FaceBackend = FACE_BACKENDS.get(backend)() if owned else backend
    try:
        faces = engine.detect(image)
    finally:
        if owned:
            engine.close()
    face = pick_face(faces, face_index, path or "image")
    if human_check is not None:
        verdict = human_check(image, face.landmarks, get_layout(engine.layout))
        if not verdict.human:
            raise non_human_error(path or "image", face.box, verdict)
    return SourceFace(
        image=image,
        landmarks=face.landmarks.astype(np.float32),
        box=face.box,
        layout=engine.layout,
        backend=type(engine).__name__ if not owned else str(backend),
        path=path,
    )
