"""Configuration overrides: defaults live in the config dataclasses; YAML files only change them.

A pipeline's config is one dataclass equal to its constructor's argument (see
pipelines.config.PipelineConfig). A YAML file under configs/<pipeline>/ changes some of its
fields, nested sections mapping onto nested dataclasses:

    pipeline: baseline   # optional: the pipeline the file is written for
    motion:              # the pipeline's motion model config (e.g. BaselineMotionConfig)
      head:
        std_deg: [3.0, 2.0, 0.9]
    renderer_config:     # fields of the chosen renderer's config (e.g. WarpRendererConfig)
      interpolation: bilinear

Unknown names and values of the wrong type are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

from .errors import InputError

T = TypeVar("T")


def override(config: T, changes: Mapping[str, Any], where: str = "config") -> T:
    """A copy of the dataclass `config` with `changes` applied. Nested dataclasses take nested
    mappings; lists become tuples where the field is a tuple; each value is checked against
    the field's type."""
    if not isinstance(changes, Mapping):
        raise InputError(f"{where}: expected a mapping of field names, got {type(changes).__name__}")
    fields = {f.name: f for f in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    updates = {}
    for name, value in changes.items():
        if name not in fields:
            raise InputError(f"{where}: unknown field {name!r}; known: {', '.join(sorted(fields))}")
        current = getattr(config, name)
        if dataclasses.is_dataclass(current):
            value = override(current, value, f"{where}.{name}")
        else:
            value = checked_value(value, hints[name], f"{where}.{name}")
        updates[name] = value
    try:
        return dataclasses.replace(config, **updates)
    except (ValueError, TypeError) as exc:  # a config's own __post_init__ check
        raise InputError(f"{where}: {exc}") from None


def checked_value(value: Any, hint: Any, where: str) -> Any:
    """`value` converted to the annotated type `hint` (list -> tuple, int -> float), or InputError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return checked_value(value, arg, where)
            except InputError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is typing.Literal:
        if value not in args:
            raise InputError(f"{where}: must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where}: expected a list, got {value!r}")
        item = args[0] if args else Any
        if len(args) > 1 and args[1] is not Ellipsis:
            if len(value) != len(args):
                raise InputError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(checked_value(v, a, where) for v, a in zip(value, args))
        return tuple(checked_value(v, item, where) for v in value)
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    return _scalar(value, hint, where)


def _scalar(value: Any, hint: Any, where: str) -> Any:
    if hint is Any or not isinstance(hint, type):
        return value
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise InputError(f"{where}: expected true or false, got {value!r}")
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"{where}: expected a whole number, got {value!r}")
    if not isinstance(value, hint):
        raise InputError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def load_overrides(path: str | Path) -> tuple[str | None, dict[str, Any]]:
    """Read a YAML override file: (the pipeline it names, if any; the field overrides)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read config ({exc.__class__.__name__}: {exc})".splitlines()[0]) from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: a config file must be a mapping of pipeline config fields")
    pipeline = data.pop("pipeline", None)
    if pipeline is not None and not isinstance(pipeline, str):
        raise InputError(f"{path}: 'pipeline' must be a pipeline name, got {pipeline!r}")
    return pipeline, data
