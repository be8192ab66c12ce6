"""Gradio components the demo adjusts: an image input whose unreadable uploads give a sentence.

This module imports gradio; only the page builders (app.py, inputs_form.make_input_component) import it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr


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
        except (OSError, ValueError):
            name = Path(payload.orig_name or payload.path or "image").name if payload is not None else "image"
            raise gr.Error(
                f"{name}: cannot read this file as an image. Please use a JPG, PNG or WebP photo.",
                duration=None,
                print_exception=False,
            ) from None

    return wrapper
