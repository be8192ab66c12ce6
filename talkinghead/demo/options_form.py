"""A pipeline's options dataclass -> labelled form widgets, and the widgets' values -> options.

Every pipeline declares its options as a frozen dataclass (`Pipeline.options_class`, e.g.
GenerateOptions): field name, type, default and `metadata={"help": ...}`. The demo builds its
controls from that declaration alone, so defaults live in the pipeline and a new pipeline's
options appear in the page without UI code.

Field types and the widget each one gets:

    bool -> checkbox          int -> whole number           float -> number
    str -> text               Literal[...] / Enum -> choice  tuple[float, ...] -> numbers
    pathlib.Path -> file      Optional[X] -> as X, empty = the default

Optional metadata keys: "help" (the hint under the control), "label", "range" (lo, hi) for
a slider, "choices", and "widget" to override the kind (e.g. "video" for a reference video
given as a path).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..errors import InputError

log = logging.getLogger("talkinghead")

WIDGET_OF_TYPE: dict[type, str] = {bool: "checkbox", int: "integer", float: "number", str: "text", Path: "file"}
FILE_KINDS = ("file", "video")


@dataclass(frozen=True)
class OptionWidget:
    """How one option appears in the page.

    kind: one of "checkbox", "integer", "number", "text", "choice", "numbers", "file", "video".
    default: the dataclass field's default (None for an optional option left empty).
    choices: allowed values of a "choice" option; range: (lo, hi) shows a number as a slider.
    """

    name: str
    label: str
    kind: str
    default: Any
    help: str = ""
    choices: tuple = ()
    range: tuple[float, float] | None = None
    optional: bool = False


def option_widgets(options_class: type) -> list[OptionWidget]:
    """One OptionWidget per field of the dataclass `options_class` that a widget can show.

    A field of a type no widget fits is left out (logged): the pipeline then uses its default.
    """
    hints = typing.get_type_hints(options_class)
    widgets = []
    for f in dataclasses.fields(options_class):
        widget = _widget(f, hints[f.name])
        if widget is None:
            log.warning("%s.%s: no form widget for type %s; the default is used", options_class.__name__, f.name, hints[f.name])
        else:
            widgets.append(widget)
    return widgets


def _widget(f: dataclasses.Field, annotation: Any) -> OptionWidget | None:
    annotation, optional = _strip_optional(annotation)
    kind, choices = _kind_and_choices(annotation)
    kind = f.metadata.get("widget", kind)
    if kind not in CONVERTERS:
        return None
    choices = tuple(f.metadata.get("choices", choices))
    value_range = f.metadata.get("range")
    return OptionWidget(
        name=f.name,
        label=f.metadata.get("label", f.name.replace("_", " ")),
        kind=kind,
        default=_default(f),
        help=f.metadata.get("help", ""),
        choices=choices,
        range=tuple(value_range) if value_range is not None else None,
        optional=optional,
    )


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """(X, True) for Optional[X] / X | None, else (annotation, False)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _kind_and_choices(annotation: Any) -> tuple[str | None, tuple]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "choice", typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice", tuple(member.value for member in annotation)
    if origin is tuple and all(a in (int, float, Ellipsis) for a in typing.get_args(annotation)):
        return "numbers", ()
    return WIDGET_OF_TYPE.get(annotation), ()


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return None
    return value.value if isinstance(value, enum.Enum) else value


# -- values from the page -> options ------------------------------------------------------------
def _as_int(widget: OptionWidget, value: Any) -> int:
    number = float(value)
    if not number.is_integer():
        raise InputError(f"{widget.label} must be a whole number, got {value}")
    return int(number)


def _as_choice(widget: OptionWidget, value: Any) -> Any:
    if value not in widget.choices:
        raise InputError(f"{widget.label} must be one of {', '.join(map(str, widget.choices))}, got {value}")
    return value


def _as_numbers(widget: OptionWidget, value: Any) -> tuple[float, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(float(v) for v in value)
    try:
        return tuple(float(part) for part in str(value).replace(",", " ").split())
    except ValueError:
        raise InputError(f"{widget.label}: expected numbers separated by commas, got {value!r}") from None


def _as_path(widget: OptionWidget, value: Any) -> Path:
    return Path(value)


CONVERTERS: dict[str, Callable[[OptionWidget, Any], Any]] = {
    "checkbox": lambda w, v: bool(v),
    "integer": _as_int,
    "number": lambda w, v: float(v),
    "text": lambda w, v: str(v),
    "choice": _as_choice,
    "numbers": _as_numbers,
    "file": _as_path,
    "video": _as_path,
}


def read_options(widgets: Sequence[OptionWidget], values: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword options for `Pipeline.generate` from the widgets' current values.

    values: option name -> the raw value from the page. An empty value (None, "", no file)
    leaves the option out, so the pipeline's own default applies.
    """
    options = {}
    for widget in widgets:
        value = values.get(widget.name)
        if value is None or (isinstance(value, str) and not value.strip() and widget.kind != "text"):
            continue
        options[widget.name] = CONVERTERS[widget.kind](widget, value)
    return options


# -- gradio components ------------------------------------------------------------------------
def _checkbox(gr, widget: OptionWidget, common: dict):
    return gr.Checkbox(value=bool(widget.default), **common)


def _number(gr, widget: OptionWidget, common: dict):
    if widget.range is not None:
        lo, hi = widget.range
        step = 1 if widget.kind == "integer" else (hi - lo) / 100
        return gr.Slider(lo, hi, value=widget.default, step=step, **common)
    return gr.Number(value=widget.default, precision=0 if widget.kind == "integer" else None, **common)


def _choice(gr, widget: OptionWidget, common: dict):
    choices = [(str(c), c) for c in widget.choices]
    if widget.optional and widget.default is None:
        # An explicit empty entry: the pipeline's own default, and a value API clients need not send.
        return gr.Dropdown(choices=[("(default)", "")] + choices, value="", **common)
    return gr.Dropdown(choices=choices, value=widget.default, **common)


def _numbers(gr, widget: OptionWidget, common: dict):
    text = ", ".join(f"{v:g}" for v in widget.default) if widget.default else ""
    return gr.Textbox(value=text, placeholder="numbers separated by commas", **common)


def _text(gr, widget: OptionWidget, common: dict):
    return gr.Textbox(value=widget.default or "", **common)


def _video(gr, widget: OptionWidget, common: dict):
    common.pop("info", None)  # media components have no hint line; the label carries it
    return gr.Video(sources=["upload"], **common)


def _file(gr, widget: OptionWidget, common: dict):
    common.pop("info", None)
    return gr.File(type="filepath", **common)


COMPONENT_FACTORIES = {
    "checkbox": _checkbox,
    "integer": _number,
    "number": _number,
    "choice": _choice,
    "numbers": _numbers,
    "text": _text,
    "video": _video,
    "file": _file,
}


def make_component(widget: OptionWidget, id_prefix: str = "option"):
    """The gradio component that shows `widget`, with HTML id "{id_prefix}-{name}".

    gradio is imported here, not when this module is imported.
    """
    import gradio as gr

    common = {"label": widget.label, "elem_id": f"{id_prefix}-{widget.name}"}
    if widget.help:
        common["info"] = widget.help
    return COMPONENT_FACTORIES[widget.kind](gr, widget, common)
