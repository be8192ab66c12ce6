"""Optional face backend: the `face-alignment` package (3D-FAN, 68 iBUG landmarks with depth).

face-alignment downloads its weights on first use. We never let it: the user downloads them
once on a machine with internet and gives us the folder (`weights_dir`, or the environment
variable TALKINGHEAD_FACE_ALIGNMENT_WEIGHTS). Written against face-alignment 1.5.0.
"""

from __future__ import annotations

import contextlib
import os
from urllib.parse import urlparse

import numpy as np

from ..errors import InputError, MissingPackageError, MissingWeightsError
from .backend import DetectedFace, FaceBackend

WEIGHTS_ENV = "TALKINGHEAD_FACE_ALIGNMENT_WEIGHTS"
# face-alignment declares opencv-python, which would overwrite the cv2 of mediapipe's
# opencv-contrib-python; installing it without dependencies keeps one OpenCV.
INSTALL_HINT = "pip install 'talkinghead[face-alignment]' && pip install --no-deps face-alignment==1.5.0"


# The URLs face_alignment itself downloads from (face_alignment/api.py and its detection/
# modules, version 1.5.0). The file names it caches them under are the URLs' last parts.
FAN_3D_URL = "https://www.adrianbulat.com/downloads/python-fan/3DFAN4-7835d9f11d.pth.tar"
DEPTH_URL = "https://www.adrianbulat.com/downloads/python-fan/depth-2a464da4ea.pth.tar"

# Detector name -> {face_alignment FaceDetector keyword: URL of the file it takes}.
# Only S3FD for now: face-alignment's retinaface needs torchvision, yunet and scrfd ONNX files
# (and onnxruntime), and its blazeface NMS never ends on degenerate (untrained) boxes, so
# those could not be tested here. Another detector is one more entry.
DETECTOR_URLS = {
    "sfd": {"path_to_detector": "https://www.adrianbulat.com/downloads/python-fan/s3fd-619a316812.pth"},
}


def file_name(url: str) -> str:
    """The name face_alignment / torch.hub give the downloaded file: the URL path's last part."""
    return os.path.basename(urlparse(url).path)


def find_weights(folder: str | None, urls: list[str]) -> tuple[dict[str, str], list[str]]:
    """Look for each URL's file in `folder` or `folder/checkpoints` (torch.hub's cache layout).

    Returns ({url: local path}, [URLs whose file was not found]); with no folder, all are missing.
    """
    found, missing = {}, []
    for url in urls:
        name = file_name(url)
        candidates = [os.path.join(folder, name), os.path.join(folder, "checkpoints", name)] if folder else []
        path = next((p for p in candidates if os.path.isfile(p)), None)
        if path is None:
            missing.append(url)
        else:
            found[url] = path
    return found, missing


def missing_weights_message(folder: str | None, missing_urls: list[str]) -> str:
    """One message naming the missing files, where to download them and how to pass the folder."""
    where = f"in {folder!r} (or its checkpoints/ subfolder)" if folder else "(no weights folder given)"
    names = ", ".join(file_name(url) for url in missing_urls)
    return (
        f"face_alignment backend: weights missing {where}: {names}. "
        f"On a machine with internet, download {' '.join(missing_urls)} into one folder, then pass "
        f"--face-backend-weights DIR or set {WEIGHTS_ENV}=DIR."
    )


@contextlib.contextmanager
def local_files_only(api_module, paths: dict[str, str]):
    """Make face_alignment's `load_file_from_url` return our local files instead of downloading.

    face_alignment.api calls its module-level `load_file_from_url(url)` for the FAN and depth
    weights, which would download into torch.hub's cache. Swapping that one name for a
    dictionary lookup serves the files from wherever the user keeps them, and an unknown URL
    raises instead of reaching the network. The original is restored afterwards.
    """

    def lookup(url, *args, **kwargs):
        if url not in paths:
            raise MissingWeightsError(f"face_alignment asked for {url!r}, which this backend does not provide")
        return paths[url]

    original = api_module.load_file_from_url
    api_module.load_file_from_url = lookup
    try:
        yield
    finally:
        api_module.load_file_from_url = original


class FaceAlignmentBackend(FaceBackend):
    """68 iBUG landmarks with depth from face-alignment's 3D-FAN, on faces found by its detector.

    weights_dir: folder holding the downloaded weight files (directly or in checkpoints/);
        None reads the environment variable TALKINGHEAD_FACE_ALIGNMENT_WEIGHTS.
    device: torch device, "cpu", "cuda" or "mps".
    detector: face_alignment detector, one of DETECTOR_URLS ("sfd" is the most accurate).
    max_faces: at most this many faces (the detector's most confident) get landmarks.
    """

    layout = "ibug68"

    def __init__(self, weights_dir: str | None = None, device: str = "cpu", detector: str = "sfd", max_faces: int = 8):
        if detector not in DETECTOR_URLS:
            raise InputError(f"face_alignment backend: unknown detector {detector!r}; known: {', '.join(DETECTOR_URLS)}")
        try:
            import face_alignment
            import face_alignment.api
        except ImportError as err:
            raise MissingPackageError(
                f"the face_alignment backend needs the face-alignment package ({err}); {INSTALL_HINT}"
            ) from err

        # Check every file before building anything, so a missing one fails here with one
        # message instead of face_alignment starting a download.
        folder = weights_dir or os.environ.get(WEIGHTS_ENV) or None
        urls = [FAN_3D_URL, DEPTH_URL, *DETECTOR_URLS[detector].values()]
        found, missing = find_weights(folder, urls)
        if missing:
            raise MissingWeightsError(missing_weights_message(folder, missing))

        detector_kwargs = {key: found[url] for key, url in DETECTOR_URLS[detector].items()}
        with local_files_only(face_alignment.api, found):
            self._aligner = face_alignment.FaceAlignment(
                face_alignment.LandmarksType.THREE_D,
                device=device,
                face_detector=detector,
                face_detector_kwargs=detector_kwargs,
                # torch.compile would need a C++ toolchain, take minutes on first use and
                # write a cache under ~/.cache; eager mode is fine for a few still images.
                compile=False,
            )
        self.max_faces = max_faces

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """image: (H, W, 3) uint8 RGB. Returns faces with (68, 3) float32 landmarks: x, y in
        pixels, z the depth face_alignment predicts, scaled to the same pixel units."""
        image = np.ascontiguousarray(image)
        boxes = self._detect_boxes(image)
        if not boxes:
            return []
        landmarks = self._aligner.get_landmarks_from_image(image, detected_faces=boxes)
        return [
            DetectedFace(points.astype(np.float32), tuple(float(v) for v in box[:4]), self._score(box))
            for box, points in zip(boxes, landmarks)
        ]

    def _detect_boxes(self, image: np.ndarray) -> list[np.ndarray]:
        """The detector's boxes, most confident first, at most `max_faces`.
        Each is (5,) float64: x0, y0, x1, y1 in pixels, then the score."""
        # A copy, as face_alignment's own pipeline passes: detectors are free to modify it.
        found = self._aligner.face_detector.detect_from_image(image.copy())
        boxes = [np.asarray(b, np.float64) for b in found]
        boxes.sort(key=self._score, reverse=True)
        return boxes[: self.max_faces]

    @staticmethod
    def _score(box: np.ndarray) -> float:
        return float(np.clip(box[4], 0.0, 1.0))

