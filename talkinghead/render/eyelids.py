"""Synthesis of closing eyelids.

As the lids close, the warp squeezes the eye and stretches the skin above it; what a closed
eye really shows is lid skin with the lash line at its edge. This paints the part of the eye
opening that the lids now cover with the photo's own lid colour, and the lash line along the
lowered lid edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face.layout import LandmarkLayout
from .paint import blend, crop_box, fill_alpha, median_colour


@dataclass(frozen=True)
class LidStyle:
    """RGB floats in [0, 255]: lid skin colour of the (left, right) eye and the lash colour."""

    skin: tuple[np.ndarray, np.ndarray]
    lash: tuple[np.ndarray, np.ndarray]

    @classmethod
    def from_source(cls, image: np.ndarray, landmarks: np.ndarray, layout: LandmarkLayout, up: np.ndarray) -> "LidStyle":
        """up: (2,) unit image vector pointing up the face; lid skin is sampled just above the
        upper lid, between it and the brow."""
        skins, lashes = [], []
        for upper in (layout.left_eye_upper, layout.right_eye_upper):
            lid = landmarks[list(upper), :2]
            eye_width = float(np.linalg.norm(lid[-1] - lid[0]))
            band = np.concatenate([lid + up * eye_width * f for f in (0.12, 0.18, 0.24)])
            skin = median_colour(image, band)
            skins.append(skin)
            lashes.append(np.minimum(median_colour(image, lid), skin) * 0.45)
        return cls(skin=(skins[0], skins[1]), lash=(lashes[0], lashes[1]))


def paint_eyelid(
    frame: np.ndarray,
    mask: np.ndarray,
    open_outline: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    closure: float,
    skin: np.ndarray,
    lash: np.ndarray,
) -> None:
    """Paint the covered part of one eye (in place on frame (H, W, 3) uint8 and mask (H, W)
    float32).

    open_outline: (n, 2) pixels, the eye opening as it would be with the lids as in the photo.
    upper, lower: (m, 2) pixels, the target lid edges, corner to corner.
    closure: 0..1 how far the lids are closed.
    """
    if closure <= 0.03:
        return
    width = float(np.linalg.norm(upper[-1] - upper[0]))
    box = crop_box(open_outline, 2 + 0.15 * width, frame.shape)
    if width < 2 or box is None:
        return
    offset = np.array(box[:2], np.float64)
    size = (box[3] - box[1], box[2] - box[0])
    feather = max(0.5, 0.05 * width)
    opening = fill_alpha(size, [open_outline - offset], 0.0)
    still_open = fill_alpha(size, [np.concatenate([upper, lower[::-1]]) - offset], 0.0)
    covered = cv2.GaussianBlur(np.clip(opening - still_open, 0, 1), (0, 0), feather)
    blend(frame, mask, box, skin, covered)

    lash_line = np.zeros(size, np.float32)
    thickness = max(1, int(round(0.035 * width)))
    cv2.polylines(lash_line, [np.round((upper - offset) * 4).astype(np.int32)], False, 1.0, thickness, cv2.LINE_AA, shift=2)
    lash_line = cv2.GaussianBlur(lash_line, (0, 0), max(0.5, 0.02 * width))
    blend(frame, mask, box, lash, lash_line * min(1.0, 1.5 * closure) * 0.7)
