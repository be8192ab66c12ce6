"""Gradio components the demo adjusts: an image input whose unreadable or oversized uploads
give a sentence.

This module imports gradio; only the page builders (app.py, inputs_form.make_input_component) import it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr
from PIL import Image

from ..errors import InputError
from ..io.image import ImageTooLargeError, check_image_pixels
from .generation import pixels_refusal


def face_image(**kwargs) -> gr.Image:
    """A gr.Image that reports a file it cannot open as a message in the page.

    Plain gr.Image opens every upload with PIL before our code runs, and its exception would
    show as a bare "Error". The check wraps this one component's preprocess step: a subclass
    would make gradio write a .pyi stub next to this module at import time.
    """
    image = gr.Image(**kwargs)
    image.preprocess = _readable_errors(image.preprocess)
    return image


def _readable_errors(preprocess):
    @functools.wraps(preprocess)
    def wrapper(payload):
        try:
            return preprocess(payload)
        except (OSError, ValueError, Image.DecompressionBombError):
            name = Path(payload.orig_name or payload.path or "image").name if payload is not None else "image"
            raise gr.Error(
                f"{name}: cannot read this file as an image. Please use a JPG, PNG or WebP photo.",
                duration=None,
                print_exception=False,
            ) from None

    return wrapper


def refuse_large_images(image: gr.Image, max_pixels: int) -> None:
    """Make `image` refuse uploads whose header states more than `max_pixels`, with a sentence.

    gradio opens every upload with Pillow before our code runs (only the header, for a file
    path); the check comes first, so Pillow's own bomb warning never fires for a refused photo.
    """
    preprocess = image.preprocess

    @functools.wraps(preprocess)
    def wrapper(payload):
        if payload is not None and payload.path:
            _check_pixels(payload, max_pixels)
        return preprocess(payload)

    image.preprocess = wrapper


def _check_pixels(payload, max_pixels: int) -> None:
    name = Path(payload.orig_name or payload.path).name
    try:
        check_image_pixels(payload.path, max_pixels)
    except ImageTooLargeError as exc:
        raise gr.Error(pixels_refusal(name, exc), duration=None, print_exception=False) from None
    except InputError:
        pass  # not an image: the wrapped preprocess says so in its own words
