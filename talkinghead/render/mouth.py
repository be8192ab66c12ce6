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
    tongue: np.ndarray
    teeth: np.ndarray

    @classmethod
    def from_source(cls, image: np.ndarray, landmarks: np.ndarray, layout: LandmarkLayout) -> "MouthStyle":
        """Derive colours from the photo: a dark red cavity and tongue from the lip colour,
        teeth matched to the face's overall brightness."""
        lips = []
        for outer, inner in ((layout.outer_lip_lower, layout.inner_lip_lower), (layout.outer_lip_upper, layout.inner_lip_upper)):
            # Halfway between the outer and inner outline lies lip tissue, not skin or teeth.
            lips.append((resample_curve(landmarks[list(outer), :2], 9) + resample_curve(landmarks[list(inner), :2], 9)) / 2)
        lip_colour = median_colour(image, np.concatenate(lips)[2:-2])
        features = set(layout.lips() + layout.left_eye_upper + layout.left_eye_lower + layout.right_eye_upper
                       + layout.right_eye_lower + layout.left_brow + layout.right_brow + layout.face_oval + layout.irises)
        skin = median_colour(image, np.delete(landmarks[:, :2], sorted(features), axis=0))
        brightness = float(np.clip(np.mean(skin) / 150.0, 0.6, 1.0))
        return cls(
            cavity=np.clip(lip_colour * np.array([0.24, 0.15, 0.15]), 10, 70),
            tongue=np.clip(lip_colour * np.array([0.6, 0.36, 0.36]), 25, 160),
            teeth=np.array([236.0, 230.0, 216.0]) * brightness,
        )


def resample_curve(curve: np.ndarray, n: int) -> np.ndarray:
    """(m, 2) polyline -> (n, 2) points evenly spaced in index along it."""
    t = np.linspace(0, len(curve) - 1, n)
    return np.stack([np.interp(t, np.arange(len(curve)), curve[:, k]) for k in range(curve.shape[1])], axis=1)


def _central(curve: np.ndarray, fraction: float) -> np.ndarray:
    """The points of a corner-to-corner curve within the central `fraction` of its width,
    resampled densely so short curves (68-point layouts) still give a smooth band."""
    dense = resample_curve(curve, 24)
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

    paint = _cavity(size, offset, upper, lower, gap, width, style)
    blend(frame, mask, box, paint, inside * float(np.clip(strength, 0, 1)))


def _cavity(size, offset, upper, lower, gap, width, style: MouthStyle) -> np.ndarray:
    """(h, w, 3) float32 picture of the inside of the mouth for a crop at `offset`: a dark
    cavity, shaded under the upper lip, a tongue at the bottom, the upper teeth (and the lower
    teeth when wide open) fading into shadow towards the corners."""
    rows = np.arange(size[0], dtype=np.float32)[:, None] + offset[1]
    top, bottom = float(upper[:, 1].min()), float(lower[:, 1].max())
    depth = np.clip((rows - top) / max(bottom - top, 1.0), 0, 1)  # 0 at the upper lip, 1 at the lower
    paint = np.empty(size + (3,), np.float32)
    paint[:] = style.cavity
    paint *= (0.65 + 0.35 * depth)[..., None]
    tongue = np.clip((depth - 0.55) / 0.3, 0, 1) * min(1.0, gap / (0.25 * width))
    paint += (style.tongue - paint) * (0.45 * tongue)[..., None]

    teeth_height = min(0.38 * gap, 0.12 * width)
    top_curve = _central(upper - offset, 0.75)
    teeth = fill_alpha(size, [np.concatenate([top_curve, top_curve[::-1] + [0, teeth_height]])], 0.8)
    if gap > 0.2 * width:
        low_curve = _central(lower - offset, 0.55)
        teeth = np.maximum(teeth, 0.6 * fill_alpha(size, [np.concatenate([low_curve, low_curve[::-1] - [0, 0.4 * teeth_height]])], 0.8))
    xs = np.arange(size[1]) + offset[0]
    centre = (upper[0, 0] + upper[-1, 0]) / 2
    shade = np.clip(1.0 - np.abs(xs - centre) / (0.5 * width), 0.0, 1.0) ** 0.6
    teeth *= 0.9 * shade[None, :]
    paint += (style.teeth - paint) * teeth[..., None]
    return paint
