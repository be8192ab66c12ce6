"""The pipeline base classes: the contract every method implements.

    pipe = load_pipeline("osm")                       # or OSMPipeline(OSMConfig(...))
    result = pipe(TalkingHeadInputs("face.jpg", "speech.wav"), seed=0, diversity=0.5)
    result = pipe.generate("face.jpg", "speech.wav", seed=0)     # the same, positional inputs
    result.save("out.mp4")
    result = pipe.replay(TalkingHeadInputs("face.jpg", "speech.wav"), MotionSequence.load("m.npz"))  # no motion model

A pipeline declares four classes: `config_class` (its constructor's one argument),
`inputs_class` (what it is given), `options_class` (how it is asked to work, per call) and the
motion format its motion model makes. The front ends (CLI, demo, batch runner) work from those
declarations alone. `TalkingHeadPipeline` adds the photo + speech steps shared by baseline,
osm and the methods to come: face analysis, audio loading, a motion model, a renderer.
"""

from __future__ import annotations

import json
import logging
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from ..config import override
from ..errors import InputError
from ..face.backend import FaceBackend, analyze_face
from ..face.human_check import HumanFaceCheck
from ..facemodel.face_model import FaceModel
from ..io.api_inputs import audio_clip, image_array
from ..io.digest import checkpoint_hash
from ..io.image import image_size, limit_size, load_image
from ..registry import FACE_BACKENDS, RENDERERS
from ..render.base import Renderer, check_motion_format
from ..types import AudioClip, MotionSequence, SourceFace
from .config import PipelineConfig, check_device, config_dict, dotted_parent
from .inputs import AudioInput, ImageInput, TalkingHeadInputs, TaskInputs
from .output import GenerationResult, Provenance

log = logging.getLogger("talkinghead")

MAX_SEED = 2**32 - 1
PIPELINE_FILE = "pipeline.json"


@dataclass(frozen=True)
class FaceOptions:
    """Options of every pipeline that animates a photo (talking heads and listeners). `help`
    metadata feeds the CLI and the demo."""

    fps: float = field(default=25.0, metadata={"help": "frames per second of the video"})
    still: bool = field(default=False, metadata={"help": "keep the head still (lips and eyes still move)"})
    expression_scale: float = field(default=1.0, metadata={"help": "strength of mouth motion (1 = natural)"})
    face_index: int = field(default=0, metadata={"help": "which face to animate, 0 = the largest"})
    max_size: int = field(default=1024, metadata={"help": "downscale images whose longer side exceeds this (pixels)"})
    allow_non_human: bool = field(
        default=False, metadata={"help": "animate a face even when it does not look human (an animal's), instead of refusing it"}
    )


@dataclass(frozen=True)
class GenerateOptions(FaceOptions):
    """Options every talking-head pipeline accepts."""

    mouth: Literal["content", "audio2exp-v2", "audio2exp", "loudness"] | None = field(
        default=None,
        metadata={"help": "what moves the lips: content (the speech's phones), audio2exp-v2 (the same sized by the voice), "
                          "audio2exp or loudness (for comparison); default: the pipeline config's (content)"},
    )  # fmt: skip


def random_seed() -> int:
    return int(np.random.default_rng().integers(0, 2**31 - 1))


def check_seed(seed: Any) -> int:
    """The seed as an int in [0, 2**32 - 1], or InputError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be a whole number, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise InputError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    return int(seed)


def motion_for_audio(motion: MotionSequence, audio: AudioClip, fps: float | None, name: str) -> MotionSequence:
    """`motion` fitted to `audio`: resampled to `fps` when given, then cut or held on its last
    frame to the audio's length, with a notice when the lengths differ by more than a frame."""
    if fps is not None and fps != motion.fps:
        motion = motion.resampled(fps)
    frames = audio.num_frames(motion.fps)
    if abs(len(motion) - frames) > 1:
        how = "cut" if len(motion) > frames else "held on its last frame"
        log.info("%s lasts %.2f s, the audio %.2f s: the motion is %s to the audio's length", name, motion.duration, audio.duration, how)
    return motion.with_length(frames)


