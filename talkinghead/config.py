"""Configuration overrides: defaults live in the config dataclasses; YAML files only change them.

    motion:            # fields of the pipeline's motion config (e.g. BaselineMotionConfig)
      head:
        std_deg: [3.0, 2.0, 0.9]
    renderer:          # fields of the renderer's config (e.g. WarpRendererConfig)
      interpolation: bilinear

Unknown names are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, TypeVar

from .errors import InputError

T = TypeVar("T")
SECTIONS = ("motion", "renderer")


def override(config: T, changes: Mapping[str, Any], where: str = "config") -> T:
    """A copy of the dataclass `config` with `changes` applied. Nested dataclasses take nested
    mappings; lists become tuples where the default is a tuple."""
    if not isinstance(changes, Mapping):
        raise InputError(f"{where}: expected a mapping of field names, got {type(changes).__name__}")
    fields = {f.name: f for f in dataclasses.fields(config)}
    updates = {}
    for name, value in changes.items():
        if name not in fields:
            raise InputError(f"{where}: unknown field {name!r}; known: {', '.join(sorted(fields))}")
        current = getattr(config, name)
        if dataclasses.is_dataclass(current):
            value = override(current, value, f"{where}.{name}")
        elif isinstance(current, tuple) and isinstance(value, list):
            value = tuple(value)
        updates[name] = value
    return dataclasses.replace(config, **updates)


def load_overrides(path: str | Path) -> dict[str, Any]:
    """Read a YAML override file: a mapping with the optional sections motion and renderer."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read config ({exc.__class__.__name__}: {exc})".splitlines()[0]) from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: a config file must be a mapping with sections {', '.join(SECTIONS)}")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise InputError(f"{path}: unknown section(s) {unknown}; known: {', '.join(SECTIONS)}")
    return data
