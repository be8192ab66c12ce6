"""The Gradio page: a talking-head tab, and a listener tab once a listener pipeline exists.

Every pipeline in the registry appears in the tab of its `kind`, with its options built from
its own options dataclass (options_form), so a new pipeline needs no UI code. Requests go
through a queue with a concurrency limit; each one writes into its own temporary folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from ..errors import TalkingHeadError
from ..registry import DEFAULT_PIPELINE, PIPELINES
from .components import face_image
from .generation import DemoRequest, run_request
from .options_form import OptionWidget, make_component, option_widgets, read_options
from .output_folders import OutputFolders
from .settings import DemoSettings
from .summary import dlib_available

log = logging.getLogger("talkinghead")

#: the bundled example inputs, present in a source checkout (pip install -e .)
DEMOS_DIR = Path(__file__).resolve().parents[2] / "demos"


def pipelines_of_kind(kind: str) -> dict[str, type]:
    """name -> class of the registered pipelines of `kind` that can be imported here."""
    found = {}
    for name in PIPELINES.names():
        try:
            cls = PIPELINES.get(name)
        except (TalkingHeadError, ImportError) as exc:
            log.warning("pipeline %s left out of the demo: %s", name, exc)
            continue
        if cls.kind == kind:
            found[name] = cls
    return found


@dataclass
class PipelineOptions:
    """The option controls of each pipeline in one tab; only the chosen pipeline's are shown."""

    widgets: dict[str, list[OptionWidget]]
    components: dict[str, list[gr.components.Component]]
    groups: dict[str, gr.Group]

    @classmethod
    def build(cls, pipelines: dict[str, type], selected: str, id_prefix: str) -> "PipelineOptions":
        widgets, components, groups = {}, {}, {}
        for name, pipeline_class in pipelines.items():
            widgets[name] = option_widgets(pipeline_class.options_class)
            with gr.Group(visible=name == selected) as groups[name]:
                components[name] = [make_component(w, f"{id_prefix}-{name}") for w in widgets[name]]
        return cls(widgets, components, groups)

    @property
    def all_components(self) -> list:
        return [c for name in self.components for c in self.components[name]]

    def values(self, pipeline: str, data: dict) -> dict[str, Any]:
        raw = {w.name: data[c] for w, c in zip(self.widgets[pipeline], self.components[pipeline])}
        return read_options(self.widgets[pipeline], raw)

    def show(self, pipeline: str) -> list:
        return [gr.Group(visible=name == pipeline) for name in self.groups]


@dataclass(frozen=True)
class TabSpec:
    """One tab: which pipelines it holds and what the visitor gives them."""

    kind: str
    title: str
    image_label: str
    driving_name: str
    make_driving: Callable[[str], gr.components.Component]
    examples: tuple[tuple[str, str], ...] = ()


def _speech_input(elem_id: str):
    return gr.Audio(label="Speech (upload or record)", sources=["upload", "microphone"], type="filepath", elem_id=elem_id)


def _speaker_video_input(elem_id: str):
    return gr.Video(label="Speaker video, with sound", sources=["upload"], elem_id=elem_id)


TABS = (
    TabSpec("talking_head", "Talking head", "Face photo (upload, webcam or paste)", "speech", _speech_input,
            examples=(("astronaut.png", "speech.wav"),)),  # fmt: skip
    TabSpec("listener", "Listener", "Listener's face photo", "speaker video", _speaker_video_input),
)


def header(settings: DemoSettings) -> str:
    return (
        "# talkinghead\n"
        "One face photo + one speech clip → a talking-head video with the speech as its sound track.\n\n"
        f"Limits on this server: files up to **{settings.max_upload_mb} MB**, speech up to "
        f"**{settings.max_audio_seconds:g} s**; images: JPG, PNG, WebP; sound: WAV, FLAC, MP3, M4A, OGG. "
        f"Requests are queued ({settings.concurrency} at a time)."
    )