class Pipeline(ABC):
    """Base class: `pipe(inputs, *, seed=None, **options) -> GenerationResult`."""

    name: ClassVar[str]
    #: what the pipeline makes: "talking_head" (face image + speech -> video) or "listener"
    #: (listener face image + speaker video -> video of the listener responding); the CLI
    #: (`generate` / `listen`) and the demo's tabs group pipelines by it.
    kind: ClassVar[str] = "talking_head"
    config_class: ClassVar[type[PipelineConfig]] = PipelineConfig
    inputs_class: ClassVar[type[TaskInputs]] = TalkingHeadInputs
    options_class: ClassVar[type] = GenerateOptions
    #: what the motion model makes (facemodel.face_model.MOTION_FORMATS); the renderer must take it
    motion_format: ClassVar[str] = "basis_coefficients"

    def __init__(self, config: PipelineConfig | None = None):
        self.config = config if config is not None else self.config_class()
        if not isinstance(self.config, self.config_class):
            raise TypeError(f"{self.name} pipeline takes a {self.config_class.__name__}, got {type(self.config).__name__}")
        check_device(self.config.device)

    # -- the contract -------------------------------------------------------------------------
    def __call__(self, inputs: TaskInputs, *, seed: int | None = None, **options: Any) -> GenerationResult:
        """Make a video from `inputs` (an instance of `inputs_class`).

        seed: makes the result reproducible; None draws one (recorded in the provenance).
        options: see `options_class` (unknown names raise TypeError).
        """
        if not isinstance(inputs, self.inputs_class):
            raise TypeError(f"{self.name} pipeline takes {self.inputs_class.__name__}, got {type(inputs).__name__}")
        opts = self.parse_options(options)
        inputs.validate()
        seed = random_seed() if seed is None else check_seed(seed)
        result = self.run(inputs, seed=seed, options=opts)
        result.provenance = self.provenance(inputs, seed, opts)
        return result

    def generate(self, *inputs: Any, seed: int | None = None, **options: Any) -> GenerationResult:
        """`pipe(inputs_class(*inputs), seed=seed, **options)`: e.g. generate(image, audio)."""
        return self(self.inputs_class(*inputs), seed=seed, **options)

    @abstractmethod
    def run(self, inputs: TaskInputs, *, seed: int, options: Any) -> GenerationResult:
        """The method itself, on validated inputs and parsed options."""

    def replay(self, inputs: TaskInputs, motion: MotionSequence, *, seed: int | None = None, name: str = "<motion>",
               **options: Any) -> GenerationResult:  # fmt: skip
        """A video of `inputs` driven by a given `motion` (saved with --save-motion, tracked from
        a video) instead of the pipeline's own motion model.

        The video follows the audio: the motion is resampled when `fps` is among the options,
        then cut or held on its last frame to the audio's length (with a notice). `name` (the
        motion's file) is recorded as the provenance's "motion" input.
        """
        if not isinstance(inputs, self.inputs_class):
            raise TypeError(f"{self.name} pipeline takes {self.inputs_class.__name__}, got {type(inputs).__name__}")
        opts = self.parse_options(options)
        inputs.validate()
        seed = random_seed() if seed is None else check_seed(seed)
        result = self.run_replay(inputs, motion, seed=seed, options=opts)
        fitted = motion_for_audio(motion, result.audio, options.get("fps"), name)
        provenance = self.provenance(inputs, seed, opts)
        provenance = replace(provenance, inputs={**provenance.inputs, "motion": name})
        return replace(result, motion=fitted, provenance=provenance)

    def run_replay(self, inputs: TaskInputs, motion: MotionSequence, *, seed: int, options: Any) -> GenerationResult:
        """What `replay` builds on: a result whose motion it then replaces. This fallback runs
        the whole method, motion model included; pipelines that can load their inputs without
        it override this (TalkingHeadPipeline does)."""
        return self.run(inputs, seed=seed, options=options)

    def check(self, inputs: TaskInputs, **options: Any) -> dict[str, Any]:
        """Validate inputs and options as `__call__` would, without making anything (the CLI's
        --dry-run); returns what was found, for a report."""
        self.parse_options(options)
        inputs.validate()
        return {}

    # -- options ------------------------------------------------------------------------------
    @classmethod
    def unknown_options(cls, options: dict[str, Any]) -> list[str]:
        """The names in `options` that this pipeline's options_class does not have, sorted."""
        return sorted(set(options) - {f.name for f in fields(cls.options_class)})

    @classmethod
    def parse_options(cls, options: dict[str, Any]) -> Any:
        unknown = cls.unknown_options(options)
        if unknown:
            known = sorted(f.name for f in fields(cls.options_class))
            raise TypeError(f"{cls.name} pipeline got unknown option(s) {unknown}; it accepts {known}")
        return override(cls.options_class(), options, f"{cls.name} options")

    # -- config, devices, provenance ------------------------------------------------------------
    def to(self, device: str) -> "Pipeline":
        """Move every model and the renderer to `device` ("cpu", "cuda", "cuda:1")."""
        self.config = replace(self.config, device=check_device(device))
        return self

    def checkpoints(self, options: Any = None) -> dict[str, Path]:
        """Weight name -> checkpoint folder, for the weights this pipeline uses (with `options`,
        a call's parsed options, when they choose between models)."""
        return {}

    def provenance(self, inputs: TaskInputs, seed: int, options: Any) -> Provenance:
        from .. import __version__

        given = {f.name: str(getattr(inputs, f.name)) if isinstance(getattr(inputs, f.name), (str, Path)) else "<array>"
                 for f in inputs.input_fields() if getattr(inputs, f.name) is not None}  # fmt: skip
        return Provenance(
            pipeline=self.name,
            version=__version__,
            seed=seed,
            options=config_dict(options),
            inputs=given,
            config=self.config_dict(),
            checkpoints={name: checkpoint_hash(folder) for name, folder in sorted(self.checkpoints(options).items())},
        )

    def config_dict(self) -> dict[str, Any]:
        """The config as JSON (what `load_pipeline(name, overrides=...)` rebuilds it from)."""
        return config_dict(self.config)

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write pipeline.json (name, version, config) and a copy of every checkpoint it uses
        into `folder`; `load_pipeline(folder)` rebuilds the same pipeline anywhere."""
        from .. import __version__

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = self.config_dict()
        for name, source in self.checkpoints().items():
            shutil.copytree(source, folder / name, dirs_exist_ok=True)
            section, field_name = dotted_parent(config, self.checkpoint_fields[name])
            section[field_name] = name
        record = {"pipeline": self.name, "version": __version__, "config": config}
        (folder / PIPELINE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        return folder

    #: weight name (as in `checkpoints()`) -> dotted config field holding its folder
    checkpoint_fields: ClassVar[dict[str, str]] = {}

    def warm_up(self) -> "Pipeline":
        """Load now what the first call would load on demand (detectors, networks), so that
        timing a call measures the work, not the loading (the batch runner calls it)."""
        return self

    def close(self) -> None:
        """Release native resources (face detectors); the pipeline can be used again after."""

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class TalkingHeadPipeline(Pipeline):
    """Photo + speech pipelines: face analysis + audio loading (shared), a motion model (each
    subclass's `make_motion`), the face model and a renderer (shared)."""

    audio_sample_rate: ClassVar[int] = 16000
    checkpoint_fields: ClassVar[dict[str, str]] = {"expression_basis": "face_model.basis_checkpoint"}

    def __init__(self, config: PipelineConfig | None = None):
        super().__init__(config)
        cfg = self.config
        backend_cls = FACE_BACKENDS.get(cfg.face_backend)
        self._face_backend: FaceBackend | None = None
        self._human_check: HumanFaceCheck | None = None
        self.face_model = FaceModel(cfg.face_model, layout=backend_cls.layout)
        renderer_cls = RENDERERS.get(cfg.renderer)
        check_motion_format(cfg.renderer, renderer_cls, self.name, self.motion_format)
        renderer_config = override(renderer_cls.config_class(), cfg.renderer_config, f"renderer_config ({cfg.renderer})")
        self.renderer: Renderer = renderer_cls(renderer_config, self.face_model, cfg.device)

    def run(self, inputs: TalkingHeadInputs, *, seed: int, options: GenerateOptions) -> GenerationResult:
        source = self.load_source(inputs.image, options)
        clip = self.load_audio(inputs.audio)
        motion = self.make_motion(source, clip, seed=seed, options=options, transcript=inputs.transcript_text())
        return GenerationResult(source=source, audio=clip, motion=motion, renderer=self.renderer)

    def run_replay(self, inputs: TalkingHeadInputs, motion: MotionSequence, *, seed: int,
                   options: GenerateOptions) -> GenerationResult:  # fmt: skip
        """Face and audio only: the motion model is not run (it would cost seconds and may
        print notices, e.g. "no speech detected", about a motion that is thrown away)."""
        source = self.load_source(inputs.image, options)
        clip = self.load_audio(inputs.audio)
        return GenerationResult(source=source, audio=clip, motion=motion, renderer=self.renderer)

    def check(self, inputs: TalkingHeadInputs, **options: Any) -> dict[str, Any]:
        """Also reads the image (finding the face) and decodes the audio."""
        opts = self.parse_options(options)
        inputs.validate()
        source = self.load_source(inputs.image, opts)
        clip = self.load_audio(inputs.audio)
        x0, y0, x1, y1 = (int(round(v)) for v in source.box)
        return {"image": f"{source.size[1]}x{source.size[0]} with a face at ({x0}, {y0})-({x1}, {y1})",
                "audio": f"{clip.duration:.2f} s", "frames": clip.num_frames(opts.fps)}  # fmt: skip

    @abstractmethod
    def make_motion(
        self, source: SourceFace, clip: AudioClip, *, seed: int, options: GenerateOptions, transcript: str | None = None
    ) -> MotionSequence:
        """The method-specific part: a MotionSequence for this face and audio (transcript: the
        words spoken, if the user gave them)."""

    @classmethod
    def parse_options(cls, options: dict[str, Any]) -> GenerateOptions:
        opts = super().parse_options(options)
        if not 1 <= opts.fps <= 120:
            raise InputError(f"fps must be between 1 and 120, got {opts.fps:g}")
        if opts.max_size < 32:
            raise InputError(f"max_size must be at least 32 pixels, got {opts.max_size}")
        if opts.face_index < 0:
            raise InputError(f"face_index must be 0 or more, got {opts.face_index}")
        return opts

    def to(self, device: str) -> "TalkingHeadPipeline":
        super().to(device)
        self.renderer.to(device)
        return self

    def checkpoints(self, options: Any = None) -> dict[str, Path]:
        return self.face_model.checkpoints()

    def config_dict(self) -> dict[str, Any]:
        """With the renderer's whole resolved config, not only the changes to it."""
        return {**super().config_dict(), "renderer_config": config_dict(self.renderer.config)}

    def warm_up(self) -> "TalkingHeadPipeline":
        self.face_backend  # noqa: B018 (the property loads the detector)
        self.human_check.warm_up()
        return self

    @property
    def face_backend(self) -> FaceBackend:
        if self._face_backend is None:
            options = {"weights_dir": self.config.face_backend_weights} if self.config.face_backend_weights else {}
            self._face_backend = FACE_BACKENDS.get(self.config.face_backend)(**options)
        return self._face_backend

    def load_source(self, source_image: ImageInput, options: GenerateOptions) -> SourceFace:
        if isinstance(source_image, SourceFace):
            return source_image
        path = None
        if isinstance(source_image, (str, Path)):
            path = str(source_image)
            stored_side = max(image_size(path))
            image = load_image(path, max_side=options.max_size)  # large JPEGs decode at a reduced size
            image, _ = limit_size(image, options.max_size)
            scale = max(image.shape[:2]) / stored_side
        else:
            image, scale = limit_size(image_array(source_image), options.max_size)
        if scale != 1.0:
            log.warning(
                "%s: image downscaled by %.2f to %dx%d (max_size=%d)",
                path or "image", scale, image.shape[1], image.shape[0], options.max_size,
            )
        check = None if options.allow_non_human else self.human_check
        return analyze_face(image, backend=self.face_backend, face_index=options.face_index, path=path, human_check=check)

    @property
    def human_check(self) -> HumanFaceCheck:
        """The check that refuses non-human faces unless allow_non_human (loaded on first use)."""
        if self._human_check is None:
            self._human_check = HumanFaceCheck()
        return self._human_check

    def load_audio(self, audio: AudioInput) -> AudioClip:
        return audio_clip(audio, self.audio_sample_rate)

    def close(self) -> None:
        if self._face_backend is not None:
            self._face_backend.close()
            self._face_backend = None
        if self._human_check is not None:
            self._human_check.close()
            self._human_check = None

