"""The demo server's limits: one place for their defaults (the CLI flags read them from here)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import InputError
from ..io.image import MAX_PIXELS


@dataclass(frozen=True)
class DemoSettings:
    """Limits that keep one shared server usable and its memory bounded.

    max_audio_seconds: longer speech is refused with a message (rendering time grows with it).
    max_upload_mb: the largest file the page accepts, stated on the page.
    max_image_side: the largest `max_size` option a visitor may ask for (pixels); the warp
        renderer's memory grows with the image area.
    max_image_pixels: larger photos (width x height, from the header) are refused before they
        are decoded; the library's limit by default. Above Pillow's own 89 MP the page would
        still accept them but Pillow warns in the server log when gradio opens the upload.
    concurrency: videos generated at the same time; later requests wait in the queue.
    queue_size: requests that may wait; beyond it the page says the queue is full.
    keep_outputs_seconds: generated videos are deleted this long after they were made.
    """

    max_audio_seconds: float = 60.0
    max_upload_mb: int = 20
    max_image_side: int = 2048
    max_image_pixels: int = MAX_PIXELS
    concurrency: int = 1
    queue_size: int = 16
    keep_outputs_seconds: int = 3600

    def __post_init__(self) -> None:
        for f in fields(self):
            if not getattr(self, f.name) > 0:
                raise InputError(f"{f.name.replace('_', '-')} must be positive, got {getattr(self, f.name)}")
