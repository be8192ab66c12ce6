"""What the Python API accepts as an image or a sound, turned into the arrays the pipelines use.

Images: a path; bytes / bytearray / a binary file object with an encoded image (PNG, JPEG...);
a PIL image in any mode; a numpy array (H, W) gray, (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA,
either uint8 in [0, 255] or float in [0, 1] (other integer types within [0, 255] are taken as
uint8). Transparency is composited onto white, as for image files.
Sounds: a path; bytes / a binary file object with an encoded sound; an AudioClip; or
(samples, sample_rate) with samples (S,) or (S, channels). A bare array is refused: without
its sample rate nobody can know how fast it plays.
Anything else gets a one-line InputError naming the type expected and the type given.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import InputError
from ..types import AudioClip
from .audio import audio_from_array, load_audio
from .image import decode_image, pil_to_rgb

IMAGE_TYPES = "a file path, encoded image bytes, a PIL image or a numpy array (H, W[, 1|3|4]) uint8 in [0, 255] or float in [0, 1]"
AUDIO_TYPES = "a file path, encoded audio bytes, an AudioClip or (samples, sample_rate)"


def type_name(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")


def image_array(value: Any) -> np.ndarray:
    """(H, W, 3) uint8 RGB from any accepted image value except paths (see the module
    docstring); InputError otherwise."""
    if value is None:
        raise InputError(f"no image given: pass {IMAGE_TYPES}")
    if isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "read"):
        return decoded_image(value)
    if isinstance(value, Image.Image):
        return pil_to_rgb(value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor, laid out (H, W, C)
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise InputError(f"image must be {IMAGE_TYPES}, got {type_name(value)}")
    return rgb_uint8(value)


def decoded_image(data: Any) -> np.ndarray:
    """(H, W, 3) uint8 of encoded image bytes, read like an image file (the same pixel limit,
    EXIF orientation and colour handling)."""
    raw = encoded_bytes(data)
    if not raw:
        raise InputError("the image bytes are empty")
    return decode_image(io.BytesIO(raw), f"the {len(raw)} bytes given as the image")


def rgb_uint8(array: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of a gray, RGB or RGBA array with uint8 or [0, 1] float values."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise InputError(f"image array must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {array.shape}")
    values = to_uint8(array)
    if values.shape[2] == 4:  # composite onto white, like transparent image files
        alpha = values[:, :, 3:].astype(np.float32) / 255.0
        values = np.round(values[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(values)


def to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        raise InputError("image array is boolean: give uint8 in [0, 255] or float in [0, 1]")
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise InputError("image array has NaN or infinite values")
        low, high = float(array.min(initial=0.0)), float(array.max(initial=0.0))
        if low < -1e-3 or high > 1.0 + 1e-3:
            hint = " (it looks like 0-255: pass it as uint8)" if high <= 255.0 and low >= 0.0 else ""
            raise InputError(f"float image values must be in [0, 1], got {low:.3g} to {high:.3g}{hint}")
        return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min(initial=0)), int(array.max(initial=0))
        if low < 0 or high > 255:
            raise InputError(f"integer image values must be in [0, 255], got {low} to {high} ({array.dtype}); scale 16-bit images to uint8")
        return array.astype(np.uint8)
    raise InputError(f"image must be {IMAGE_TYPES}, got {type_name(array)}")


def encoded_bytes(data: Any) -> bytes:
    """The bytes of bytes, a bytearray, a memoryview or a binary file object."""
    return bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else data.read()


def audio_clip(value: Any, sample_rate: int) -> AudioClip:
    """An AudioClip at `sample_rate` from any accepted sound value (see the module docstring);
    files through io.audio.load_audio (and its limits)."""
    if value is None:
        raise InputError(f"no audio given: pass {AUDIO_TYPES}")
    if isinstance(value, AudioClip):
        return value
    if isinstance(value, (str, Path)):
        return load_audio(value, sample_rate)
    if isinstance(value, tuple):
        if len(value) != 2 or isinstance(value[1], (np.ndarray, list, tuple)):
            raise InputError(f"audio tuple must be (samples, sample_rate), got {len(value)} items")
        samples, rate = value
        try:
            rate = int(rate)
        except (TypeError, ValueError):
            raise InputError(f"audio sample rate must be a whole number of Hz, got {rate!r}") from None
        samples = np.asarray(samples)
        if samples.dtype == object or not (np.issubdtype(samples.dtype, np.number)):
            raise InputError(f"audio samples must be numbers, got {type_name(samples)}")
        return audio_from_array(samples, rate, sample_rate)
    if isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "read"):
        return decoded_audio(value, sample_rate)
    if isinstance(value, (np.ndarray, list)):
        raise InputError("an audio array needs its sample rate: pass (samples, sample_rate) or an AudioClip")
    raise InputError(f"audio must be {AUDIO_TYPES}, got {type_name(value)}")


def decoded_audio(data: Any, sample_rate: int) -> AudioClip:
    """Encoded sound bytes decoded through a temporary file (ffmpeg reads files)."""
    raw = encoded_bytes(data)
    if not raw:
        raise InputError("the audio bytes are empty")
    with tempfile.TemporaryDirectory(prefix="talkinghead-audio-") as folder:
        path = Path(folder) / "audio"
        path.write_bytes(raw)
        try:
            clip = load_audio(path, sample_rate)
        except InputError as exc:
            raise InputError(f"the {len(raw)} bytes given as the audio: {str(exc).removeprefix(str(path) + ': ')}") from None
    return AudioClip(clip.samples, clip.sample_rate, None)
