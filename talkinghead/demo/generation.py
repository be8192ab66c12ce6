"""One demo request, from the uploaded files to a video and its summary (no gradio in here).

Everything the visitor did wrong becomes a TalkingHeadError with a sentence that names the
uploaded file by its own name, not by the server's temporary path; the page shows it.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..api import load_pipeline
from ..errors import InputError, MissingPackageError, TalkingHeadError
from ..io.audio import AudioTooLongError, check_seconds, duration_limit
from ..io.image import ImageTooLargeError, check_image_pixels, megapixels, pixel_limit
from ..io.video import probe_video
from ..pipelines.base import check_seed
from ..pipelines.inputs import FILE_KINDS, TaskInputs
from ..registry import PIPELINES
from .inputs_form import check_given, file_inputs
from .settings import DemoSettings
from .summary import QualitySummary, measure_video

#: progress(fraction done in [0, 1], what is happening)
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class DemoRequest:
    """What the page sends.

    inputs: input name (a field of the pipeline's inputs_class, e.g. "image", "audio",
        "speaker_video") -> the path of the uploaded file (or the typed text); None or ""
        for an input left empty.
    options: keyword options for the pipeline (see options_form.read_options).
    measure: also compute the dlib identity and lip-sync figures (eval extra).
    """

    pipeline: str
    inputs: dict[str, str | None]
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    measure: bool = False


@dataclass(frozen=True)
class DemoOutput:
    video: Path
    summary: QualitySummary


def run_request(request: DemoRequest, settings: DemoSettings, folder: Path, progress: Progress) -> DemoOutput:
    """Check the inputs against the server's limits, generate, write the video into `folder`."""
    pipeline_class = PIPELINES.get(request.pipeline)
    try:
        return _run(pipeline_class, request, settings, folder, progress)
    except TalkingHeadError as exc:
        uploads = file_inputs(pipeline_class.inputs_class, request.inputs)
        raise type(exc)(_short_paths(str(exc), uploads)) from exc


def _run(pipeline_class: type, request: DemoRequest, settings: DemoSettings, folder: Path, progress: Progress) -> DemoOutput:
    progress(0.0, "checking the inputs")
    check_given(pipeline_class.inputs_class, request.inputs)
    inputs = pipeline_class.inputs_class.from_mapping(request.inputs, where=f"{request.pipeline} inputs")
    check_inputs(inputs, settings)
    check_options(pipeline_class, request.options, settings)
    started = time.perf_counter()
    with server_limits(settings), load_pipeline(request.pipeline) as pipeline:
        progress(0.05, "finding the face and making the motion")
        result = pipeline(inputs, seed=request.seed, **request.options)
        out = folder / f"{_output_stem(inputs)}-talkinghead.mp4"
        total = max(result.num_frames, 1)
        result.save(out, progress=lambda done: progress(0.1 + 0.8 * done / total, f"rendering frame {done} of {total}"))
    summary = QualitySummary(
        duration=result.audio.duration,
        fps=result.fps,
        frames=result.num_frames,
        width=result.source.size[1],
        height=result.source.size[0],
        seed=result.seed,
        seconds=time.perf_counter() - started,
    )
    if request.measure:
        progress(0.9, "measuring identity and lip sync")
        summary = _with_measures(summary, out, result)
    return DemoOutput(video=out, summary=summary)


def check_inputs(inputs: TaskInputs, settings: DemoSettings) -> None:
    """Every file input within the upload limit, every image within the pixel limit and every
    sound and video within the length limit, from the files' headers before anything is
    decoded (the page checks the upload size too; this is the server)."""
    for f in inputs.input_fields():
        path = getattr(inputs, f.name)
        kind = f.metadata.get("kind")
        if not isinstance(path, (str, Path)) or kind not in FILE_KINDS:
            continue
        check_size(path, settings)
        if kind == "image":
            check_pixels(path, settings)
        elif kind in ("audio", "video"):
            check_length(path, kind, settings)


def check_size(path: str | Path, settings: DemoSettings) -> None:
    size = os.path.getsize(path) if os.path.isfile(path) else 0
    if size > settings.max_upload_mb * 2**20:
        raise InputError(f"{path} is {size / 2**20:.1f} MB; this server accepts files up to {settings.max_upload_mb} MB.")


