"""`talkinghead generate` (talking-head pipelines) and `talkinghead listen` (listener pipelines).

The flags of the chosen pipeline's inputs and options come from its `inputs_class` and
`options_class` (dataclass_flags), so `talkinghead generate --pipeline X --help` lists X's own;
the config flags (--config, --face-backend, --renderer, --device) change its config.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .dataclass_flags import add_input_flags, add_option_flags, flag, values_of
from .errors import InputError, TalkingHeadError
from .pipelines.inputs import ListenerInputs, TalkingHeadInputs
from .registry import DEFAULT_PIPELINE, FACE_BACKENDS, PIPELINES, RENDERERS

log = logging.getLogger("talkinghead")

#: --max-audio-seconds: three hours is longer than any talk or podcast episode one would render
#: in one go, and its samples (16 kHz float32, 0.7 GB) still fit in memory; a mistaken or
#: hostile file (a 1.3 MB FLAC can hold hours of silence) is refused before it is decoded.
MAX_AUDIO_SECONDS = 3 * 3600.0


@dataclass(frozen=True)
class TaskCommand:
    """One pipeline-running command: its name, the pipeline kind it runs, its default."""

    command: str
    kind: str
    help: str
    default: str | None
    inputs_class: type
    """The inputs to parse when the named pipeline is unknown or none is installed, so that
    the command still parses and then says what is wrong in one line."""


def pipelines_of_kind(kind: str) -> list[str]:
    """Names of the registered pipelines of `kind` whose class imports here."""
    names = []
    for name in PIPELINES.names():
        try:
            if PIPELINES.get(name).kind == kind:
                names.append(name)
        except (TalkingHeadError, ImportError):
            continue
    return names


def task_commands() -> tuple[TaskCommand, ...]:
    listeners = pipelines_of_kind("listener")
    return (
        TaskCommand("generate", "talking_head", "make a talking-head video from a photo and a speech clip", DEFAULT_PIPELINE,
                    TalkingHeadInputs),
        TaskCommand("listen", "listener", "make a video of a listener (photo) responding to a speaker video",
                    listeners[0] if listeners else None, ListenerInputs),  # fmt: skip
    )


def chosen_pipeline(argv: list[str], command: TaskCommand) -> str | None:
    """The pipeline the command will run: --pipeline as typed, else the one the --config file
    names, else the command's default. The parser needs it before parsing, to offer that
    pipeline's own flags."""
    typed, config = _flag_value(argv, "--pipeline"), _flag_value(argv, "--config")
    if typed is None and config is not None:
        from .config import load_overrides

        try:
            typed = load_overrides(config)[0]
        except InputError:
            pass  # reported when the command runs
    return typed or command.default


