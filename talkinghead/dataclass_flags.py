"""Command-line flags from dataclass fields: a pipeline's inputs and options become flags of
`talkinghead generate` / `listen` / `batch`, so that the CLI never lists them by hand.

    inputs (pipelines.inputs): --image, --audio, --speaker-video, ...; required unless defaulted
    options (options_class):   bool -> --still / --no-still; int, float, str -> a value;
                               Literal / Enum -> one of the choices; tuple -> several values
Every flag defaults to None, so an option the user did not type keeps the pipeline's default.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import types
import typing
from typing import Any


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_input_flags(group: argparse._ActionsContainer, inputs_class: type) -> None:
    """One flag per field of `inputs_class` (file kinds take a path)."""
    for f in dataclasses.fields(inputs_class):
        kind = f.metadata.get("kind", "text")
        required = f.default is dataclasses.MISSING
        metavar = {"image": "IMAGE", "audio": "AUDIO", "video": "VIDEO", "file": "FILE"}.get(kind, "TEXT")
        label, help_text = f.metadata.get("label"), f.metadata.get("help", "")
        help_text = (f"{label} ({help_text})" if label else help_text) + ("" if required else " (optional)")
        group.add_argument(flag(f.name), dest=f.name, required=required, default=None, metavar=metavar, help=help_text)


def add_option_flags(group: argparse._ActionsContainer, options_class: type) -> None:
    """One flag per field of the options dataclass, typed after the field's annotation."""
    hints = typing.get_type_hints(options_class)
    for f in dataclasses.fields(options_class):
        group.add_argument(flag(f.name), dest=f.name, default=None, help=_help(f), **_argument_kind(hints[f.name]))


def _help(f: dataclasses.Field) -> str:
    default = f.default if f.default is not dataclasses.MISSING else None
    if isinstance(default, enum.Enum):
        default = default.value
    shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
    return f"{f.metadata.get('help', '')} (default: {shown})".strip()


def _argument_kind(annotation: Any) -> dict[str, Any]:
    """argparse keywords (type, action, nargs, choices) for a field of type `annotation`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else str
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return {"action": argparse.BooleanOptionalAction}
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        return {"choices": choices, "type": type(choices[0])}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"choices": [member.value for member in annotation]}
    if origin is tuple:
        item = typing.get_args(annotation)[0] if typing.get_args(annotation) else str
        return {"nargs": "+", "type": item, "metavar": item.__name__.upper()}
    if annotation in (int, float, str):
        return {"type": annotation, "metavar": annotation.__name__.upper()}
    return {"type": str}


def values_of(args: argparse.Namespace, dataclass_type: type) -> dict[str, Any]:
    """The fields of `dataclass_type` that the user gave on the command line (not None)."""
    given = {}
    for f in dataclasses.fields(dataclass_type):
        value = getattr(args, f.name, None)
        if value is not None:
            given[f.name] = tuple(value) if isinstance(value, list) else value
    return given
