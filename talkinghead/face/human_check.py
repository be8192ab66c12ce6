"""Is the face about to be animated a human one? Runs after face detection on the source photo.

MediaPipe's face detector and FaceMesh are trained on people and fit a human mesh to whatever
looks enough like a face: a monkey, a dog or a squirrel in some framings. The mesh then has
human proportions by construction, so the landmarks themselves say little (measured, see
below). The independent evidence used here is a second model trained on people: MediaPipe's
BlazePose, whose detector and 33-point landmark model ship in the mediapipe wheel
(pose_detection.tflite, pose_landmark_full.tflite), so nothing is downloaded. It runs on crops
centred on the face, and the face counts as human when a person it finds there has its nose
and eyes where FaceMesh put them.

The decisive rule is never to refuse a real person, so a face is refused only when every try
fails, and faces too small for the pose model to judge are never refused. Measured by
benchmarks/human_check.py (its docstring has the command) on 4818 human detections (14 photos,
paintings, a statue and a cartoon from the shared faces, 4 package-shipped photos and the demo
portrait, each in 149 variants: mirrored, rotated by 20 degrees, 96-512 px, padded; 12 frames of
each of 37 real videos in 5 variants; 55 people): no refusal. Of the animal detections that
FaceMesh accepts it refuses 67 of 231: the shared monkey photo (a white-faced capuchin) as given,
mirrored and rotated, but only 9 of its 134 variants (BlazePose takes it for a person when it
is small or padded), the shared dog in all 41, a squirrel in 11 of 35, a mandrill in 4 of 17,
a cat and another dog in their single ones, parrots in neither of 2.

Rejected after measuring (same data): dlib's HOG detector agreeing with the box (it finds the
capuchin in 2 of 3 framings, misses a grey-scale human photo, and dlib is only an optional
dependency); proportions of the 478 points (pose-free 3D distance ratios, Mahalanobis
distance: every animal lies inside the human spread); eye whites, lip colour against skin,
and fur-like texture on the cheeks (each overlaps the human range).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import LandmarkLayout
from .quiet import native_stderr_silenced
from ..errors import NoFaceError

# BlazePose landmark indices (mediapipe.solutions.pose.PoseLandmark): nose, the person's left
# eye centre, the person's right eye centre.
POSE_NOSE, POSE_LEFT_EYE, POSE_RIGHT_EYE = 0, 2, 5


@dataclass(frozen=True)
class HumanCheckConfig:
    """Thresholds of the human-face check (measured with benchmarks/human_check.py)."""

    contexts: tuple[tuple[float | None, float], ...] = ((2.0, 0.6), (3.0, 0.5), (2.5, 0.5), (None, 0.5))
    """(crop side in face sizes, None = the whole picture; the pose detector's minimum
    confidence) per try, in order. The face is human as soon as one try finds an agreeing
    person. A crop of 2 face sizes answers for most people; the capuchin scores 0.5-0.6 there,
    hence the stricter confidence. People that this tight crop scores low are found in the
    wider crops (shoulders in view) or the whole picture, where the capuchin photo is not."""
    crop_px: int = 256
    """Side of the crops given to the pose model (its detector works at 224 px)."""
    max_offset: float = 0.6
    """A person agrees with the face when its nose and both eyes lie within this many eye
    distances of FaceMesh's. Humans measured: at most 0.57 (median 0.16)."""
    min_eye_px: float = 16.0
    """Faces whose eye corners are closer than this (pixels) are never refused: the pose
    model cannot judge them (in the measurements all the people it missed had smaller faces)."""


@dataclass(frozen=True)
class HumanVerdict:
    """human: whether the face may be animated; reason: what was found, for messages."""

    human: bool
    reason: str


class NonHumanFaceError(NoFaceError):
    """The face found does not look human (and allow_non_human was not set)."""


