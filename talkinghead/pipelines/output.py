"""What a pipeline returns: the generated video (rendered on demand) and how it was made.

Provenance (pipeline, version, seed, options, inputs, config, checkpoint hashes) travels with
the result: `GenerationResult.save` writes it into the mp4's metadata, where
`ffprobe -show_format` (or `io.video.read_metadata`) reads it back, and `summary()` gives it
to the CLI's --json output.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from ..types import AudioClip, MotionSequence, RenderedChunk, SourceFace

if TYPE_CHECKING:  # pragma: no cover
    from ..render.base import Renderer

#: prefix of the mp4 metadata keys written for every video
TAG_PREFIX = "talkinghead_"


@dataclass(frozen=True)
class Provenance:
    """How one video was made; enough to make it again with the same release.

    inputs: input name -> the file it came from ("<array>" for in-memory inputs).
    checkpoints: weight name -> sha256 of its model.safetensors.
    """

    pipeline: str
    version: str
    seed: int
    options: dict[str, Any]
    inputs: dict[str, str]
    config: dict[str, Any]
    checkpoints: dict[str, str]
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format_tags(self) -> dict[str, str]:
        """mp4 metadata: the headline facts as their own keys, everything in one JSON value."""
        return {
            f"{TAG_PREFIX}pipeline": self.pipeline,
            f"{TAG_PREFIX}version": self.version,
            f"{TAG_PREFIX}seed": str(self.seed),
            f"{TAG_PREFIX}provenance": json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")),
        }

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> "Provenance | None":
        """The provenance written by `format_tags`, or None if the tags have none."""
        text = tags.get(f"{TAG_PREFIX}provenance")
        return cls(**json.loads(text)) if text else None


@dataclass
class GenerationResult:
    """A generated talking-head video.

    Frames are rendered on demand, chunk by chunk, so a long video never has to sit in
    memory: `save()` and `iter_chunks()` stream; `frames` and `masks` render everything once
    and keep it.
    """

    source: SourceFace
    audio: AudioClip
    motion: MotionSequence
    renderer: "Renderer"
    provenance: Provenance | None = None
    chunk_size: int = 32
    _cache: RenderedChunk | None = field(default=None, repr=False)

    @property
    def fps(self) -> float:
        return self.motion.fps

    @property
    def num_frames(self) -> int:
        return len(self.motion)

    @property
    def seed(self) -> int | None:
        return self.provenance.seed if self.provenance else self.motion.meta.get("seed")

    def iter_chunks(self, chunk_size: int | None = None) -> Iterator[RenderedChunk]:
        """Render the video in chunks of at most `chunk_size` frames, in order."""
        if self._cache is not None:
            yield self._cache
            return
        step = chunk_size or self.chunk_size
        prepared = self.renderer.prepare(self.source)
        for start in range(0, self.num_frames, step):
            yield self.renderer.render(prepared, self.motion.slice(start, start + step), start=start)

    def _render_all(self) -> RenderedChunk:
        if self._cache is None:
            chunks = list(self.iter_chunks())
            self._cache = RenderedChunk(
                frames=np.concatenate([c.frames for c in chunks]),
                masks=np.concatenate([c.masks for c in chunks]),
                start=0,
            )
        return self._cache

    @property
    def frames(self) -> np.ndarray:
        """(T, H, W, 3) uint8 RGB, all frames (rendered once, then kept)."""
        return self._render_all().frames

    @property
    def masks(self) -> np.ndarray:
        """(T, H, W) uint8 manipulation masks in [0, 255] (see RenderedChunk)."""
        return self._render_all().masks

    def save(
        self,
        path: str | Path,
        *,
        masks_path: str | Path | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Path:
        """Write an H.264 + AAC mp4 (atomically; streamed in chunks, constant memory) with the
        provenance in its metadata.

        masks_path: optionally also write the manipulation masks as a grayscale mp4.
        progress: called with the number of frames written after each chunk.
        """
        from ..io.video import write_video

        return write_video(
            path,
            self.iter_chunks(),
            fps=self.fps,
            audio=self.audio,
            masks_path=masks_path,
            progress=progress,
            metadata=self.provenance.format_tags() if self.provenance else None,
        )

    def summary(self, path: str | Path | None = None) -> dict[str, Any]:
        """A JSON-ready description: file, frames, fps, duration, size, provenance."""
        height, width = self.source.size
        return {
            "video": str(path) if path is not None else None,
            "frames": self.num_frames,
            "fps": self.fps,
            "seconds": round(self.num_frames / self.fps, 3),
            "width": width,
            "height": height,
            "seed": self.seed,
            "provenance": self.provenance.to_dict() if self.provenance else None,
        }
