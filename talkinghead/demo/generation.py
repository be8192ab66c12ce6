"""One demo request, from the uploaded files to a video and its summary (no gradio in here).

Everything the visitor did wrong becomes a TalkingHeadError with a sentence that names the
uploaded file by its own name, not by the server's temporary path; the page shows it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..api import load_pipeline
from ..errors import InputError, MissingPackageError, TalkingHeadError
from ..io.audio import load_audio
from .settings import DemoSettings
from .summary import QualitySummary, measure_video

#: progress(fraction done in [0, 1], what is happening)
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class DemoRequest:
    """What the page sends.

    image: path of the face photo (uploaded, from the webcam or an example).
    driving: path of the speech clip (talking-head pipelines) or of the speaker video
        (listener pipelines); it is passed to the pipeline's generate() as its second argument.
    options: keyword options for the pipeline (see options_form.read_options).
    measure: also compute the dlib identity and lip-sync figures (eval extra).
    """

    pipeline: str
    image: str | None
    driving: str | None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    measure: bool = False
    driving_name: str = "audio"


@dataclass(frozen=True)
class DemoOutput:
    video: Path
    summary: QualitySummary


def run_request(request: DemoRequest, settings: DemoSettings, folder: Path, progress: Progress) -> DemoOutput:
    """Check the inputs against the server's limits, generate, write the video into `folder`."""
    try:
        return _run(request, settings, folder, progress)
    except TalkingHeadError as exc:
        raise type(exc)(_short_paths(str(exc), (request.image, request.driving))) from exc


def _run(request: DemoRequest, settings: DemoSettings, folder: Path, progress: Progress) -> DemoOutput:
    check_inputs(request, settings)
    started = time.perf_counter()
    pipeline = load_pipeline(request.pipeline)
    try:
        check_options(pipeline, request.options, settings)
        progress(0.0, f"reading the {request.driving_name}")
        clip = load_audio(request.driving, pipeline.audio_sample_rate)
        if clip.duration > settings.max_audio_seconds:
            raise InputError(
                f"{request.driving}: the sound is {clip.duration:.1f} s long; this server accepts at most "
                f"{settings.max_audio_seconds:g} s. Please use a shorter clip."
            )
        progress(0.05, "finding the face and making the motion")
        result = pipeline.generate(request.image, request.driving, seed=request.seed, **request.options)
        out = folder / f"{Path(request.image).stem}-talkinghead.mp4"
        total = max(result.num_frames, 1)
        result.save(out, progress=lambda done: progress(0.1 + 0.8 * done / total, f"rendering frame {done} of {total}"))
    finally:
        pipeline.close()
    seconds = time.perf_counter() - started
    summary = QualitySummary(
        duration=result.audio.duration,
        fps=result.fps,
        frames=result.num_frames,
        width=result.source.size[1],
        height=result.source.size[0],
        seed=result.motion.meta.get("seed"),
        seconds=seconds,
    )
    if request.measure:
        progress(0.9, "measuring identity and lip sync")
        summary = _with_measures(summary, out, result)
    return DemoOutput(video=out, summary=summary)


def check_inputs(request: DemoRequest, settings: DemoSettings) -> None:
    """Both files given and within the upload limit (the page checks too; this is the server)."""
    if not request.image:
        raise InputError("Please add a face photo: upload one, take one with the webcam, or pick an example.")
    if not request.driving:
        raise InputError(f"Please add the {request.driving_name}: upload a file, record one, or pick an example.")
    limit = settings.max_upload_mb * 2**20
    for path in (request.image, request.driving):
        size = os.path.getsize(path) if os.path.isfile(path) else 0
        if size > limit:
            raise InputError(f"{path} is {size / 2**20:.1f} MB; this server accepts files up to {settings.max_upload_mb} MB.")


def check_options(pipeline, options: dict[str, Any], settings: DemoSettings) -> None:
    """The pipeline's own validation, plus the server's cap on the working image size."""
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


def _short_paths(message: str, paths: tuple[str | None, ...]) -> str:
    """The message with each server-side path replaced by the file's own name."""
    for path in paths:
        if path:
            message = message.replace(str(path), Path(path).name)
    return message