def face_keypoints(landmarks: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
    """(3, 2) pixels: nose tip, the person's left eye centre, right eye centre, from (N, 2+)
    landmarks of `layout` (eye centres are the means of the lid contours)."""
    points = np.asarray(landmarks, np.float64)[:, :2]
    left = points[list(layout.left_eye_upper + layout.left_eye_lower)].mean(axis=0)
    right = points[list(layout.right_eye_upper + layout.right_eye_lower)].mean(axis=0)
    return np.stack([points[layout.nose_tip], left, right])


def eye_distance(landmarks: np.ndarray, layout: LandmarkLayout) -> float:
    """Distance in pixels between the outer eye corners of (N, 2+) landmarks."""
    right, left = layout.outer_eye_corners
    return float(np.linalg.norm(np.asarray(landmarks)[left, :2] - np.asarray(landmarks)[right, :2]))


def agrees(face: np.ndarray, person: np.ndarray | None, eye_px: float, max_offset: float) -> bool:
    """Whether a person's (3, 2) nose/left eye/right eye (None: no person found) lie within
    `max_offset` eye distances of the face's (3, 2) ones."""
    if person is None or eye_px <= 0:
        return False
    return bool(np.max(np.linalg.norm(person - face, axis=1)) <= max_offset * eye_px)


def judge(landmarks: np.ndarray, layout: LandmarkLayout, people: list[np.ndarray | None],
          config: HumanCheckConfig) -> HumanVerdict:  # fmt: skip
    """The verdict from the face's (N, 2+) landmarks and what the pose model found in each of
    the config's crops: per crop, the person's (3, 2) nose/left eye/right eye in image pixels,
    or None."""
    eye_px = eye_distance(landmarks, layout)
    if eye_px < config.min_eye_px:
        return HumanVerdict(True, f"face too small to judge ({eye_px:.0f} px between the eyes)")
    face = face_keypoints(landmarks, layout)
    if any(agrees(face, person, eye_px, config.max_offset) for person in people):
        return HumanVerdict(True, "a person's pose fits the face")
    if any(person is not None for person in people):
        return HumanVerdict(False, "the person detector finds someone, but not at this face")
    return HumanVerdict(False, "the person detector finds no one at this face")


class HumanFaceCheck:
    """`check(image, landmarks, layout) -> HumanVerdict`; loads the pose model on first use
    (about 0.2 s per confidence level), then costs one pose run for most people (about 30 ms
    on one core) and up to one per try for a face it refuses."""

    def __init__(self, config: HumanCheckConfig | None = None):
        self.config = config or HumanCheckConfig()
        self._poses: dict[float, object] = {}

    def __call__(self, image: np.ndarray, landmarks: np.ndarray, layout: LandmarkLayout) -> HumanVerdict:
        """image: (H, W, 3) uint8 RGB; landmarks: (N, 2+) pixels of the face, in `layout`."""
        people: list[np.ndarray | None] = []
        for context, confidence in self.config.contexts:
            people.append(self._person(image, landmarks, context, confidence))
            verdict = judge(landmarks, layout, people, self.config)
            if verdict.human:  # the usual case for people: one pose run
                return verdict
        return verdict

    def _person(self, image: np.ndarray, landmarks: np.ndarray, context: float | None, confidence: float) -> np.ndarray | None:
        """The (3, 2) nose/left eye/right eye, in image pixels, of the person the pose model finds
        in a square crop of `context` face sizes around the face (None: in the whole picture);
        None if it finds no one."""
        if context is None:
            crop, scale, offset = np.ascontiguousarray(image), 1.0, np.zeros(2)
        else:
            crop, scale, offset = face_crop(image, landmarks, context, self.config.crop_px)
        with native_stderr_silenced():
            found = self._pose(confidence).process(crop).pose_landmarks
        if found is None:
            return None
        height, width = crop.shape[:2]
        marks = found.landmark
        points = np.array([[marks[i].x * width, marks[i].y * height] for i in (POSE_NOSE, POSE_LEFT_EYE, POSE_RIGHT_EYE)])
        return (points - offset) / scale

    def warm_up(self) -> "HumanFaceCheck":
        """Load the pose models now (what the first checks would load)."""
        for _, confidence in self.config.contexts:
            self._pose(confidence)
        return self

    def _pose(self, confidence: float):
        if confidence not in self._poses:
            import mediapipe as mp  # heavy import, only when the check runs

            with native_stderr_silenced():
                # model_complexity=1 is the landmark model the wheel ships (0 and 2 would be downloaded).
                self._poses[confidence] = mp.solutions.pose.Pose(
                    static_image_mode=True, model_complexity=1, min_detection_confidence=confidence
                )
        return self._poses[confidence]

    def close(self) -> None:
        with native_stderr_silenced():
            for pose in self._poses.values():
                pose.close()
        self._poses = {}


def face_crop(image: np.ndarray, landmarks: np.ndarray, context: float, size: int) -> tuple[np.ndarray, float, np.ndarray]:
    """A (size, size, 3) crop centred on the landmarks' box, `context` times its longer side,
    padded with black beyond the image (as a photo's edge looks to the model); returns the crop,
    the scale and the (2,) offset that map image pixels p to crop pixels p * scale + offset."""
    import cv2

    points = np.asarray(landmarks, np.float64)[:, :2]
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    scale = size / max(context * max(x1 - x0, y1 - y0), 1e-6)
    offset = np.array([size / 2 - scale * (x0 + x1) / 2, size / 2 - scale * (y0 + y1) / 2])
    to_crop = np.array([[scale, 0.0, offset[0]], [0.0, scale, offset[1]]])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(np.ascontiguousarray(image), to_crop, (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT)
    return crop, scale, offset


def non_human_error(name: str, box: tuple[float, float, float, float], verdict: HumanVerdict) -> NonHumanFaceError:
    """The one-line refusal: what was found, and how to override it."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return NonHumanFaceError(
        f"{name}: the face found at ({x0}, {y0})-({x1}, {y1}) does not look human ({verdict.reason}; an animal?); "
        "--allow-non-human (allow_non_human=True) animates it anyway"
    )