def build_app(settings: DemoSettings, folders: OutputFolders) -> gr.Blocks:
    """The whole page. `folders` gives each request its output folder."""
    with gr.Blocks(
        title="talkinghead demo",
        analytics_enabled=False,
        # gradio keeps its own copy of each result: checked every 10 minutes, kept as long as ours.
        delete_cache=(600, settings.keep_outputs_seconds),
    ) as demo:
        gr.Markdown(header(settings))
        with gr.Tabs():
            for spec in TABS:
                pipelines = pipelines_of_kind(spec.kind)
                if pipelines:  # e.g. the listener tab appears once a listener pipeline is registered
                    with gr.Tab(spec.title, id=spec.kind):
                        build_tab(spec, pipelines, settings, folders)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    return demo


def build_tab(spec: TabSpec, pipelines: dict[str, type], settings: DemoSettings, folders: OutputFolders) -> None:
    names = sorted(pipelines)
    selected = DEFAULT_PIPELINE if DEFAULT_PIPELINE in pipelines else names[0]
    prefix = spec.kind.replace("_", "-")
    can_measure = dlib_available()
    with gr.Row():
        with gr.Column():
            with gr.Row(equal_height=True):
                image = face_image(label=spec.image_label, type="filepath", image_mode=None,
                                   sources=["upload", "webcam", "clipboard"], height=260, elem_id=f"{prefix}-image")  # fmt: skip
                driving = spec.make_driving(f"{prefix}-driving")
            with gr.Row():
                pipeline = gr.Dropdown(names, value=selected, label="pipeline", info="the method that makes the motion",
                                       elem_id=f"{prefix}-pipeline")  # fmt: skip
                seed = gr.Number(label="seed", precision=0, value=0, elem_id=f"{prefix}-seed",
                                 info="same seed, same video; another number gives other head motion")  # fmt: skip
            with gr.Accordion("Options of the pipeline", open=False, elem_id=f"{prefix}-options"):
                options = PipelineOptions.build(pipelines, selected, prefix)
            measure = gr.Checkbox(
                value=can_measure,
                interactive=can_measure,
                label="measure identity and lip sync (dlib, a few seconds more)",
                info=None if can_measure else "needs the eval extra: pip install 'talkinghead[eval]'",
                elem_id=f"{prefix}-measure",
            )
            button = gr.Button("Generate video", variant="primary", elem_id=f"{prefix}-generate")
        with gr.Column():
            video = gr.Video(label="Result", interactive=False, buttons=["download"], height=400, elem_id=f"{prefix}-result")
            download = gr.DownloadButton("Download video", visible=False, elem_id=f"{prefix}-download")
            summary = gr.Markdown(elem_id=f"{prefix}-summary")
    examples = [[str(DEMOS_DIR / name) for name in row] for row in spec.examples if all((DEMOS_DIR / n).is_file() for n in row)]
    if examples:
        gr.Examples(examples=examples, inputs=[image, driving], label="Examples (bundled demo inputs)", elem_id=f"{prefix}-examples")

    pipeline.change(options.show, inputs=pipeline, outputs=list(options.groups.values()), api_visibility="private")

    def generate(data: dict, progress=gr.Progress()):
        request = DemoRequest(
            pipeline=data[pipeline],
            image=data[image],
            driving=data[driving],
            seed=None if data[seed] is None else int(data[seed]),
            options=options.values(data[pipeline], data),
            measure=bool(data[measure]) and can_measure,
            driving_name=spec.driving_name,
        )
        output = run_in_page(request, settings, folders, progress)
        return output.video, gr.DownloadButton(value=output.video, visible=True), output.summary.to_markdown()

    button.click(
        generate,
        inputs={image, driving, pipeline, seed, measure, *options.all_components},
        outputs=[video, download, summary],
        api_name=f"generate_{spec.kind}",
    )


def run_in_page(request: DemoRequest, settings: DemoSettings, folders: OutputFolders, progress) -> Any:
    """run_request with its failures turned into messages in the page (gr.Error), not tracebacks."""
    try:
        return run_request(request, settings, folders.new(), lambda fraction, text: progress(fraction, desc=text))
    except TalkingHeadError as exc:
        # duration=None: the message stays until closed, so nobody misses why nothing came out
        raise gr.Error(str(exc), duration=None, print_exception=False) from None
    except Exception as exc:  # a bug: the server log gets the traceback, the visitor a sentence
        log.exception("demo request failed")
        raise gr.Error(
            f"Something went wrong on the server ({type(exc).__name__}); the server log has the details.",
            duration=None,
            print_exception=False,
        ) from None