def check_pixels(path: str | Path, settings: DemoSettings) -> None:
    """InputError when the image's header states more pixels than the server takes."""
    try:
        check_image_pixels(path, settings.max_image_pixels)
    except ImageTooLargeError as exc:
        raise InputError(pixels_refusal(str(path), exc)) from None


def pixels_refusal(name: str, exc: ImageTooLargeError) -> str:
    """What the page says about an image over the server's pixel limit."""
    return (f"{name}: the image is {exc.width}x{exc.height} px ({megapixels(exc.width * exc.height)}); this server "
            f"accepts at most {megapixels(exc.limit)}. Please use a smaller photo.")  # fmt: skip


def check_length(path: str | Path, kind: str, settings: DemoSettings) -> None:
    """InputError when a sound (audio input) or a video is longer than the server takes,
    found from its header, or by counting its decoded sound when the header states no length."""
    limit = settings.max_audio_seconds
    try:
        seconds = video_seconds(path, limit) if kind == "video" else check_seconds(path, limit)
    except AudioTooLongError as exc:
        seconds = exc.seconds
    if seconds is None or seconds > limit:
        length = f"is {seconds:.1f} s long" if seconds is not None else f"is longer than {limit:g} s"
        raise InputError(
            f"{path}: the {'video' if kind == 'video' else 'sound'} {length}; this server "
            f"accepts at most {limit:g} s. Please use a shorter clip."
        )


def video_seconds(path: str | Path, max_seconds: float) -> float:
    """A video's length from its header (no decoding), else from its sound (0 without any),
    counted without keeping it and stopped past `max_seconds` (AudioTooLongError).

    It counts whether or not the video has sound: a long silent reference video costs as much
    face tracking as a long speaker video.
    """
    seconds = probe_video(path).duration
    if seconds > 0:
        return seconds
    try:  # the header gives no duration (e.g. some webm)
        return check_seconds(path, max_seconds)
    except AudioTooLongError:
        raise
    except InputError:  # no sound track
        return 0.0


def request_seed(value: Any) -> int | None:
    """The seed field's value as the pipeline takes it: None (a random seed) or a whole number
    in 0..2**32-1; InputError with the pipeline's own sentence otherwise."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # number fields send whole numbers as floats
    return check_seed(value)


@contextmanager
def server_limits(settings: DemoSettings):
    """The server's limits on every image and sound the pipeline decodes in the block, so a
    header that understates a file's size is caught while it is decoded."""
    with pixel_limit(settings.max_image_pixels), duration_limit(settings.max_audio_seconds):
        yield


def _output_stem(inputs: TaskInputs) -> str:
    """The name of the first file input (the photo, for the pipelines so far), for the video."""
    paths = list(inputs.file_paths().values())
    return Path(paths[0]).stem if paths else "video"


def check_options(pipeline: type, options: dict[str, Any], settings: DemoSettings) -> None:
    """The pipeline class's own validation, plus the server's cap on the working image size."""
    try:
        parsed = pipeline.parse_options(options)
    except TypeError as exc:  # an option this pipeline does not have: a wiring bug, said plainly
        raise InputError(str(exc)) from None
    side = getattr(parsed, "max_size", None)
    if side is not None and side > settings.max_image_side:
        raise InputError(f"max size can be at most {settings.max_image_side} px on this server, got {side}")


def _with_measures(summary: QualitySummary, video: Path, result) -> QualitySummary:
    from dataclasses import replace

    try:
        measures = measure_video(video, result.source.image, result.audio, result.fps)
    except MissingPackageError:
        return replace(summary, note="identity and lip-sync figures need the eval extra: pip install 'talkinghead[eval]'")
    except TalkingHeadError as exc:
        return replace(summary, note=str(exc))
    return replace(summary, measures=measures)


def _short_paths(message: str, paths: list[str]) -> str:
    """The message with each server-side path replaced by the file's own name."""
    for path in paths:
        if path:
            message = message.replace(str(path), Path(path).name)
    return message
