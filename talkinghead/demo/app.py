"""The Gradio page: a talking-head tab, and a listener tab once a listener pipeline exists.

Every pipeline in the registry appears in the tab of its `kind`, with its inputs built from its
inputs dataclass (inputs_form) and its options from its options dataclass (options_form), so a
new pipeline needs no UI code. Requests go through a queue with a concurrency limit; each one
writes into its own temporary folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

import gradio as gr

from ..errors import InputError, TalkingHeadError
from ..io.package_data import package_data_dir
from ..pipelines.base import MAX_SEED
from ..registry import DEFAULT_PIPELINE, PIPELINES
from .components import refuse_large_images
from .generation import DemoRequest, request_seed, run_request
from .inputs_form import InputWidget, input_widgets, make_input_component, tab_inputs
from .options_form import OptionWidget, make_component, option_widgets, read_options
from .output_folders import OutputFolders
from .settings import DemoSettings
from .summary import dlib_available

log = logging.getLogger("talkinghead")

#: the bundled example inputs, installed with the package (talkinghead.demos)
DEMOS_DIR = package_data_dir("demos")


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


@dataclass
class PipelineInputs:
    """The input components of one tab: the union of its pipelines' input fields, of which
    only those the chosen pipeline takes are shown (and sent)."""

    widgets: dict[str, dict[str, InputWidget]]  # pipeline -> field name -> widget
    components: dict[str, gr.components.Component]  # field name -> component

    @classmethod
    def build(cls, pipelines: dict[str, type], selected: str, id_prefix: str) -> "PipelineInputs":
        widgets = {name: {w.name: w for w in input_widgets(c.inputs_class)} for name, c in pipelines.items()}
        # the chosen pipeline's fields first, so the labels shown at first are its own
        union = tab_inputs({selected: pipelines[selected], **pipelines})
        components = {}
        # Required inputs side by side (photo and speech, as visitors expect); optional ones below.
        for row in ([w for w in union if w.required], [w for w in union if not w.required]):
            if row:
                with gr.Row(equal_height=True):
                    for w in row:
                        components[w.name] = make_input_component(w, id_prefix, visible=w.name in widgets[selected])
        return cls(widgets, components)

    def values(self, pipeline: str, data: dict) -> dict[str, Any]:
        """Field name -> the component's value (a path), for the fields `pipeline` takes."""
        return {name: data[self.components[name]] for name in self.widgets[pipeline]}

    def show(self, pipeline: str) -> list:
        """Updates for the components: the pipeline's fields shown, with its own labels."""
        own = self.widgets[pipeline]
        return [gr.update(visible=True, label=own[name].title) if name in own else gr.update(visible=False)
                for name in self.components]  # fmt: skip


@dataclass(frozen=True)
class TabSpec:
    """One tab: the kind of pipeline it holds, its intro line and its example rows.

    examples: rows of input field name -> a file in the bundled demos folder.
    """

    kind: str
    title: str
    intro: str
    examples: tuple[Mapping[str, str], ...] = ()


TABS = (
    TabSpec("talking_head", "Talking head",
            "One face photo + one speech clip → a talking-head video with the speech as its sound track.",
            examples=({"image": "astronaut.png", "audio": "speech.wav"},)),  # fmt: skip
    TabSpec("listener", "Listener", "A listener's photo + a video of a speaker → a video of the listener responding."),
)


def header(settings: DemoSettings) -> str:
    return (
        "# talkinghead\n"
        f"Limits on this server: files up to **{settings.max_upload_mb} MB**, sound and video up to "
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
    gr.Markdown(spec.intro)
    with gr.Row():
        with gr.Column():
            inputs = PipelineInputs.build(pipelines, selected, prefix)
            for component in inputs.components.values():
                if isinstance(component, gr.Image):
                    refuse_large_images(component, settings.max_image_pixels)
            with gr.Row():
                pipeline = gr.Dropdown(names, value=selected, label="pipeline", info="the method that makes the motion",
                                       elem_id=f"{prefix}-pipeline")  # fmt: skip
                # gradio refuses a number outside these bounds with its own sentence; page_seed
                # says the pipeline's for anything else an API client may send
                seed = gr.Number(label="seed", precision=0, value=0, minimum=0, maximum=MAX_SEED, elem_id=f"{prefix}-seed",
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
    add_examples(spec, inputs, prefix)

    def choose(name: str) -> list:
        return options.show(name) + inputs.show(name)

    pipeline.change(choose, inputs=pipeline, outputs=[*options.groups.values(), *inputs.components.values()],
                    api_visibility="private")  # fmt: skip

    def generate(data: dict, progress=gr.Progress()):
        request = DemoRequest(
            pipeline=data[pipeline],
            inputs=inputs.values(data[pipeline], data),
            seed=page_seed(data[seed]),
            options=options.values(data[pipeline], data),
            measure=bool(data[measure]) and can_measure,
        )
        output = run_in_page(request, settings, folders, progress)
        return output.video, gr.DownloadButton(value=output.video, visible=True), output.summary.to_markdown()

    button.click(
        generate,
        inputs={*inputs.components.values(), pipeline, seed, measure, *options.all_components},
        outputs=[video, download, summary],
        api_name=f"generate_{spec.kind}",
    )


def add_examples(spec: TabSpec, inputs: PipelineInputs, prefix: str) -> None:
    """The tab's example rows whose fields the tab has and whose files are installed."""
    rows = [row for row in spec.examples
            if set(row) <= set(inputs.components) and all((DEMOS_DIR / name).is_file() for name in row.values())]  # fmt: skip
    if not rows:
        return
    fields = list(dict.fromkeys(name for row in rows for name in row))
    examples = [[str(DEMOS_DIR / row[f]) if f in row else None for f in fields] for row in rows]
    gr.Examples(examples=examples, inputs=[inputs.components[f] for f in fields],
                label="Examples (bundled demo inputs)", elem_id=f"{prefix}-examples")  # fmt: skip


def page_seed(value: Any) -> int | None:
    """The seed field's value for the pipeline; what the pipeline refuses is a sentence in the page."""
    try:
        return request_seed(value)
    except InputError as exc:
        raise gr.Error(str(exc), duration=None, print_exception=False) from None


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
