"""Manifest cells -> option values: text (CSV, or strings in JSONL/YAML) parsed as the type a
pipeline's options dataclass declares, then checked by `config.checked_value`.

Parsing is lenient and checking strict: text that does not parse is passed on unchanged, so
that checked_value's message shows exactly what the manifest says ("expected a whole number,
got 'ten'").
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

TRUE = ("true", "yes", "y", "on", "1")
FALSE = ("false", "no", "n", "off", "0")


def is_empty(value: Any) -> bool:
    """Empty cells, blank strings and nulls all mean 'not given' (the default applies)."""
    return value is None or (isinstance(value, str) and not value.strip())


def from_text(text: str, hint: Any) -> Any:
    """`text` as a value of the annotated type `hint`: bool, int, float, Literal, Enum or a
    tuple of those (items separated by spaces or commas); anything else stays text."""
    hint = _without_none(hint)
    text = text.strip()
    origin = typing.get_origin(hint)
    if hint is bool:
        low = text.lower()
        return True if low in TRUE else False if low in FALSE else text
    if hint in (int, float):
        return _number(text, hint)
    if origin is tuple:
        args = [a for a in typing.get_args(hint) if a is not Ellipsis] or [str]
        items = text.replace(",", " ").split()
        # tuple[float, float, float] gives each position its type; tuple[int, ...] one for all
        return [from_text(item, args[i] if len(args) == len(items) else args[0]) for i, item in enumerate(items)]
    if origin is typing.Literal:
        return next((choice for choice in typing.get_args(hint) if str(choice) == text), text)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next((member for member in hint if str(member.value) == text), text)
    return text


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        return text


def _without_none(hint: Any) -> Any:
    """`X | None` -> X; a union of several types stays as it is (its cells stay text)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint
