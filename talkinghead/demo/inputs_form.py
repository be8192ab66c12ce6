"""A pipeline's inputs dataclass -> the page's input components, and back to task inputs.

Every pipeline declares what it is given as a frozen dataclass (`Pipeline.inputs_class`, e.g.
TalkingHeadInputs): per field a `kind`, a `help` line and maybe a `label`; a field without a
default is required. The page builds its inputs from that declaration alone, so a pipeline
with new inputs needs no UI code. One tab holds several pipelines: it shows the union of
their fields and, whenever a pipeline is chosen, only the fields that pipeline takes.

Field kinds and the component each one gets:

    image -> photo (upload, webcam, paste)     audio -> sound (upload or record)
    video -> video (upload)                    file -> any file       text -> text box

gradio is imported only by `make_input_component`, so generation.py can use the rest.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import InputError
from ..pipelines.inputs import FILE_KINDS

log = logging.getLogger("talkinghead")

#: how the page asks for a missing input of each kind ("Please add the image: ...")
HOW_TO_ADD = {
    "image": "upload one or take one with the webcam",
    "audio": "upload a file or record one",
    "video": "upload one",
    "file": "upload one",
    "text": "type it in",
}


@dataclass(frozen=True)
class InputWidget:
    """How one input field appears in the page.

    kind: the field's kind (see the module docstring); label: its name as the page says it.
    """

    name: str
    label: str
    kind: str
    help: str = ""
    required: bool = True

    @property
    def title(self) -> str:
        """The component's label: media components have no hint line, so it carries the help."""
        text = self.label[:1].upper() + self.label[1:] + ("" if self.required else " (optional)")
        return f"{text} — {self.help}" if self.help and self.kind != "text" else text

    def missing_message(self) -> str:
        return f"Please add the {self.label}: {HOW_TO_ADD.get(self.kind, 'upload one')}."


def input_widgets(inputs_class: type) -> list[InputWidget]:
    """One InputWidget per field of `inputs_class` (a TaskInputs dataclass), in field order."""
    return [
        InputWidget(
            name=f.name,
            label=f.metadata.get("label", f.name.replace("_", " ")),
            kind=f.metadata.get("kind", "file"),
            help=f.metadata.get("help", ""),
            required=f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(inputs_class)
    ]


def tab_inputs(pipelines: Mapping[str, type]) -> list[InputWidget]:
    """The union of the pipelines' input fields, in the order they first appear.

    A field two pipelines share gets the first one's widget, required if any pipeline
    requires it (the page changes its label when another pipeline is chosen).
    """
    union: dict[str, InputWidget] = {}
    for name, pipeline_class in pipelines.items():
        for widget in input_widgets(pipeline_class.inputs_class):
            first = union.get(widget.name)
            if first is None:
                union[widget.name] = widget
            elif first.kind != widget.kind:  # one component cannot be both; the first kind wins
                log.warning("input %s is a %s for %s but a %s before; shown as a %s",
                            widget.name, widget.kind, name, first.kind, first.kind)  # fmt: skip
            elif widget.required and not first.required:
                union[widget.name] = dataclasses.replace(first, required=True)
    return list(union.values())


def check_given(inputs_class: type, values: Mapping[str, Any]) -> None:
    """InputError asking for the first required input of `inputs_class` left empty."""
    for widget in input_widgets(inputs_class):
        value = values.get(widget.name)
        if widget.required and (value is None or (isinstance(value, str) and not value.strip())):
            raise InputError(widget.missing_message())


def file_inputs(inputs_class: type, values: Mapping[str, Any]) -> list[str]:
    """The given values of the file-kind fields (uploaded paths), for messages."""
    kinds = {w.name: w.kind for w in input_widgets(inputs_class)}
    return [str(value) for name, value in values.items() if value and kinds.get(name) in FILE_KINDS]


# -- gradio components ------------------------------------------------------------------------
def _image(gr, widget: InputWidget, common: dict):
    from .components import face_image

    return face_image(type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"], height=260, **common)


def _audio(gr, widget: InputWidget, common: dict):
    return gr.Audio(sources=["upload", "microphone"], type="filepath", **common)


def _video(gr, widget: InputWidget, common: dict):
    return gr.Video(sources=["upload"], **common)


def _file(gr, widget: InputWidget, common: dict):
    return gr.File(type="filepath", **common)


def _text(gr, widget: InputWidget, common: dict):
    # value="": an empty box is a given (empty) value, so API clients need not send optional text
    return gr.Textbox(value="", info=widget.help or None, **common)


COMPONENT_FACTORIES = {"image": _image, "audio": _audio, "video": _video, "file": _file, "text": _text}


def make_input_component(widget: InputWidget, id_prefix: str, visible: bool = True):
    """The gradio component that asks for `widget`, with HTML id "{id_prefix}-{name}"."""
    import gradio as gr

    common = {"label": widget.title, "elem_id": f"{id_prefix}-{widget.name}", "visible": visible}
    return COMPONENT_FACTORIES.get(widget.kind, _file)(gr, widget, common)
