"""One pass over a video's frames that collects everything the evaluation needs per frame.

dlib's detector and 68-point predictor (dlib_models.FaceTracker) find the face; the frame is
then measured at once (pose, sharpness, aligned face crop, background change, and a face
descriptor on evenly spaced frames) so that no frame is decoded or kept twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..io.video import probe_video, read_video
from . import metrics
from .dlib_models import FaceTracker, face_embedding


@dataclass
class VideoTrack:
    """Per-frame measurements of one video; T frames, NaN (or zeros for crops) without a face.

    landmarks: (T, 68, 2) float64 pixels (dlib, iBUG order).
    poses: (T, 3) float64 yaw, pitch, roll in degrees (metrics.head_pose).
    sharpness: (T,) Laplacian variance of the face region resized to `sharpness_width` px.
    background: (T,) metrics.background_change from the previous frame (NaN for frame 0).
    crops: (T, S, S, 3) uint8 aligned faces (metrics.aligned_face), only when asked for.
    embeddings: (K, 128) float32 dlib descriptors of the frames `embedding_frames` (K,).
    fps, size: frame rate and (height, width) in pixels.
    """

    path: str
    fps: float
    size: tuple[int, int]
    landmarks: np.ndarray
    poses: np.ndarray
    sharpness: np.ndarray
    background: np.ndarray
    crops: np.ndarray | None
    embeddings: np.ndarray
    embedding_frames: np.ndarray
    sharpness_width: int | None

    @property
    def num_frames(self) -> int:
        return len(self.landmarks)

    @property
    def found(self) -> np.ndarray:
        """(T,) bool: a face was found in the frame."""
        return np.all(np.isfinite(self.landmarks), axis=(1, 2))

    @property
    def mouth(self) -> np.ndarray:
        """(T,) metrics.mouth_opening per frame, NaN where no face was found."""
        return np.array([metrics.mouth_opening(lm) if ok else np.nan for lm, ok in zip(self.landmarks, self.found)])


@dataclass
class _Collector:
    """Lists filled frame by frame, turned into a VideoTrack at the end."""

    landmarks: list = field(default_factory=list)
    poses: list = field(default_factory=list)
    sharpness: list = field(default_factory=list)
    background: list = field(default_factory=list)
    crops: list = field(default_factory=list)
    embeddings: list = field(default_factory=list)
    embedding_frames: list = field(default_factory=list)
    sharpness_width: int | None = None


def track_video(path: str, *, crops: bool = False, embeddings: int = 50) -> VideoTrack:
    """Track the face through every frame of a video and measure each frame.

    crops: also keep the aligned face crop of every frame (for PSNR / SSIM against a
        reference; CROP_SIZE^2 * 3 bytes a frame). embeddings: at most this many evenly
        spaced frames get a face descriptor (about 0.1 s each); 0 = none.
    """
    info = probe_video(path)
    every = math.ceil(info.num_frames / embeddings) if embeddings > 0 else 0
    tracker = FaceTracker()
    out = _Collector()
    previous = None
    for index, frame in enumerate(read_video(path)):
        landmarks = tracker.update(frame)
        _measure(out, frame, previous, landmarks, crops, every > 0 and index % every == 0, index)
        previous = frame
    size = (info.height, info.width) if previous is None else previous.shape[:2]
    return VideoTrack(
        path=str(path),
        fps=info.fps,
        size=(int(size[0]), int(size[1])),
        landmarks=np.array(out.landmarks, dtype=np.float64).reshape(-1, 68, 2),
        poses=np.array(out.poses, dtype=np.float64).reshape(-1, 3),
        sharpness=np.array(out.sharpness, dtype=np.float64),
        background=np.array(out.background, dtype=np.float64),
        crops=np.array(out.crops, dtype=np.uint8) if crops else None,
        embeddings=np.array(out.embeddings, dtype=np.float32).reshape(-1, 128),
        embedding_frames=np.array(out.embedding_frames, dtype=np.int64),
        sharpness_width=out.sharpness_width,
    )


def _measure(out: _Collector, frame, previous, landmarks, crops: bool, embed: bool, index: int) -> None:
    """Append one frame's measurements (NaN / zeros when `landmarks` is None)."""
    if landmarks is None:
        out.landmarks.append(np.full((68, 2), np.nan))
        out.poses.append((np.nan,) * 3)
        out.sharpness.append(np.nan)
        out.background.append(np.nan)
        if crops:
            out.crops.append(np.zeros((metrics.CROP_SIZE, metrics.CROP_SIZE, 3), np.uint8))
        return
    out.landmarks.append(landmarks)
    out.poses.append(metrics.head_pose(landmarks, frame.shape[:2]))
    box = metrics.face_box(landmarks)
    if out.sharpness_width is None:
        # Every frame (and the source photo) is compared at the first face's width.
        out.sharpness_width = box[2] - box[0]
    out.sharpness.append(metrics.sharpness(frame, box, out.sharpness_width))
    region = metrics.head_region(landmarks, frame.shape[:2])
    out.background.append(np.nan if previous is None else metrics.background_change(previous, frame, region))
    if crops:
        out.crops.append(metrics.aligned_face(frame, landmarks))
    if embed:
        out.embeddings.append(face_embedding(frame, landmarks))
        out.embedding_frames.append(index)
