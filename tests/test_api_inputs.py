"""The Python API takes the image and sound types people pass, and names the type it expects."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from talkinghead.errors import InputError
from talkinghead.io.api_inputs import audio_clip, image_array
from talkinghead.io.audio import write_wav
from talkinghead.types import AudioClip

from .conftest import syllables

RGB = (np.arange(40 * 50 * 3) % 251).astype(np.uint8).reshape(40, 50, 3)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "value",
    [RGB, RGB.astype(np.float32) / 255.0, RGB.astype(np.float64) / 255.0, RGB.astype(np.int64), Image.fromarray(RGB),
     png_bytes(Image.fromarray(RGB)), io.BytesIO(png_bytes(Image.fromarray(RGB))),
     np.concatenate([RGB, np.full((40, 50, 1), 255, np.uint8)], axis=2)],
    ids=["uint8", "float32", "float64", "int64", "PIL", "bytes", "BytesIO", "RGBA opaque"],
)  # fmt: skip
def test_the_same_picture_in_every_accepted_type(value):
    out = image_array(value)
    assert out.dtype == np.uint8 and out.shape == (40, 50, 3)
    np.testing.assert_array_equal(out, RGB)


def test_gray_and_transparent_images():
    gray = RGB[:, :, 0]
    for value in (gray, gray[:, :, None], Image.fromarray(gray), Image.fromarray(gray).convert("L")):
        out = image_array(value)
        assert out.shape == (40, 50, 3) and np.array_equal(out[:, :, 1], gray)
    clear = np.zeros((40, 50, 4), np.uint8)  # fully transparent black -> white, like image files
    assert np.all(image_array(clear) == 255) and np.all(image_array(Image.fromarray(clear, "RGBA")) == 255)


@pytest.mark.parametrize(
    "value, needle",
    [(None, "no image given"), (RGB.astype(np.float32), "float image values must be in [0, 1]"),
     (RGB.astype(np.uint16) * 300, "integer image values must be in [0, 255]"), (RGB > 5, "boolean"),
     (np.zeros((4, 5, 6, 3), np.uint8), "got shape (4, 5, 6, 3)"), (b"", "empty"), (b"not an image", "not an image file"),
     ([[1, 2], [3, 4]], "got list"), (3.5, "got float")],
    ids=["None", "float 0-255", "uint16", "bool", "4-D", "empty bytes", "junk bytes", "list", "number"],
)  # fmt: skip
def test_images_that_cannot_be_used_are_one_line_errors(value, needle):
    with pytest.raises(InputError) as caught:
        image_array(value)
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    if needle == "got list":
        assert "numpy array (H, W[, 1|3|4]) uint8 in [0, 255] or float in [0, 1]" in str(caught.value)


def test_float_0_255_gets_a_hint():
    with pytest.raises(InputError, match="looks like 0-255: pass it as uint8"):
        image_array(RGB.astype(np.float32))


def test_sounds_in_every_accepted_type(tmp_path):
    samples = syllables(1.0)
    path = tmp_path / "s.wav"
    write_wav(path, AudioClip(samples, 16000))
    for value in (AudioClip(samples, 16000), (samples, 16000), (samples.tolist(), 16000.0), path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        clip = audio_clip(value, 16000)
        assert clip.sample_rate == 16000 and abs(clip.duration - 1.0) < 0.01
    stereo = audio_clip((np.stack([samples, samples], axis=1), 16000), 16000)
    assert stereo.samples.ndim == 1
    assert audio_clip((syllables(1.0, 8000), 8000), 16000).sample_rate == 16000


@pytest.mark.parametrize(
    "value, needle",
    [(syllables(1.0), "an audio array needs its sample rate"), (None, "no audio given"), ((syllables(1.0), "fast"), "sample rate must be a whole number"),
     ((syllables(1.0), 16000, 1), "(samples, sample_rate), got 3 items"), (b"", "empty"), (b"\x00junk" * 10, "the 50 bytes given as the audio"),
     (12, "got int")],
    ids=["bare array", "None", "bad rate", "3-tuple", "empty bytes", "junk bytes", "number"],
)  # fmt: skip
def test_sounds_that_cannot_be_used_are_one_line_errors(value, needle):
    with pytest.raises(InputError) as caught:
        audio_clip(value, 16000)
    message = str(caught.value)
    assert needle in message and "\n" not in message and "[" not in message.split(":")[0]  # never prints the array


def test_the_pipeline_takes_a_pil_image_and_a_tuple(source_face, portrait):
    from talkinghead.api import load_pipeline

    with load_pipeline("baseline") as pipe:
        report = pipe.check(pipe.inputs_class(image=Image.fromarray(portrait), audio=(syllables(1.0), 16000)), fps=10.0)
        assert report
        with pytest.raises(InputError, match="an audio array needs its sample rate"):
            pipe.check(pipe.inputs_class(image=portrait, audio=syllables(1.0)), fps=10.0)
        with pytest.raises(InputError, match="float image values must be in"):
            pipe.check(pipe.inputs_class(image=portrait.astype(np.float32), audio=(syllables(1.0), 16000)), fps=10.0)
