"""Speaker and listener in one video: the speaker video's frames to the left of each rendered one.

Wraps any renderer. The speaker video is streamed (never held in memory) and resized to the
rendered frames' height; its frame at each output frame's time is taken, so the two frame
rates need not match. Masks cover the listener's half only: the speaker's pixels are real.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from PIL import Image

from ..io.video import probe_video, read_video
from ..types import MotionSequence, RenderedChunk, SourceFace
from .base import Renderer


class SpeakerFrames:
    """The frames of a video by time, read forwards once (a request for an earlier frame reopens it)."""

    def __init__(self, path: str | Path, height: int):
        self.path, self.height = Path(path), height
        self.fps = probe_video(path).fps
        self._reader: Iterator[np.ndarray] | None = None
        self._index, self._frame = -1, None

    def at(self, seconds: float) -> np.ndarray:
        """(height, W', 3) uint8 the frame showing at `seconds` (the last one after the end)."""
        wanted = int(seconds * self.fps + 1e-6)
        if self._reader is None or wanted < self._index:
            self._reader, self._index, self._frame = read_video(self.path), -1, None
        while self._index < wanted:
            frame = next(self._reader, None)
            if frame is None:
                break
            self._frame, self._index = self._resized(frame), self._index + 1
        return self._frame

    def _resized(self, frame: np.ndarray) -> np.ndarray:
        width = max(2, int(round(frame.shape[1] * self.height / frame.shape[0])))
        return np.asarray(Image.fromarray(frame).resize((width, self.height), Image.BILINEAR))


@dataclass
class _Prepared:
    inner: Any
    speaker: SpeakerFrames


class SideBySideRenderer(Renderer):
    """`inner`'s frames with the speaker video beside them; built per call (not registered)."""

    def __init__(self, inner: Renderer, speaker_video: str | Path):
        super().__init__(inner.config, inner.face_model, inner.device)
        self.inner, self.speaker_video = inner, speaker_video

    def prepare(self, source: SourceFace) -> _Prepared:
        return _Prepared(self.inner.prepare(source), SpeakerFrames(self.speaker_video, source.size[0]))

    def render(self, prepared: _Prepared, motion: MotionSequence, start: int = 0) -> RenderedChunk:
        chunk = self.inner.render(prepared.inner, motion, start)
        left = np.stack([prepared.speaker.at((start + i) / motion.fps) for i in range(len(chunk.frames))])
        frames = np.concatenate([left, chunk.frames], axis=2)
        masks = np.concatenate([np.zeros(left.shape[:3], np.uint8), chunk.masks], axis=2)
        return RenderedChunk(frames=frames, masks=masks, start=chunk.start)
