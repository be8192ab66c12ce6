"""Synthesis of the inside of the mouth where the lips open wider than in the photo.

The warp can only stretch the pixels between the lips; a real open mouth shows a dark cavity
with the upper teeth (and, when wide open, the lower teeth) behind the lips. This paints them,
inside the target inner-lip outline, with feathered edges, in a small crop around the mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face.layout import LandmarkLayout
from .paint import blend, crop_box, fill_alpha, median_colour

@dataclass(frozen=True)
class MouthStyle:
    """Colours (RGB floats in [0, 255]) used to paint the mouth of one face."""

    cavity: np.ndarray
    teeth: np.ndarray

    @classmethod
    def from_source(cls, image: np.ndarray, landmarks: np.ndarray, layout: LandmarkLayout) -> "MouthStyle":
        """Derive colours from the photo: a cavity darker than the lips, teeth matched to the
        face's overall brightness."""
        lips = landmarks[list(layout.outer_lip_upper + layout.outer_lip_lower), :2]
        skin = landmarks[list(layout.face_oval), :2]
        lip_colour = median_colour(image, lips)
        brightness = float(np.mean(median_colour(image, skin))) / 160.0
        cavity = np.clip(lip_colour * 0.28, 8, 90)
        teeth = np.clip(np.array([232.0, 226.0, 212.0]) * np.clip(brightness, 0.55, 1.05), 0, 255)
        return cls(cavity=cavity, teeth=teeth)


def _central(curve: np.ndarray, fraction: float) -> np.ndarray:
    """The points of a corner-to-corner curve within the central `fraction` of its width,
    resampled densely so short curves (68-point layouts) still give a smooth band."""
    dense = np.stack([np.interp(np.linspace(0, len(curve) - 1, 24), np.arange(len(curve)), curve[:, k]) for k in range(2)], 1)
    centre, half = dense[:, 0].mean(), (dense[:, 0].max() - dense[:, 0].min()) / 2
    return dense[np.abs(dense[:, 0] - centre) <= fraction * half + 1e-6]


def paint_mouth(
    frame: np.ndarray,
    mask: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    strength: float,
    style: MouthStyle,
) -> None:
    """Paint an open mouth into `frame` ((H, W, 3) uint8, in place) and record it in `mask`
    ((H, W) float32 in [0, 1], in place).

    upper, lower: (n, 2) target inner-lip outlines in pixels, corner to corner.
    strength: 0 leaves the warped pixels, 1 paints the full cavity (how much wider the mouth is
        than in the photo).
    """
    if strength <= 0.01:
        return
    width = float(np.linalg.norm(upper[-1] - upper[0]))
    middle = slice(len(upper) // 4, len(upper) - len(upper) // 4)
    gap = float(np.mean(np.linalg.norm(lower[middle] - upper[middle], axis=1)))
    if width < 2 or gap < 0.5:
        return
    outline = np.concatenate([upper, lower[::-1]])
    box = crop_box(outline, 3 + 0.05 * width, frame.shape)
    if box is None:
        return
    offset = np.array(box[:2], np.float64)
    size = (box[3] - box[1], box[2] - box[0])
    feather = max(0.5, 0.015 * width)
    inside = fill_alpha(size, [outline - offset], feather)

    paint = np.empty(size + (3,), np.float32)
    paint[:] = style.cavity
    teeth_height = min(0.4 * gap, 0.11 * width)
    top = _central(upper - offset, 0.72)
    teeth = fill_alpha(size, [np.concatenate([top, top[::-1] + [0, teeth_height]])], 0.6)
    if gap > 0.22 * width:
        bottom = _central(lower - offset, 0.55)
        teeth = np.maximum(teeth, 0.7 * fill_alpha(size, [np.concatenate([bottom, bottom[::-1] - [0, 0.35 * teeth_height]])], 0.6))
    # Teeth fade into the shadow towards the corners of the mouth.
    xs = np.arange(size[1]) + offset[0]
    centre = (upper[0, 0] + upper[-1, 0]) / 2
    shade = np.clip(1.0 - np.abs(xs - centre) / (0.5 * width), 0.0, 1.0) ** 0.7
    teeth *= 0.85 * shade[None, :]
    paint += (style.teeth - style.cavity) * teeth[..., None]
    blend(frame, mask, box, paint, inside * float(np.clip(strength, 0, 1)))