def _flag_value(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def add_parser(commands, command: TaskCommand, argv: list[str]) -> None:
    name = chosen_pipeline(argv, command)
    cls = PIPELINES.get(name) if name in PIPELINES else None
    known = pipelines_of_kind(command.kind)
    p = commands.add_parser(command.command, help=command.help, description=command.help + (f" (pipeline: {name})" if cls else ""))
    p.set_defaults(task=command)
    p.add_argument("--pipeline", default=None, help=f"one of: {', '.join(known) or 'none installed yet'} (default: {command.default})")
    if cls is not None:
        add_input_flags(p.add_argument_group(f"inputs of the {name} pipeline"), cls.inputs_class)
        add_option_flags(p.add_argument_group(f"options of the {name} pipeline"), cls.options_class)
        add_foreign_flags(p, cls, known)
    else:
        add_input_flags(p.add_argument_group("inputs"), command.inputs_class)
    out = p.add_argument_group("output")
    out.add_argument("--out", required=True, help="output video (.mp4)")
    out.add_argument("--seed", type=int, default=None, help="random seed, 0 to 4294967295 (same seed, same video)")
    out.add_argument("--num-samples", type=int, default=1, help="write N videos with seeds SEED..SEED+N-1 (OUT becomes OUT_s<seed>.mp4)")
    out.add_argument("--masks", default=None, help="also write the per-frame manipulation masks as a video")
    out.add_argument("--save-motion", default=None, help="also save the generated motion (.npz)")
    out.add_argument("--motion", default=None, help="drive the face with a saved motion (.npz) instead")
    out.add_argument("--json", action="store_true", help="print a JSON summary (with the provenance) per video instead of a line")
    out.add_argument("--dry-run", action="store_true", help="check inputs, options and config, then stop without rendering")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_limit_flags(p)
    add_config_flags(p)


FOREIGN = "foreign_"


def add_foreign_flags(p: argparse.ArgumentParser, cls: type, known: list[str]) -> None:
    """Hidden flags for the options and inputs other pipelines of the kind have and this one
    lacks, so that e.g. `--pipeline baseline --diversity 1` gets a one-line error naming the
    pipeline instead of argparse's usage dump."""
    own = {f.name for f in fields(cls.options_class)} | {f.name for f in fields(cls.inputs_class)}
    others = set()
    for name in known:
        other = PIPELINES.get(name)
        others |= {f.name for f in fields(other.options_class)} | {f.name for f in fields(other.inputs_class)}
    for name in sorted(others - own):
        p.add_argument(flag(name), dest=FOREIGN + name, nargs="?", const=True, default=None, help=argparse.SUPPRESS)


def refuse_foreign_flags(args: argparse.Namespace, pipeline_name: str) -> None:
    for key, value in vars(args).items():
        if key.startswith(FOREIGN) and value is not None:
            raise InputError(f"{flag(key.removeprefix(FOREIGN))} is not an option of the {pipeline_name} pipeline")


def add_config_flags(p: argparse.ArgumentParser) -> None:
    """Flags that change the pipeline's config (shared with `batch`)."""
    config = p.add_argument_group("config")
    config.add_argument("--config", default=None, help="YAML file changing the pipeline's config (see configs/<pipeline>/)")
    config.add_argument("--face-backend", default=None, help=f"landmark backend: one of {', '.join(FACE_BACKENDS.names())}")
    config.add_argument("--face-backend-weights", default=None, help="folder with the face backend's weight files (face_alignment)")
    config.add_argument("--renderer", default=None, help=f"renderer: one of {', '.join(RENDERERS.names())}")
    config.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: the config's, cpu)")


def config_overrides(args: argparse.Namespace) -> tuple[str | None, dict[str, Any]]:
    """(the pipeline the --config file names, the config changes of --config and the config
    flags of add_config_flags)."""
    from .config import load_overrides

    named, overrides = load_overrides(args.config) if args.config else (None, {})
    flags = {"face_backend": args.face_backend, "face_backend_weights": args.face_backend_weights,
             "renderer": args.renderer, "device": args.device}  # fmt: skip
    return named, {**overrides, **{key: value for key, value in flags.items() if value is not None}}


def pipeline_name(args: argparse.Namespace, named: str | None, default: str | None) -> str | None:
    """--pipeline as typed, else the pipeline the --config file names, else `default`;
    InputError when the two given disagree."""
    if named and args.pipeline and named != args.pipeline:
        raise InputError(f"{args.config} is written for the {named} pipeline, not {args.pipeline}")
    return args.pipeline or named or default


def pipeline_from_args(args: argparse.Namespace, kind: str, default: str | None):
    """Build the pipeline that --pipeline / --config name, with the config flags applied."""
    from .api import load_pipeline

    named, overrides = config_overrides(args)
    name = pipeline_name(args, named, default)
    if name is None:
        raise InputError(f"no {kind.replace('_', '-')} pipeline is installed yet; installed: {', '.join(PIPELINES.names())}")
    cls = PIPELINES.get(name)
    if cls.kind != kind:
        other = next(c.command for c in task_commands() if c.kind == cls.kind)
        raise InputError(f"{name} is a {cls.kind.replace('_', '-')} pipeline: use `talkinghead {other}`")
    try:
        return load_pipeline(name, overrides=overrides)
    except InputError as exc:
        raise InputError(f"{args.config}: {exc}" if args.config else str(exc)) from exc


def renderer_threads(pipeline) -> None:
    """Give the CPU threads the pipeline's renderer asks for (Renderer.cli_threads); the command
    line set one at start-up."""
    from .process_setup import use_cpu_threads

    renderer = getattr(pipeline, "renderer", None)
    wanted = getattr(renderer, "cli_threads", 1)
    if renderer is not None and wanted != 1 and str(getattr(renderer, "device", "cpu")).startswith("cpu"):
        use_cpu_threads(wanted or os.cpu_count() or 1)


def run(args: argparse.Namespace) -> int:
    from .io.video import check_output_path

    task: TaskCommand = args.task
    runs = sample_runs(args)
    for out, seed in runs:
        check_output_path(out)
        if args.masks:
            check_output_path(sample_path(args.masks, seed, len(runs)))
        if args.save_motion:
            check_motion_path(sample_path(args.save_motion, seed, len(runs)))
    with input_limits(args, task), pipeline_from_args(args, task.kind, task.default) as pipeline:
        refuse_foreign_flags(args, pipeline.name)
        renderer_threads(pipeline)
        inputs = pipeline.inputs_class.from_mapping(values_of(args, pipeline.inputs_class), where="command line")
        options = values_of(args, pipeline.options_class)
        replay = replayed_motion(args.motion, pipeline) if args.motion else None  # checked before any work
        if args.dry_run:
            return dry_run(pipeline, inputs, options, args)
        for out, seed in runs:
            generate_one(pipeline, inputs, options, args, out, seed, len(runs), replay)
    return 0


def add_limit_flags(p: argparse.ArgumentParser) -> None:
    from .io.image import MAX_PIXELS

    limits = p.add_argument_group("limits (checked from the files' headers, before anything is decoded)")
    limits.add_argument("--max-audio-seconds", type=float, default=MAX_AUDIO_SECONDS, metavar="S",
                        help=f"refuse longer speech or speaker video (default: {MAX_AUDIO_SECONDS:g}; 0 = no limit)")
    limits.add_argument("--max-image-pixels", type=int, default=MAX_PIXELS, metavar="N",
                        help=f"refuse images with more pixels, width x height (default: {MAX_PIXELS}; 0 = no limit)")  # fmt: skip


@contextmanager
def input_limits(args: argparse.Namespace, task: TaskCommand):
    """The limit flags: the input files' headers checked on entry (before the pipeline loads),
    then applied to every image and sound the pipeline decodes in the block (a header may lie);
    a refusal names the flag that raises the limit."""
    from .io.audio import AudioTooLongError, duration_limit
    from .io.image import ImageTooLargeError, pixel_limit

    if args.max_audio_seconds < 0 or args.max_image_pixels < 0:
        raise InputError("--max-audio-seconds and --max-image-pixels must be 0 (no limit) or more")
    try:
        with pixel_limit(args.max_image_pixels), duration_limit(args.max_audio_seconds):
            check_input_headers(args, task.kind)
            yield
    except ImageTooLargeError as exc:
        raise ImageTooLargeError.of(exc.name, exc.width, exc.height, exc.limit, how="raise --max-image-pixels (0 = no limit)") from None
    except AudioTooLongError as exc:
        raise AudioTooLongError.of(exc.name, exc.seconds, exc.limit, how="raise --max-audio-seconds (0 = no limit)") from None


def check_input_headers(args: argparse.Namespace, kind: str) -> None:
    """Each image given within the pixel limit and each sound or video within the length limit
    in force, from the files' headers. Missing files are left to the inputs' own validation."""
    from .io.audio import AudioTooLongError, check_seconds
    from .io.image import check_image_pixels

    for name, input_kind in file_input_kinds(kind).items():
        path = getattr(args, name, None)
        if not isinstance(path, str) or not Path(path).expanduser().is_file():
            continue
        path = str(Path(path).expanduser())
        if input_kind == "image":
            check_image_pixels(path)
        elif input_kind == "audio":
            check_seconds(path)
        elif input_kind == "video":
            try:
                check_seconds(path)
            except AudioTooLongError:
                raise
            except InputError:
                pass  # e.g. a silent pose video without a stated length: its reader reports real problems


def file_input_kinds(kind: str) -> dict[str, str]:
    """Input field name -> kind, over the pipelines of `kind` and the commands' fallback inputs."""
    classes = [PIPELINES.get(name).inputs_class for name in pipelines_of_kind(kind)]
    classes += [c.inputs_class for c in task_commands() if c.kind == kind]
    return {f.name: f.metadata.get("kind") for cls in classes for f in fields(cls)}


def dry_run(pipeline, inputs, options: dict[str, Any], args: argparse.Namespace) -> int:
    """Everything but motion and rendering: config, options, inputs read (faces found)."""
    report = pipeline.check(inputs, **options)
    if args.json:
        print(json.dumps({"dry_run": True, "pipeline": pipeline.name, **report, "config": pipeline.config_dict()}))
    else:
        details = ", ".join(f"{k} {v}" for k, v in report.items())
        print(f"ok: {pipeline.name} pipeline, {details}; nothing written (--dry-run)")
    return 0


def sample_runs(args: argparse.Namespace) -> list[tuple[str, int | None]]:
    """(output path, seed) per video: one, or --num-samples with consecutive seeds."""
    from .pipelines.base import check_seed, random_seed

    if args.num_samples < 1:
        raise InputError(f"--num-samples must be at least 1, got {args.num_samples}")
    if args.seed is not None:
        check_seed(args.seed)
    if args.num_samples == 1:
        return [(args.out, args.seed)]
    first = random_seed() if args.seed is None else args.seed
    return [(sample_path(args.out, first + i, args.num_samples), check_seed(first + i)) for i in range(args.num_samples)]


def sample_path(path: str, seed: int | None, count: int) -> str:
    """out.mp4 -> out_s<seed>.mp4 when several samples are written."""
    if count == 1:
        return path
    root, dot, ext = path.rpartition(".")
    return f"{root}_s{seed}.{ext}" if dot else f"{path}_s{seed}"


def check_motion_path(path: str) -> None:
    """Where --save-motion will write, checked before any work: an .npz in an existing folder."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise InputError(f"{target}: --save-motion path is a folder")
    if target.suffix.lower() != ".npz":
        raise InputError(f"{target}: --save-motion must name an .npz file")
    if not target.parent.is_dir():
        raise InputError(f"--save-motion folder {target.parent} does not exist")


def generate_one(pipeline, inputs, options: dict, args: argparse.Namespace, out: str, seed: int | None, count: int, replay=None) -> None:
    if replay is not None:  # the face and audio driven by the file's motion; no motion model runs
        result = pipeline.replay(inputs, replay, seed=seed, name=str(args.motion), **options)
    else:
        result = pipeline(inputs, seed=seed, **options)
    masks = sample_path(args.masks, seed, count) if args.masks else None
    with progress_bar(result.num_frames, disabled=args.no_progress) as update:
        result.save(out, masks_path=masks, progress=update)
    if args.save_motion:  # only once the video is written: a failed run leaves no motion file
        result.motion.save(sample_path(args.save_motion, result.seed, count))
    if args.json:
        print(json.dumps(result.summary(out)))
    else:
        print(f"wrote {out} ({result.num_frames} frames, {result.fps:g} fps, {result.audio.duration:.2f} s, seed {result.seed})")
    sys.stdout.flush()


def replayed_motion(motion_path: str, pipeline):
    """The --motion file, read and checked against the pipeline's face model."""
    from .types import MotionSequence

    motion = MotionSequence.load(motion_path)
    face_model = getattr(pipeline, "face_model", None)
    wanted = tuple(face_model.basis.names) if face_model is not None else motion.expression_names
    if motion.expression_names != wanted:
        raise InputError(
            f"{motion_path}: its expression coefficients {', '.join(motion.expression_names)} are not this pipeline's face "
            f"model's ({', '.join(wanted)}); make it with the same face model (track or --save-motion with the same --config)"
        )
    return motion


class progress_bar:
    """A tqdm bar on stderr fed with 'frames written so far'."""

    def __init__(self, total: int, disabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="frame", desc="rendering", disable=disabled, leave=False)

    def __enter__(self):
        return lambda done: self.bar.update(done - self.bar.n)

    def __exit__(self, *exc) -> None:
        self.bar.close()
