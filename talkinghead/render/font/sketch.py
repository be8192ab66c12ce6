"""The target keypoints drawn as masks the generator can read: where the mouth is open and where
each eye is open. The mesh flow says where pixels go; these say what must be painted there
that the photo may not show (teeth and the inside of the mouth, eyelids over a shut eye)."""

from __future__ import annotations

import cv2
import numpy as np

from ...face.layout import LandmarkLayout

SKETCH_CHANNELS = 2
# cv2 draws polygons with fixed-point vertices: 4 fractional bits keep sub-pixel lip gaps.
SHIFT = 4


def _polygon(points: np.ndarray, scale: float) -> np.ndarray:
    return np.round(points * scale * (1 << SHIFT)).astype(np.int32)


def draw_sketch(landmarks: np.ndarray, layout: LandmarkLayout, crop_size: int, resolution: int) -> np.ndarray:
    """landmarks: (B, N, 2) target keypoints in crop pixels -> (B, 2, r, r) float32 in [0, 1]:
    channel 0 the inside of the lips, channel 1 the eye openings."""
    scale = resolution / crop_size
    mouth = list(layout.inner_lip_upper) + list(layout.inner_lip_lower)[::-1]
    eyes = [
        list(upper) + list(lower)[::-1]
        for upper, lower in ((layout.left_eye_upper, layout.left_eye_lower), (layout.right_eye_upper, layout.right_eye_lower))
    ]
    out = np.zeros((len(landmarks), SKETCH_CHANNELS, resolution, resolution), np.uint8)
    for i, points in enumerate(landmarks):
        # Pixel centres sit at integer coordinates in the crop; at a coarser resolution they
        # move by half a pixel of the difference.
        p = points + 0.5 - 0.5 / scale
        cv2.fillPoly(out[i, 0], [_polygon(p[mouth], scale)], 255, lineType=cv2.LINE_AA, shift=SHIFT)
        cv2.fillPoly(out[i, 1], [_polygon(p[e], scale) for e in eyes], 255, lineType=cv2.LINE_AA, shift=SHIFT)
    return out.astype(np.float32) / 255.0
