"""From a tracked face to motion: head pose, pose-free shapes, eyelids, expression coefficients.

Pose is the similarity transform that aligns the clip's mean shape to each frame on the points
that move least (see face.rigid); what remains after removing it is expression. The clip's
neutral is its mean shape over the frames with the most closed mouth, so expression
coefficients are absolute (0 = mouth closed, as the speaker holds it at rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from ..facemodel.frame import canonical_shape
from ..face.layout import LandmarkLayout, get_layout
from ..face.rigid import perspective_rotations, stable_point_fit
from ..face.rotation import euler_angles
from ..types import FaceTrack, MotionSequence
from ..facemodel.face_model import FaceModel
from ..facemodel.geometric_basis import inner_lip_gap



@dataclass(frozen=True)
class TrackAnalysisConfig:
    pose_smoothing: float = 1.0
    """Gaussian sigma in frames for head pose (FaceMesh pose jitters by about a degree)."""
    rotation_fit: Literal["similarity", "perspective"] = "similarity"
    """How head rotation is read from the landmarks. "similarity": each frame's 3-D points
    (FaceMesh's predicted depth included) aligned to the clip's rest shape. "perspective": the
    rest shape's rigid points fitted to each frame's 2-D points through a pinhole camera, with
    no per-frame depth. On 12 real clips the perspective fit agrees better with dlib's
    independent 68-point reading (mean r over yaw/pitch/roll 0.85 against 0.82;
    benchmarks/pose_tracker_agreement.py), but it reads smaller angles than the renderers'
    FaceMesh geometry needs to remake a clip. The opt pipeline reads another person's pose
    video with it (motion.opt.ANCHOR_ROTATION_FIT); training data keeps "similarity"."""
    shape_smoothing: float = 0.5
    """Gaussian sigma in frames for expression; small, because lip closures last 2-3 frames."""
    closed_mouth_share: float = 0.15
    """The neutral shape is the mean over this share of frames with the smallest lip gap."""
    open_eye_quantile: float = 0.9
    """An eye's opening at this quantile over the clip counts as fully open."""
    shut_fraction: float = 0.75
    """Eyelid closure 1 when the opening has dropped by this share (FaceMesh lids of shut eyes
    keep a small gap)."""


@dataclass(frozen=True)
class TrackedFace:
    """A FaceTrack split into pose and shape.

    rotation: (T, 3, 3) face axes (columns x, y, z) in camera coordinates.
    scale: (T,) inter-ocular distance in pixels. center: (T, 3) landmark centroid in pixels.
    shapes: (T, N, 3) float64 landmarks with the pose removed, canonical units (IOD).
    neutral: (N, 3) float64 the clip's closed-mouth rest shape, canonical units.
    eyelids: (T, 2) float32 closure of the (left, right) eye in [0, 1].
    """

    fps: float
    layout: LandmarkLayout
    rotation: np.ndarray
    scale: np.ndarray
    center: np.ndarray
    shapes: np.ndarray
    neutral: np.ndarray
    eyelids: np.ndarray

    @property
    def deformations(self) -> np.ndarray:
        """(T, N, 3) expression displacements from the neutral, canonical units."""
        return self.shapes - self.neutral


def analyse_track(track: FaceTrack, config: TrackAnalysisConfig | None = None) -> TrackedFace:
    cfg = config or TrackAnalysisConfig()
    layout = get_layout(track.layout)
    points = track.landmarks.astype(np.float64)
    _, first = canonical_shape(points[int(np.argmax(track.found))], layout)
    stable = stable_point_fit(points, first, rigid_candidates(layout))
    fit = stable.fit
    if cfg.rotation_fit == "perspective":
        raw = perspective_rotations(points[:, stable.rigid, :2], stable.mean_shape[stable.rigid], track.image_size)
    else:
        raw = fit.rotation
    rotation = smooth_rotations(raw, cfg.pose_smoothing)
    scale = gaussian_filter1d(fit.scale, cfg.pose_smoothing) if cfg.pose_smoothing else fit.scale
    center = points.mean(axis=1)
    if cfg.pose_smoothing:
        center = gaussian_filter1d(center, cfg.pose_smoothing, axis=0)
    shapes = fit.to_reference(points)
    if cfg.shape_smoothing:
        shapes = gaussian_filter1d(shapes, cfg.shape_smoothing, axis=0)
    gaps = np.array([inner_lip_gap(s, layout) for s in shapes])
    closed = gaps <= np.quantile(gaps, cfg.closed_mouth_share)
    return TrackedFace(
        fps=track.fps,
        layout=layout,
        rotation=rotation,
        scale=scale,
        center=center,
        shapes=shapes,
        neutral=shapes[closed].mean(axis=0),
        eyelids=eyelid_closure(shapes, layout, cfg),
    )


def rigid_candidates(layout: LandmarkLayout) -> np.ndarray:
    """(K,) indices of points that may be rigid with the skull: all but lips, face outline,
    eyes, brows and irises (the fit then keeps the steadiest of these)."""
    moving = set(layout.lips()) | set(layout.irises) | set(layout.left_brow) | set(layout.right_brow)
    moving |= set(layout.left_eye_upper + layout.left_eye_lower + layout.right_eye_upper + layout.right_eye_lower)
    moving |= set(layout.face_oval)
    return np.array([i for i in range(layout.num_points) if i not in moving])


def smooth_rotations(rotation: np.ndarray, sigma: float) -> np.ndarray:
    """(T, 3, 3) rotations smoothed over time: Gaussian filter on the matrix entries, then the
    nearest rotation (SVD). Fine for the small frame-to-frame changes of a head."""
    if not sigma or len(rotation) < 2:
        return rotation
    blurred = gaussian_filter1d(rotation, sigma, axis=0)
    u, _, vt = np.linalg.svd(blurred)
    return u @ vt


def eye_openings(shapes: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
    """(T, 2) mean lid gap of the (left, right) eye over its middle points, canonical units."""
    out = []
    for upper, lower in ((layout.left_eye_upper, layout.left_eye_lower), (layout.right_eye_upper, layout.right_eye_lower)):
        middle = slice(1, len(upper) - 1)
        gap = shapes[:, list(lower[middle]), 1] - shapes[:, list(upper[middle]), 1]
        out.append(gap.mean(axis=1))
    return np.stack(out, axis=1)


def eyelid_closure(shapes: np.ndarray, layout: LandmarkLayout, cfg: TrackAnalysisConfig) -> np.ndarray:
    """(T, 2) float32 closure in [0, 1] relative to the clip's open eyes."""
    opening = eye_openings(shapes, layout)
    wide = np.quantile(opening, cfg.open_eye_quantile, axis=0)
    return np.clip((wide - opening) / (cfg.shut_fraction * wide), 0.0, 1.0).astype(np.float32)


def tracked_pose(tracked: TrackedFace, pivot: tuple[float, float, float], reference: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head pose relative to frame `reference`, as MotionSequence holds it: (T, 3) yaw, pitch,
    roll in degrees, (T, 2) image-plane offset in inter-ocular distances, (T,) scale.

    pivot: the face model's head-rotation centre (canonical units); the translation is the
        centroid's motion minus what rotating about it already moves it, so that rendering
        about the same pivot reproduces the clip."""
    r0 = tracked.rotation[reference]
    relative = np.einsum("ji,tjk->tik", r0, tracked.rotation)  # R0^T R_t
    angles = euler_angles(torch.from_numpy(relative)).numpy()
    scale = tracked.scale / tracked.scale[reference]
    pivot = np.asarray(pivot, np.float64)
    pivot_shift = pivot - np.einsum("tij,j->ti", relative, pivot)  # centroid motion from rotating
    expected = np.einsum("ij,tj->ti", r0, pivot_shift) * scale[:, None]
    shift = (tracked.center - tracked.center[reference]) / tracked.scale[reference] - expected
    return angles.astype(np.float32), shift[:, :2].astype(np.float32), scale.astype(np.float32)


def tracked_mouth(tracked: TrackedFace, basis, names) -> tuple[np.ndarray, np.ndarray]:
    """The mouth of a tracked clip as training targets: (T, K) float64 absolute coefficients
    of the basis coefficients `names` (0 = the clip's closed-mouth neutral) and (T,) its
    inner-lip gap change from the neutral, canonical units (IOD)."""
    columns = [basis.index(n) for n in names]
    coefficients = basis.project(tracked.deformations, tracked.neutral, tracked.layout)[:, columns]
    gaps = np.array([inner_lip_gap(d, tracked.layout) for d in tracked.deformations])
    return coefficients.astype(np.float64), gaps


def tracked_motion(tracked: TrackedFace, face_model: FaceModel, reference: int = 0) -> MotionSequence:
    """A MotionSequence that replays the tracked clip relative to frame `reference`: driving
    that frame's photo with it reproduces the clip; driving another photo transfers the
    changes. meta["expression_reference"] holds the reference frame's absolute coefficients."""
    rotation, translation, scale = tracked_pose(tracked, face_model.pivot, reference)
    basis = face_model.basis
    absolute = basis.project(tracked.deformations, tracked.neutral, tracked.layout)
    return MotionSequence(
        fps=tracked.fps,
        rotation=rotation,
        translation=translation,
        scale=scale,
        expression=(absolute - absolute[reference]).astype(np.float32),
        expression_names=basis.names,
        eyelids=tracked.eyelids,
        meta={"source": "track", "reference_frame": reference, "expression_reference": absolute[reference].tolist()},
    )
