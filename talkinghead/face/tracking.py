"""Face tracking over a video: per-frame 3D landmarks of one face.

The face is detected once (the largest, or the `face_index`-th largest); after that each frame
only refines landmarks inside the previous frame's face box, which is faster than detecting
every frame and cannot jump to another person. When the face is lost the detector runs again
and takes the face nearest to where it was. Frames without a face are filled by linear
interpolation between their neighbours and flagged in `FaceTrack.found`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError, NoFaceError
from ..io.video import probe_video, read_video
from ..registry import FACE_BACKENDS
from ..types import FaceTrack
from .backend import FaceBackend, box_of, box_overlap, pick_face


@dataclass(frozen=True)
class TrackerConfig:
    face_index: int = 0
    """Which face to follow in the first frame that has one, 0 = the largest."""
    max_size: int | None = 720
    """Frames are shrunk to at most this many pixels on the longer side before tracking
    (landmarks are reported in these shrunk pixels; FaceTrack.image_size says which)."""
    min_found_share: float = 0.5
    """Tracking fails (InputError) when fewer frames than this share have a face."""


class FaceTracker:
    """Follows one face through a video. `backend`: a registry name or a FaceBackend."""

    def __init__(self, config: TrackerConfig | None = None, backend: str | FaceBackend = "mediapipe"):
        self.config = config or TrackerConfig()
        self._owned = isinstance(backend, str)
        self.backend: FaceBackend = FACE_BACKENDS.get(backend)() if self._owned else backend

    def track(self, path: str | Path, progress: Callable[[int], None] | None = None) -> FaceTrack:
        """Track the face through the video at `path`. Raises InputError for unreadable videos
        and NoFaceError when no face is found in enough frames."""
        info = probe_video(path)
        landmarks: list[np.ndarray | None] = []
        box = None
        size = None
        for i, frame in enumerate(read_video(path, max_size=self.config.max_size)):
            size = frame.shape[:2]
            points = self._landmarks(frame, box, str(path))
            landmarks.append(points)
            box = box_of(points) if points is not None else box
            if progress is not None:
                progress(i + 1)
        if not landmarks:
            raise InputError(f"{path}: the video has no frames")
        found = np.array([p is not None for p in landmarks])
        if found.mean() < self.config.min_found_share:
            raise NoFaceError(f"{path}: a face was found in only {found.sum()} of {len(found)} frames")
        return FaceTrack(
            landmarks=fill_missing(landmarks),
            found=found,
            fps=info.fps,
            image_size=(int(size[0]), int(size[1])),
            layout=self.backend.layout,
            path=str(path),
        )

    def _landmarks(self, frame: np.ndarray, box, name: str) -> np.ndarray | None:
        if box is not None:
            points = self.backend.landmarks_in_box(frame, box)
            if points is not None:
                return points
        faces = self.backend.detect(frame)
        if not faces:
            return None
        if box is None:  # first face of the video
            try:
                return pick_face(faces, self.config.face_index, name).landmarks
            except NoFaceError:
                return None
        best = max(faces, key=lambda f: box_overlap(f.box, box))
        return best.landmarks if box_overlap(best.box, box) > 0 else None

    def close(self) -> None:
        if self._owned:
            self.backend.close()


def fill_missing(landmarks: list[np.ndarray | None]) -> np.ndarray:
    """(T, N, 3) float32: frames without landmarks linearly interpolated from the nearest
    frames that have them (held constant before the first and after the last)."""
    found = np.array([p is not None for p in landmarks])
    shape = next(p for p in landmarks if p is not None).shape
    out = np.zeros((len(landmarks),) + shape, np.float32)
    have = np.flatnonzero(found)
    out[have] = np.stack([landmarks[i] for i in have])
    missing = np.flatnonzero(~found)
    if len(missing):
        flat = out.reshape(len(out), -1)
        for k in range(flat.shape[1]):
            flat[missing, k] = np.interp(missing, have, flat[have, k])
    return out


def track_video(path: str | Path, config: TrackerConfig | None = None, backend: str | FaceBackend = "mediapipe") -> FaceTrack:
    """Track the face in one video (see FaceTracker)."""
    tracker = FaceTracker(config, backend)
    try:
        return tracker.track(path)
    finally:
        tracker.close()
