"""The square face crop the neural renderer works in, and its paste back into the full photo.

The crop is fixed by the source face alone (centre and inter-ocular distance), so the same
photo region is rendered in every frame and the paste-back never moves. The mesh flow tapers to
zero at the crop's border, so the crop's edge matches the untouched photo around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...face.layout import get_layout
from ...facemodel.frame import canonical_shape


@dataclass(frozen=True)
class CropConfig:
    size: int = 256
    """Side of the crop in pixels: the generator's resolution."""
    side_iod: float = 4.2
    """Side of the crop in inter-ocular distances (face, hair and the top of the neck)."""
    lift_iod: float = 0.25
    """The crop's centre sits this far above the landmark centroid (hair needs more room than
    the neck)."""
    feather: float = 0.04
    """Width of the paste-back blend at the crop's edge, as a share of its side."""


@dataclass(frozen=True)
class FaceCrop:
    """origin: (x, y) of the crop's top-left corner in photo pixels; side: its side in photo
    pixels; size: its side in crop pixels."""

    origin: tuple[float, float]
    side: float
    size: int

    @classmethod
    def around(cls, landmarks: np.ndarray, layout: str, config: CropConfig) -> "FaceCrop":
        """The crop around a face: landmarks (N, 2+) in photo pixels."""
        frame, _ = canonical_shape(np.asarray(landmarks, np.float64), get_layout(layout))
        centre = np.asarray(landmarks, np.float64)[:, :2].mean(axis=0)
        centre[1] -= config.lift_iod * frame.scale
        side = config.side_iod * frame.scale
        return cls((float(centre[0] - side / 2), float(centre[1] - side / 2)), float(side), config.size)

    @property
    def zoom(self) -> float:
        """Crop pixels per photo pixel."""
        return self.size / self.side

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(..., 2+) photo pixel coordinates -> (..., 2) crop pixel coordinates."""
        return (np.asarray(points)[..., :2] - np.asarray(self.origin)) * self.zoom

    def _matrix(self) -> np.ndarray:
        z = self.zoom
        return np.array([[z, 0, -self.origin[0] * z], [0, z, -self.origin[1] * z]], np.float64)

    def cut(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 photo -> (size, size, 3) uint8 crop, edges replicated outside the photo."""
        matrix = self._matrix()
        if self.zoom < 1:
            # Shrink with area averaging first: warpAffine alone would alias fine hair and skin.
            factor = self.zoom
            image = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
            matrix = matrix.copy()
            matrix[:, :2] /= factor
        return cv2.warpAffine(image, matrix, (self.size, self.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def paste_weight(self, image_size: tuple[int, int], feather: float) -> tuple[np.ndarray, tuple[slice, slice]]:
        """(h, w, 1) float32 blend weight of the crop over its box in the photo (1 inside, ramping
        to 0 at the crop's edge), and the box as (rows, cols) slices of the photo."""
        box = self.box(image_size)
        ys = np.arange(box[0].start, box[0].stop) + 0.5
        xs = np.arange(box[1].start, box[1].stop) + 0.5
        ramp = max(feather * self.side, 1.0)

        def edge(values: np.ndarray, start: float) -> np.ndarray:
            return np.clip(np.minimum(values - start, start + self.side - values) / ramp, 0, 1)

        weight = edge(ys, self.origin[1])[:, None] * edge(xs, self.origin[0])[None, :]
        return weight[..., None].astype(np.float32), box

    def box(self, image_size: tuple[int, int]) -> tuple[slice, slice]:
        """The crop's box in the photo, clipped to the photo: (rows, cols) slices."""
        h, w = image_size
        x0, y0 = max(int(np.floor(self.origin[0])), 0), max(int(np.floor(self.origin[1])), 0)
        x1 = min(int(np.ceil(self.origin[0] + self.side)), w)
        y1 = min(int(np.ceil(self.origin[1] + self.side)), h)
        return slice(y0, y1), slice(x0, x1)

    def uncut(self, crop: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
        """(size, size, C) crop -> its pixels resampled over `box` of the photo (h, w, C) float32."""
        rows, cols = box
        z = self.zoom
        # Photo pixel (cols.start + j, rows.start + i) sits at crop pixel z * (p - origin).
        to_crop = np.array([[z, 0, z * (cols.start - self.origin[0])], [0, z, z * (rows.start - self.origin[1])]], np.float64)
        size = (cols.stop - cols.start, rows.stop - rows.start)
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        out = cv2.warpAffine(crop.astype(np.float32), to_crop, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(size[1], size[0], -1)
