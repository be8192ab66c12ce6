"""The demo's form builders: options dataclass -> widgets -> options a pipeline accepts, and
inputs dataclass -> input components (the union over a tab's pipelines)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import pytest

from talkinghead.demo.inputs_form import check_given, file_inputs, input_widgets, make_input_component, tab_inputs
from talkinghead.demo.options_form import make_component, option_widgets, read_options
from talkinghead.errors import InputError
from talkinghead.pipelines.base import GenerateOptions
from talkinghead.pipelines.inputs import ListenerInputs, PoseControlInputs, TalkingHeadInputs, TaskInputs, input_field
from talkinghead.registry import PIPELINES


class Attitude(enum.Enum):
    CALM = "calm"
    HAPPY = "happy"


@dataclass(frozen=True)
class RichOptions:
    """Options of an imagined later pipeline: every kind of field the form supports."""

    diversity: float = field(default=0.5, metadata={"help": "how far from the typical motion", "range": (0.0, 1.0)})
    steps: int = field(default=20, metadata={"help": "sampling steps"})
    mode: Literal["audio", "reference"] = field(default="audio", metadata={"help": "where the pose comes from"})
    attitude: Attitude = field(default=Attitude.CALM, metadata={"help": "listener attitude"})
    angles: tuple[float, ...] = field(default=(0.0, 5.0, 0.0), metadata={"help": "yaw, pitch, roll in degrees"})
    reference: Optional[Path] = field(default=None, metadata={"help": "pose reference video", "widget": "video"})
    weights: Optional[Path] = field(default=None, metadata={"label": "weights file"})
    note: str = field(default="", metadata={"help": "free text"})
    limit: Optional[int] = None
    table: dict = field(default_factory=dict)  # no widget fits: left out


def by_name(widgets):
    return {w.name: w for w in widgets}


def test_generate_options_become_labelled_widgets_with_the_pipeline_defaults():
    widgets = by_name(option_widgets(GenerateOptions))
    assert list(widgets) == [f.name for f in dataclasses.fields(GenerateOptions)]
    defaults = GenerateOptions()
    for f in dataclasses.fields(GenerateOptions):
        assert widgets[f.name].default == getattr(defaults, f.name)
        assert widgets[f.name].help == f.metadata["help"]
    assert widgets["fps"].kind == "number"
    assert widgets["still"].kind == "checkbox"
    assert widgets["face_index"].kind == "integer" and widgets["face_index"].label == "face index"


def test_every_registered_pipeline_gets_a_form():
    for name in PIPELINES.names():
        cls = PIPELINES.get(name)
        assert option_widgets(cls.options_class), name


def test_each_field_type_gets_its_widget_kind(caplog):
    widgets = by_name(option_widgets(RichOptions))
    kinds = {name: w.kind for name, w in widgets.items()}
    assert kinds == {"diversity": "number", "steps": "integer", "mode": "choice", "attitude": "choice",
                     "angles": "numbers", "reference": "video", "weights": "file", "note": "text",
                     "limit": "integer"}  # fmt: skip
    assert "table" in caplog.text  # the left-out field is reported
    assert widgets["diversity"].range == (0.0, 1.0)
    assert widgets["mode"].choices == ("audio", "reference")
    assert widgets["attitude"].choices == ("calm", "happy") and widgets["attitude"].default == "calm"
    assert widgets["weights"].label == "weights file"
    assert widgets["limit"].optional and widgets["limit"].default is None


def test_read_options_converts_the_pages_values():
    widgets = option_widgets(RichOptions)
    options = read_options(widgets, {"diversity": 0.25, "steps": 30.0, "mode": "reference", "angles": "10, -5 2.5",
                                     "reference": "/tmp/pose.mp4", "note": "hi", "limit": None})  # fmt: skip
    assert options == {"diversity": 0.25, "steps": 30, "mode": "reference", "angles": (10.0, -5.0, 2.5),
                       "reference": Path("/tmp/pose.mp4"), "note": "hi"}  # fmt: skip
    assert isinstance(options["steps"], int)


def test_empty_values_leave_the_pipeline_default():
    widgets = option_widgets(GenerateOptions)
    assert read_options(widgets, {"fps": None, "max_size": "", "still": False}) == {"still": False}


@pytest.mark.parametrize(
    "values, message",
    [({"steps": 2.5}, "steps must be a whole number"),
     ({"mode": "dream"}, "mode must be one of audio, reference"),
     ({"angles": "ten, 5"}, "angles: expected numbers")],
)  # fmt: skip
def test_bad_values_are_one_line_input_errors(values, message):
    with pytest.raises(InputError, match=message):
        read_options(option_widgets(RichOptions), values)


def test_the_forms_defaults_give_the_pipelines_defaults():
    pipeline = PIPELINES.get("baseline")
    widgets = option_widgets(pipeline.options_class)
    options = read_options(widgets, {w.name: w.default for w in widgets})
    assert pipeline.parse_options(options) == pipeline.options_class()


def test_components_show_label_hint_and_default():
    gr = pytest.importorskip("gradio")
    widgets = by_name(option_widgets(RichOptions) + option_widgets(GenerateOptions))
    fps = make_component(widgets["fps"], "tab-baseline")
    assert isinstance(fps, gr.Number) and fps.value == 25.0 and fps.label == "fps"
    assert fps.info == "frames per second of the video" and fps.elem_id == "tab-baseline-fps"
    still = make_component(widgets["still"])
    assert isinstance(still, gr.Checkbox) and still.value is False
    diversity = make_component(widgets["diversity"])
    assert isinstance(diversity, gr.Slider) and (diversity.minimum, diversity.maximum) == (0.0, 1.0)
    mode = make_component(widgets["mode"])
    assert isinstance(mode, gr.Dropdown) and mode.value == "audio"
    angles = make_component(widgets["angles"])
    assert isinstance(angles, gr.Textbox) and angles.value == "0, 5, 0"
    assert isinstance(make_component(widgets["reference"]), gr.Video)
    assert isinstance(make_component(widgets["weights"]), gr.File)


def test_osm_options_include_diversity_and_expression_scale():
    widgets = by_name(option_widgets(PIPELINES.get("osm").options_class))
    assert {"diversity", "expression_scale", "fps", "still", "face_index", "max_size"} <= set(widgets)
    assert widgets["diversity"].kind == "number" and widgets["diversity"].default == 1.0
    assert widgets["expression_scale"].help == "strength of mouth motion (1 = natural)"


# -- inputs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotedInputs(TaskInputs):
    """Inputs of an imagined pipeline: a file kind the page has no media player for, and text."""

    script: str = input_field("text", "what the face says", label="script text")
    curves: Optional[str] = input_field("file", "pose curves", default=None)


class Stub:
    def __init__(self, inputs_class):
        self.inputs_class = inputs_class


def test_inputs_become_widgets_with_label_kind_and_help():
    image, audio, transcript = input_widgets(TalkingHeadInputs)
    assert transcript.kind == "text" and not transcript.required
    assert (image.name, image.kind, image.label, image.required) == ("image", "image", "face photo", True)
    assert image.title == "Face photo — jpg, png, webp"
    assert audio.kind == "audio" and audio.label == "speech" and audio.help.startswith("wav")
    listener = {w.name: w for w in input_widgets(ListenerInputs)}
    assert listener["image"].label == "listener photo" and listener["speaker_video"].label == "speaker video"
    pose = {w.name: w for w in input_widgets(PoseControlInputs)}
    assert pose["pose_video"].kind == "video" and not pose["pose_video"].required
    assert pose["pose_video"].title.startswith("Pose video (optional) — ")


def test_a_tab_shows_the_union_of_its_pipelines_inputs():
    union = tab_inputs({"osm": Stub(TalkingHeadInputs), "opt": Stub(PoseControlInputs), "noted": Stub(NotedInputs)})
    assert [w.name for w in union] == ["image", "audio", "transcript", "pose_video", "pose", "script", "curves"]
    assert [w.required for w in union] == [True, True, False, False, False, True, False]


def test_missing_required_inputs_are_asked_for_by_their_label():
    with pytest.raises(InputError, match=r"^Please add the listener photo: upload one or take one with the webcam\.$"):
        check_given(ListenerInputs, {"image": " ", "speaker_video": "/tmp/x.mp4"})
    with pytest.raises(InputError, match="Please add the script text: type it in"):
        check_given(NotedInputs, {})
    check_given(PoseControlInputs, {"image": "a.png", "audio": "b.wav", "pose": None})  # optional ones may be empty
    assert file_inputs(NotedInputs, {"script": "/not/a/path", "curves": "/tmp/p.csv"}) == ["/tmp/p.csv"]


def test_input_components_of_each_kind():
    gr = pytest.importorskip("gradio")
    widgets = {w.name: w for w in input_widgets(PoseControlInputs) + input_widgets(NotedInputs)}
    kinds = {"image": gr.Image, "audio": gr.Audio, "pose_video": gr.Video, "pose": gr.File, "script": gr.Textbox}
    for name, component_class in kinds.items():
        component = make_input_component(widgets[name], "tab", visible=name != "pose")
        assert isinstance(component, component_class) and component.elem_id == f"tab-{name}", name
        assert component.visible == (name != "pose")
    script = make_input_component(widgets["script"], "tab")
    assert script.label == "Script text" and script.info == "what the face says"
    audio = make_input_component(widgets["audio"], "tab")
    assert audio.sources == ["upload", "microphone"] and audio.type == "filepath"
