"""Gradio components the demo adjusts: an image input whose unreadable uploads give a sentence.

This module imports gradio; only app.py imports it.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from gradio.events import Dependency

class FaceImage(gr.Image):
    """gr.Image (same front end) that reports a file it cannot open as a message in the page.

    Plain gr.Image opens every upload with PIL before our code runs, and its exception would
    show as a bare "Error".
    """

    is_template = True  # makes gradio use the parent's front-end component ("image")

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except (OSError, ValueError) as exc:
            name = Path(payload.orig_name or payload.path or "image").name if payload is not None else "image"
            raise gr.Error(
                f"{name}: cannot read this file as an image. Please use a JPG, PNG or WebP photo.",
                duration=None,
                print_exception=False,
            ) from None
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component