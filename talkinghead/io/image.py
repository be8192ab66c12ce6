"""Loading, resizing and saving still images."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from ..errors import InputError
from .scoped import scoped

MIN_SIDE = 32

#: The most pixels an image may have before it is refused (width x height, read from its header).
#: 64 million is about twice 8K UHD (7680x4320 = 33 MP) and above every common camera and phone
#: photo (45-61 MP full-frame bodies, 48-50 MP phone modes), while one decoded copy still stays
#: under 200 MB. It is also below Pillow's own bomb threshold (89 MP), so Pillow never warns
#: about an image this limit lets through (gradio's upload handling opens images with Pillow too).
#: 100+ MP medium-format and 108/200 MP phone modes need a raised limit (pixel_limit, --max-image-pixels).
MAX_PIXELS = 64_000_000

# Modes whose values are 16 (or more) bits per pixel; Pillow's convert("RGB") would clip them
# to 255 instead of scaling, turning most of the picture white.
_WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")

OVERRIDE = "raise the limit with load_image(max_pixels=N) or `with pixel_limit(N)` (0 = no limit)"

# The limit load_image applies when its caller passes none. Pipelines call load_image(path)
# without one, so a front end that lets its user change the limit does it for the duration of
# a call with `pixel_limit(n)`; a context variable keeps that to the calling thread.
_current_limit: ContextVar[int] = ContextVar("talkinghead_max_image_pixels", default=MAX_PIXELS)
# Pillow's bomb check is a module global; reading a header swaps it out under this lock.
_pillow_limit_lock = threading.Lock()


class ImageTooLargeError(InputError):
    """An image whose header states more pixels than the limit; nothing was decoded.

    Made by `of`; the message alone is enough to remake it with another text.
    """

    def __init__(self, message: str, name: str = "", width: int = 0, height: int = 0, limit: int = 0):
        super().__init__(message)
        self.name, self.width, self.height, self.limit = name, width, height, limit

    @classmethod
    def of(cls, name: str, width: int, height: int, limit: int, how: str = OVERRIDE) -> "ImageTooLargeError":
        """how: the words that tell the user how to raise the limit (front ends name their flag)."""
        message = (f"{name}: image too large ({width}x{height} = {megapixels(width * height)}, "
                   f"the limit is {megapixels(limit)}); use a smaller image, or {how}")  # fmt: skip
        return cls(message, name, width, height, limit)


def megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f} megapixels"


def pixel_limit(max_pixels: int | None):
    """Within the block, load_image refuses images over `max_pixels` (0 or None: no limit)."""
    return scoped(_current_limit, int(max_pixels or 0))


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) as stored in the file's header; nothing is decoded.

    Raises InputError naming the file when it is missing or not an image.
    """
    try:
        with _open_header(path) as img:
            return img.size
    except (OSError, SyntaxError, ValueError) as exc:
        raise _read_error(path, exc) from None


def check_image_pixels(path: str | Path, max_pixels: int | None = None) -> tuple[int, int]:
    """(width, height) from the header; ImageTooLargeError when over `max_pixels`.

    max_pixels: None for the current limit (MAX_PIXELS unless pixel_limit changed it), 0 for none.
    """
    width, height = image_size(path)
    _check_pixels(str(path), width, height, max_pixels)
    return width, height


def _check_pixels(name: str, width: int, height: int, max_pixels: int | None) -> None:
    limit = _current_limit.get() if max_pixels is None else max_pixels
    if limit and width * height > limit:
        raise ImageTooLargeError.of(name, width, height, limit)


def _open_header(path: str | Path) -> Image.Image:
    """Image.open (which reads only the header) without Pillow's own decompression-bomb check.

    Our limit replaces it: Pillow's would print a warning for 89-179 MP and raise for more,
    before we could name the size. The global is swapped only for the header read.
    """
    with _pillow_limit_lock:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def load_image(path: str | Path, max_pixels: int | None = None, max_side: int | None = None) -> np.ndarray:
    """Read a photo as it is meant to be seen.

    Applies the EXIF orientation, converts any colour mode to RGB and composites transparent
    images onto white. Returns (H, W, 3) uint8 RGB in [0, 255].
    max_pixels: images whose header states more pixels are refused before decoding
        (ImageTooLargeError); None for the current limit (MAX_PIXELS unless pixel_limit changed
        it), 0 for no limit.
    max_side: the caller will shrink the image to this longer side; JPEGs much larger are then
        decoded at 1/2, 1/4 or 1/8 scale (still at least twice max_side), which bounds memory.
    Raises InputError naming the file when it is missing, not an image, or under 32 px a side.
    """
    return decode_image(path, str(path), max_pixels, max_side)


def decode_image(source, name: str, max_pixels: int | None = None, max_side: int | None = None) -> np.ndarray:
    """load_image of a path or a binary file object (encoded bytes in memory), with `name`
    saying what it is in messages."""
    try:
        with _open_header(source) as img:
            _check_pixels(name, *img.size, max_pixels)
            if max_side:
                _draft(img, max_side)
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = pil_to_rgb(img)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:  # raised by some formats' frames (GIF, ICO) on load
        raise InputError(f"{name}: cannot read image (too many pixels: {exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _read_error(name, exc) from None
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise InputError(f"{name}: image too small ({width}x{height}, need at least {MIN_SIDE} px a side)")
    return rgb


def _draft(img: Image.Image, max_side: int) -> None:
    """Let a JPEG decode at the smallest DCT scale that keeps its longer side >= 2 * max_side.

    Twice the target so that the caller's INTER_AREA shrink still averages over two or more
    decoded pixels per output pixel, as it would from the full-size image. Other formats
    ignore drafts.
    """
    width, height = img.size
    scale = 2 * max_side / max(width, height)
    if scale < 0.5:  # below that, no DCT scale (1/2, 1/4, 1/8) would apply
        img.draft(img.mode, (max(1, int(width * scale) + 1), max(1, int(height * scale) + 1)))


def _read_error(path: str | Path, exc: Exception) -> InputError:
    # Pillow reports undecodable data as OSError (UnidentifiedImageError is one) and
    # some broken headers as SyntaxError or ValueError.
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: cannot read image (file not found)")
    return InputError(f"{path}: cannot read image ({_reason(exc)})")


def _reason(exc: Exception) -> str:
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def pil_to_rgb(img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a Pillow image in any mode."""
    if img.mode in _WIDE_GRAY_MODES:
        gray = np.asarray(img, dtype=np.float64)
        gray = np.clip(gray / 257.0, 0, 255).round().astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if img.mode == "F":
        gray = np.clip(np.asarray(img, dtype=np.float64), 0, 255).round().astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if img.mode == "RGB":  # no convert(): it would hold one more full-size copy
        return np.array(img, dtype=np.uint8)
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
