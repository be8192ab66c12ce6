"""Typed task inputs: what a pipeline is given, as opposed to how it is asked to work (options).

Each pipeline declares its `inputs_class` beside its `options_class`. The front ends build
their fields from these dataclasses alone: the CLI a flag per field (`--image`, `--audio`,
`--speaker-video`, ...), the demo a media component per field, batch manifests a column per
field. A new pipeline with new inputs therefore needs no front-end code.

Field metadata:
    kind: "image", "audio", "video", "file" or "text" (how a front end asks for it; file
        kinds are checked to exist before any work starts)
    help: one line for the CLI's --help and the page
    label: what it is called in the page and in messages (default: the name, spaced); the
        CLI's help shows it before the help
A field without a default is required.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Union

import numpy as np

from ..errors import InputError
from ..types import AudioClip, SourceFace

INPUT_KINDS = ("image", "audio", "video", "file", "text")
FILE_KINDS = ("image", "audio", "video", "file")

# What the API accepts (io/api_inputs.py says how each is read): paths, encoded bytes or file
# objects, PIL images, uint8 / [0, 1] float arrays; sounds only with their sample rate.
ImageInput = Union[str, Path, bytes, np.ndarray, SourceFace, Any]
AudioInput = Union[str, Path, bytes, AudioClip, tuple, Any]
PathInput = Union[str, Path]


def input_field(kind: str, help: str, *, default: Any = dataclasses.MISSING, label: str | None = None):
    """A dataclass field of an inputs class (see the module docstring)."""
    assert kind in INPUT_KINDS, kind
    metadata = {"kind": kind, "help": help, **({"label": label} if label else {})}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TaskInputs:
    """Base of every inputs class: validation and conversion shared by all front ends."""

    @classmethod
    def input_fields(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    @classmethod
    def required(cls) -> list[str]:
        return [f.name for f in cls.input_fields() if f.default is dataclasses.MISSING]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, relative_to: str | Path | None = None, where: str = "inputs") -> "TaskInputs":
        """Build from a mapping of field name -> value (a manifest row, a form). Empty strings
        count as missing; relative paths of file fields are taken from `relative_to`."""
        names = {f.name: f for f in cls.input_fields()}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise InputError(f"{where}: unknown input(s) {unknown}; this pipeline takes {', '.join(names)}")
        given = {}
        for name, value in values.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if names[name].metadata.get("kind") in FILE_KINDS and isinstance(value, (str, Path)) and relative_to is not None:
                value = _resolve(value, relative_to)
            given[name] = value
        missing = [name for name in cls.required() if name not in given]
        if missing:
            raise InputError(f"{where}: missing input(s) {', '.join(missing)}")
        return cls(**given)

    def validate(self) -> None:
        """InputError naming the first file input that does not exist (before any work)."""
        for f in self.input_fields():
            value = getattr(self, f.name)
            if f.metadata.get("kind") in FILE_KINDS and isinstance(value, (str, Path)):
                if not Path(value).expanduser().exists():
                    raise InputError(f"{value}: {f.metadata.get('label', f.name.replace('_', ' '))} not found")

    def file_paths(self) -> dict[str, str]:
        """Field name -> path, for the inputs given as files (provenance, messages)."""
        return {f.name: str(getattr(self, f.name)) for f in self.input_fields()
                if isinstance(getattr(self, f.name), (str, Path))}  # fmt: skip


def _resolve(value: str | Path, folder: str | Path) -> str:
    path = Path(str(value).strip()).expanduser()
    return str(path if path.is_absolute() else Path(folder) / path)


@dataclass(frozen=True)
class TalkingHeadInputs(TaskInputs):
    """One face photo and one speech clip (baseline, osm).

    image: a path, encoded bytes, a PIL image, an (H, W[, 1|3|4]) uint8 [0, 255] or float
        [0, 1] array, or an analysed SourceFace (io/api_inputs.py).
    audio: a path, encoded bytes, an AudioClip or (samples, sample_rate).
    transcript: optional words spoken (or a .txt file of them); the content mouth aligns them.
    """

    image: ImageInput = input_field("image", "jpg, png, webp", label="face photo")
    audio: AudioInput = input_field("audio", "wav, flac, mp3, m4a, ogg, or a video with sound", label="speech")
    transcript: str | None = input_field(
        "text", "the words spoken, or a .txt file of them (English): aligned to the speech for sharper lip timing", default=None
    )

    def transcript_text(self) -> str | None:
        """The transcript's words: the text itself, or the contents of the file it names."""
        if self.transcript is None or not str(self.transcript).strip():
            return None
        text = str(self.transcript).strip()
        path = Path(text).expanduser()
        if len(text) < 4096 and path.suffix.lower() == ".txt":
            try:
                return path.read_text(encoding="utf-8").strip() or None
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"{text}: cannot read the transcript ({exc.__class__.__name__})") from None
        return text


@dataclass(frozen=True)
class PoseControlInputs(TalkingHeadInputs):
    """A talking head whose head pose is given (OPT): a reference video whose pose is followed,
    and/or pose curves (CSV or JSON of yaw/pitch/roll per frame or keyframes)."""

    pose_video: PathInput | None = input_field("video", "reference video whose head pose the face follows", default=None)
    pose: PathInput | None = input_field("file", "pose curves: CSV or JSON of yaw/pitch/roll (and translation) per frame or keyframes", default=None)


@dataclass(frozen=True)
class ListenerInputs(TaskInputs):
    """A listener's face photo and the video of the speaker they respond to (MFR-Net)."""

    image: ImageInput = input_field("image", "jpg, png, webp", label="listener photo")
    speaker_video: PathInput = input_field("video", "video of the speaker, with sound, that the listener responds to")


@dataclass(frozen=True)
class DubbingInputs(TaskInputs):
    """A video of a speaking face and new speech for it (dubbing, lip re-sync)."""

    video: PathInput = input_field("video", "video of the face to re-voice")
    audio: AudioInput = input_field("audio", "the new speech")
