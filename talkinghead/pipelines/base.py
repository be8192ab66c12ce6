"""The pipeline base class: the `generate()` contract every method implements.

A pipeline = face analysis + audio loading (shared) + a motion model (its own) + a renderer
(shared). Subclasses implement `make_motion`; everything else is common.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Union

import numpy as np

from ..errors import InputError
from ..face.backend import FaceBackend, analyze_face
from ..io.audio import audio_from_array, load_audio
from ..io.image import limit_size, load_image
from ..registry import DEFAULT_RENDERER, EXPRESSION_BASES, FACE_BACKENDS, RENDERERS
from ..types import AudioClip, GenerationResult, MotionSequence, SourceFace

log = logging.getLogger("talkinghead")

ImageInput = Union[str, Path, np.ndarray, SourceFace]
AudioInput = Union[str, Path, AudioClip, tuple]


@dataclass(frozen=True)
class GenerateOptions:
    """Options every talking-head pipeline accepts. `help` metadata feeds the CLI and the demo."""

    fps: float = field(default=25.0, metadata={"help": "frames per second of the video"})
    still: bool = field(default=False, metadata={"help": "keep the head still (lips and eyes still move)"})
    expression_scale: float = field(default=1.0, metadata={"help": "strength of mouth motion (1 = natural)"})
    face_index: int = field(default=0, metadata={"help": "which face to animate, 0 = the largest"})
    max_size: int = field(default=1024, metadata={"help": "downscale images whose longer side exceeds this (pixels)"})


def basis_for_layout(renderer_config: Any, layout: str) -> Any:
    """The renderer config, switched to the geometric expression basis when its default basis
    was learned on another landmark topology (e.g. the learned basis and 68-point faces)."""
    name = getattr(renderer_config, "basis", None)
    supported = getattr(EXPRESSION_BASES.get(name), "layouts", None) if name else None
    if supported is None or layout in supported:
        return renderer_config
    log.info("the %s expression basis needs %s landmarks; using the geometric basis for %s", name, "/".join(supported), layout)
    return replace(renderer_config, basis="geometric")


def random_seed() -> int:
    return int(np.random.default_rng().integers(0, 2**31 - 1))


class Pipeline(ABC):
    """Base class. `generate(source_image, audio, *, seed=None, **options) -> GenerationResult`."""

    name: ClassVar[str]
    #: what the pipeline makes: "talking_head" (face image + speech -> video) or "listener"
    #: (listener face image + speaker video -> video of the listener responding); front ends
    #: such as the demo group pipelines by it.
    kind: ClassVar[str] = "talking_head"
    #: the dataclass of the pipeline's motion model configuration (its constructor's `config`)
    config_class: ClassVar[type]
    options_class: ClassVar[type[GenerateOptions]] = GenerateOptions
    audio_sample_rate: ClassVar[int] = 16000

    def __init__(
        self,
        *,
        face_backend: str = "mediapipe",
        face_backend_options: dict[str, Any] | None = None,
        renderer: str = DEFAULT_RENDERER,
        renderer_config: Any = None,
    ):
        self.face_backend_name = face_backend
        self.face_backend_options = dict(face_backend_options or {})
        self._face_backend: FaceBackend | None = None
        renderer_cls = RENDERERS.get(renderer)
        if renderer_config is None:
            renderer_config = basis_for_layout(renderer_cls.config_class(), FACE_BACKENDS.get(face_backend).layout)
        self.renderer = renderer_cls(renderer_config)

    # -- the contract -------------------------------------------------------------------------
    def generate(self, source_image: ImageInput, audio: AudioInput, *, seed: int | None = None, **options: Any) -> GenerationResult:
        """Make a talking-head video of the face in `source_image` speaking `audio`.

        source_image: a path, an (H, W, 3) uint8 RGB array, or an analysed SourceFace.
        audio: a path, an AudioClip, or (samples, sample_rate).
        seed: makes the result reproducible; None draws one (recorded in result.motion.meta).
        options: see `options_class` (unknown names raise TypeError).
        """
        opts = self.parse_options(options)
        source = self.load_source(source_image, opts)
        clip = self.load_audio(audio)
        seed = random_seed() if seed is None else int(seed)
        motion = self.make_motion(source, clip, seed=seed, options=opts)
        return GenerationResult(source=source, audio=clip, motion=motion, renderer=self.renderer)

    @abstractmethod
    def make_motion(self, source: SourceFace, clip: AudioClip, *, seed: int, options: GenerateOptions) -> MotionSequence:
        """The method-specific part: a MotionSequence for this face and audio."""

    # -- shared steps -------------------------------------------------------------------------
    @classmethod
    def unknown_options(cls, options: dict[str, Any]) -> list[str]:
        """The names in `options` that this pipeline's options_class does not have, sorted."""
        return sorted(set(options) - {f.name for f in fields(cls.options_class)})

    @classmethod
    def parse_options(cls, options: dict[str, Any]) -> GenerateOptions:
        unknown = cls.unknown_options(options)
        if unknown:
            known = sorted(f.name for f in fields(cls.options_class))
            raise TypeError(f"{cls.name} pipeline got unknown option(s) {unknown}; it accepts {known}")
        opts = replace(cls.options_class(), **options)
        if not 1 <= opts.fps <= 120:
            raise InputError(f"fps must be between 1 and 120, got {opts.fps:g}")
        if opts.max_size < 32:
            raise InputError(f"max_size must be at least 32 pixels, got {opts.max_size}")
        return opts

    @property
    def face_backend(self) -> FaceBackend:
        if self._face_backend is None:
            self._face_backend = FACE_BACKENDS.get(self.face_backend_name)(**self.face_backend_options)
        return self._face_backend

    def load_source(self, source_image: ImageInput, options: GenerateOptions) -> SourceFace:
        if isinstance(source_image, SourceFace):
            return source_image
        path = None
        if isinstance(source_image, (str, Path)):
            path = str(source_image)
            image = load_image(path)
        else:
            image = np.ascontiguousarray(source_image, dtype=np.uint8)
        image, scale = limit_size(image, options.max_size)
        if scale != 1.0:
            log.warning(
                "%s: image downscaled by %.2f to %dx%d (max_size=%d)",
                path or "image", scale, image.shape[1], image.shape[0], options.max_size,
            )
        return analyze_face(image, backend=self.face_backend, face_index=options.face_index, path=path)

    def load_audio(self, audio: AudioInput) -> AudioClip:
        if isinstance(audio, AudioClip):
            return audio
        if isinstance(audio, tuple):
            samples, rate = audio
            return audio_from_array(np.asarray(samples), int(rate), self.audio_sample_rate)
        return load_audio(audio, self.audio_sample_rate)

    def close(self) -> None:
        if self._face_backend is not None:
            self._face_backend.close()
            self._face_backend = None
