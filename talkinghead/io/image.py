"""Loading, resizing and saving still images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from ..errors import InputError

MIN_SIDE = 32

# Modes whose values are 16 (or more) bits per pixel; Pillow's convert("RGB") would clip them
# to 255 instead of scaling, turning most of the picture white.
_WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def load_image(path: str | Path) -> np.ndarray:
    """Read a photo as it is meant to be seen.

    Applies the EXIF orientation, converts any colour mode to RGB and composites transparent
    images onto white. Returns (H, W, 3) uint8 RGB in [0, 255].
    Raises InputError naming the file when it is missing, not an image, or under 32 px a side.
    """
    name = str(path)
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb(img)
    except FileNotFoundError:
        raise InputError(f"{name}: cannot read image (file not found)") from None
    except Image.DecompressionBombError as exc:
        raise InputError(f"{name}: cannot read image (too many pixels: {exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports undecodable data as OSError (UnidentifiedImageError is one) and
        # some broken headers as SyntaxError or ValueError.
        raise InputError(f"{name}: cannot read image ({_reason(exc)})") from None
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise InputError(f"{name}: image too small ({width}x{height}, need at least {MIN_SIDE} px a side)")
    return rgb


def _reason(exc: Exception) -> str:
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _to_rgb(img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a Pillow image in any mode."""
    if img.mode in _WIDE_GRAY_MODES:
        gray = np.asarray(img, dtype=np.float64)
        gray = np.clip(gray / 257.0, 0, 255).round().astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if img.mode == "F":
        gray = np.clip(np.asarray(img, dtype=np.float64), 0, 255).round().astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if _has_alpha(img):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.array(img.convert("RGB"), dtype=np.uint8)


def _has_alpha(img: Image.Image) -> bool:
    # Palette and grayscale images keep their transparent colour in info, not in a band.
    return img.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in img.info


def limit_size(image: np.ndarray, max_size: int) -> tuple[np.ndarray, float]:
    """Shrink an image so that its longer side is at most `max_size` pixels.

    image: (H, W) or (H, W, C) array of any dtype cv2 resizes (usually uint8 RGB).
    Returns the (possibly) resized image and the scale factor applied (new / old, 1.0 if
    unchanged). Images are never enlarged.
    """
    if max_size < 1:
        raise ValueError(f"max_size must be positive, got {max_size}")
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_size:
        return image, 1.0
    scale = max_size / longer
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA averages the source pixels under each output pixel, so shrinking does not alias.
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write an image; the format (png, jpg, webp, ...) follows the file's suffix.

    image: (H, W, 3) uint8 RGB or (H, W) uint8 gray.
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W[, 3]) uint8 image, got {image.shape} {image.dtype}")
    options = {"quality": 95} if Path(path).suffix.lower() in (".jpg", ".jpeg", ".webp") else {}
    try:
        Image.fromarray(np.ascontiguousarray(image)).save(path, **options)
    except ValueError as exc:
        # Pillow raises ValueError for a suffix it has no writer for.
        raise InputError(f"{path}: cannot save image ({exc})") from None
