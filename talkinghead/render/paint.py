"""Small painting helpers shared by the mouth and eyelid synthesis: polygons with feathered
edges, blending into a crop of a frame, colour sampling."""

from __future__ import annotations

import cv2
import numpy as np

SUBPIXEL_BITS = 2  # cv2.fillPoly fixed-point bits: quarter-pixel outlines
_SUB = float(1 << SUBPIXEL_BITS)


def median_colour(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(3,) float64 median RGB of the pixels nearest to (n, 2) points."""
    h, w = image.shape[:2]
    xs = np.clip(np.round(points[:, 0]).astype(int), 0, w - 1)
    ys = np.clip(np.round(points[:, 1]).astype(int), 0, h - 1)
    return np.median(image[ys, xs].astype(np.float64), axis=0)


def fill_alpha(shape: tuple[int, int], polygons: list[np.ndarray], blur: float) -> np.ndarray:
    """(h, w) float32 coverage in [0, 1] of the given (n, 2) pixel polygons, edges feathered
    with a Gaussian of `blur` pixels."""
    canvas = np.zeros(shape, np.float32)
    cv2.fillPoly(canvas, [np.round(p * _SUB).astype(np.int32) for p in polygons], 1.0, lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    if blur > 0:
        canvas = cv2.GaussianBlur(canvas, (0, 0), blur)
    return canvas


def crop_box(points: np.ndarray, margin: float, image_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Integer (x0, y0, x1, y1) around points, clipped to the image; None if empty."""
    h, w = image_shape[:2]
    x0 = max(int(np.floor(points[:, 0].min() - margin)), 0)
    y0 = max(int(np.floor(points[:, 1].min() - margin)), 0)
    x1 = min(int(np.ceil(points[:, 0].max() + margin)) + 1, w)
    y1 = min(int(np.ceil(points[:, 1].max() + margin)) + 1, h)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def blend(frame: np.ndarray, mask: np.ndarray, box, colour: np.ndarray, alpha: np.ndarray) -> None:
    """In place: frame[box] <- frame * (1 - alpha) + colour * alpha; mask[box] <- max(mask, alpha).

    colour: (h, w, 3) float32 image or (3,) RGB; alpha: (h, w) float32 in [0, 1]."""
    x0, y0, x1, y1 = box
    region = frame[y0:y1, x0:x1].astype(np.float32)
    a = alpha[..., None]
    frame[y0:y1, x0:x1] = np.clip(region * (1 - a) + colour * a + 0.5, 0, 255).astype(np.uint8)
    np.maximum(mask[y0:y1, x0:x1], alpha, out=mask[y0:y1, x0:x1])
