"""Default face backend: MediaPipe face detection (full range) + FaceMesh (478 3D landmarks).

The detector finds faces of any size; FaceMesh then runs on a square crop around each, which
keeps small faces in large pictures (and several faces) working. Models ship inside the
mediapipe 0.10.21 wheel, so nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from .backend import DetectedFace, FaceBackend, box_of
from .quiet import native_stderr_silenced

# FaceMesh is most accurate when the face fills about half of the crop.
CROP_FACTOR = 2.0
MESH_CROP_SIZE = 384
#: Edge extension, as a share of the picture's longer side, for a second look at a picture in
#: which the detector found no face (0.5: the face then fills at most half the padded picture).
PAD_SHARE = 0.5


class MediaPipeBackend(FaceBackend):
    layout = "mediapipe478"

    def __init__(self, min_detection_confidence: float = 0.5, max_faces: int = 8):
        import mediapipe as mp  # heavy import, only when the backend is used

        self.max_faces = max_faces
        with native_stderr_silenced():
            self._detector = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=min_detection_confidence
            )
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.3
            )

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        image = np.ascontiguousarray(image)
        faces = []
        for det_box, score in self._detections(image):
            face = self.landmarks_in_box(image, det_box)
            if face is not None:
                faces.append(DetectedFace(face, box_of(face), score))
        return faces

    def _detections(self, image: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """(box in pixels, score) of each face the detector finds. A face that fills the whole
        picture (a tight crop, a VoxCeleb-style close-up) is missed by the detector, so when
        it finds nothing it looks again with the picture's edges extended by PAD_SHARE a side."""
        h, w = image.shape[:2]
        with native_stderr_silenced():
            found = self._detector.process(image).detections or []
        pad = 0
        if not found:
            pad = int(PAD_SHARE * max(h, w))
            padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
            with native_stderr_silenced():
                found = self._detector.process(padded).detections or []
            h, w = h + 2 * pad, w + 2 * pad
        out = []
        for det in found[: self.max_faces]:
            box = det.location_data.relative_bounding_box
            x0, y0 = box.xmin * w - pad, box.ymin * h - pad
            out.append(((x0, y0, x0 + box.width * w, y0 + box.height * h), float(det.score[0])))
        return out

    def landmarks_in_box(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
        """(478, 3) landmarks in image pixels for the face in `box`, or None if FaceMesh fails."""
        import cv2

        image = np.ascontiguousarray(image)

        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        side = CROP_FACTOR * max(box[2] - box[0], box[3] - box[1])
        scale = MESH_CROP_SIZE / side
        # Affine map image -> crop; border replication keeps faces at the image edge usable.
        to_crop = np.array([[scale, 0, MESH_CROP_SIZE / 2 - scale * cx], [0, scale, MESH_CROP_SIZE / 2 - scale * cy]])
        crop = cv2.warpAffine(image, to_crop, (MESH_CROP_SIZE, MESH_CROP_SIZE), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        with native_stderr_silenced():
            result = self._mesh.process(crop)
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([[p.x, p.y, p.z] for p in lm], np.float64) * MESH_CROP_SIZE
        pts[:, 0] = (pts[:, 0] - to_crop[0, 2]) / scale
        pts[:, 1] = (pts[:, 1] - to_crop[1, 2]) / scale
        pts[:, 2] = pts[:, 2] / scale
        return pts.astype(np.float32)

    def close(self) -> None:
        with native_stderr_silenced():
            self._detector.close()
            self._mesh.close()
