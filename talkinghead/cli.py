"""The `talkinghead` command line.

    talkinghead generate --image face.jpg --audio speech.wav --out out.mp4 [--seed 0]
    talkinghead track video.mp4 -o motion.npz
    talkinghead train audio2exp --videos DIR --out DIR
    talkinghead eval VIDEO [--source IMG] [--reference REAL.mp4] [--json]
    talkinghead bench MANIFEST [--pipelines baseline] [--seeds 0 1 2] [--out DIR]
    talkinghead info

Errors caused by the input (no face, unreadable files, ...) print one line on stderr and exit
with status 2; nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .demo import command as demo_command
from .errors import InputError, TalkingHeadError
from .eval import commands as eval_commands
from .face import track_command
from .registry import DEFAULT_PIPELINE, FACE_BACKENDS, PIPELINES
from .train import commands as train_commands

EXIT_INPUT_ERROR = 2


def quiet_native_logging() -> None:
    """Keep TensorFlow Lite / absl chatter off the terminal and make any hub call fail at once."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")  # mediapipe imports pyplot; no GUI probing


def keep_native_logs_off_the_terminal() -> None:
    """Point file descriptor 2 at /dev/null and give Python's sys.stderr the real terminal.

    MediaPipe's inference threads print warnings straight to fd 2 at moments we do not control;
    our own messages, progress bar and tracebacks go through sys.stderr and still show.
    """
    try:
        terminal = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return  # no usable stderr: nothing to protect
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="replace")


def show_notices() -> None:
    """Print the library's notices (e.g. "image downscaled") as one line each on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("talkinghead: notice: %(message)s"))
    logger = logging.getLogger("talkinghead")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)


def add_generate_parser(commands) -> None:
    p = commands.add_parser("generate", help="make a talking-head video from a photo and a speech clip")
    p.add_argument("--image", required=True, help="face photo (jpg, png, webp, ...)")
    p.add_argument("--audio", required=True, help="speech (wav, flac, mp3, m4a, ogg, ...)")
    p.add_argument("--out", required=True, help="output video (.mp4)")
    p.add_argument("--pipeline", default=DEFAULT_PIPELINE, help=f"one of: {', '.join(PIPELINES.names())}")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same video)")
    p.add_argument("--fps", type=float, default=None, help="frames per second (default 25)")
    p.add_argument("--still", action="store_true", default=None, help="keep the head still")
    p.add_argument("--diversity", type=float, default=None, help="osm: how far head motion strays from the audio's mean motion (0-3, default 1)")
    p.add_argument("--num-samples", type=int, default=1, help="write N videos with seeds SEED..SEED+N-1 (OUT becomes OUT_s<seed>.mp4)")
    p.add_argument("--max-size", type=int, default=None, help="downscale larger images to this many pixels (default 1024)")
    p.add_argument("--face-index", type=int, default=None, help="which face to animate, 0 = the largest")
    p.add_argument("--config", default=None, help="YAML file overriding motion/renderer settings (see configs/)")
    p.add_argument("--face-backend", default="mediapipe", help=f"landmark backend: one of {', '.join(FACE_BACKENDS.names())}")
    p.add_argument("--face-backend-weights", default=None, help="folder with the face_alignment backend's weight files")
    p.add_argument("--masks", default=None, help="also write the per-frame manipulation masks as a video")
    p.add_argument("--save-motion", default=None, help="also save the generated motion (.npz)")
    p.add_argument("--motion", default=None, help="drive the face with a saved motion (.npz) instead")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def generate_command(args: argparse.Namespace) -> int:
    from .io.video import check_output_path

    runs = sample_runs(args)
    for out, seed in runs:
        check_output_path(out)
        if args.masks:
            check_output_path(sample_path(args.masks, seed, len(runs)))
    options = {
        name: value
        for name, value in (
            ("fps", args.fps), ("still", args.still), ("max_size", args.max_size), ("face_index", args.face_index), ("diversity", args.diversity)
        )
        if value is not None
    }
    pipeline = build_pipeline(args)
    try:
        check_options(pipeline, options)
        for out, seed in runs:
            generate_one(pipeline, args, options, out, seed, len(runs))
    finally:
        pipeline.close()
    return 0


def sample_runs(args: argparse.Namespace) -> list[tuple[str, int | None]]:
    """(output path, seed) per video: one, or --num-samples with consecutive seeds."""
    if args.num_samples < 1:
        raise InputError(f"--num-samples must be at least 1, got {args.num_samples}")
    if args.num_samples == 1:
        return [(args.out, args.seed)]
    from .pipelines.base import random_seed

    first = random_seed() if args.seed is None else args.seed
    return [(sample_path(args.out, first + i, args.num_samples), first + i) for i in range(args.num_samples)]


def sample_path(path: str, seed: int | None, count: int) -> str:
    """out.mp4 -> out_s<seed>.mp4 when several samples are written."""
    if count == 1:
        return path
    root, dot, ext = path.rpartition(".")
    return f"{root}_s{seed}.{ext}" if dot else f"{path}_s{seed}"


def build_pipeline(args: argparse.Namespace):
    from .api import load_pipeline
    from .config import load_overrides

    backend_options = {"weights_dir": args.face_backend_weights} if args.face_backend_weights else {}
    overrides = load_overrides(args.config) if args.config else None
    try:
        return load_pipeline(args.pipeline, overrides=overrides, face_backend=args.face_backend, face_backend_options=backend_options)
    except InputError as exc:
        raise InputError(f"{args.config}: {exc}" if args.config else str(exc)) from exc


def check_options(pipeline, options: dict) -> None:
    """Command-line wording for an option the chosen pipeline does not have."""
    unknown = pipeline.unknown_options(options)
    if unknown:
        raise InputError(f"--{unknown[0].replace('_', '-')} is not an option of the {pipeline.name} pipeline")


def generate_one(pipeline, args: argparse.Namespace, options: dict, out: str, seed: int | None, count: int) -> None:
    result = pipeline.generate(args.image, args.audio, seed=seed, **options)
    if args.motion:
        result = with_saved_motion(result, args.motion)
    if args.save_motion:
        result.motion.save(sample_path(args.save_motion, seed, count))
    masks = sample_path(args.masks, seed, count) if args.masks else None
    with progress_bar(result.num_frames, disabled=args.no_progress) as update:
        result.save(out, masks_path=masks, progress=update)
    print(f"wrote {out} ({result.num_frames} frames, {result.fps:g} fps, {result.audio.duration:.2f} s, seed {result.motion.meta.get('seed')})")


def with_saved_motion(result, motion_path: str):
    """The same result driven by a motion file; the audio is cut to the motion's length."""
    from dataclasses import replace

    from .types import AudioClip, MotionSequence

    motion = MotionSequence.load(motion_path)
    clip = result.audio
    keep = min(len(clip.samples), int(round(motion.duration * clip.sample_rate)))
    audio = AudioClip(clip.samples[:keep], clip.sample_rate, clip.path)
    return replace(result, motion=motion, audio=audio)


class progress_bar:
    """A tqdm bar on stderr fed with 'frames written so far'."""

    def __init__(self, total: int, disabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="frame", desc="rendering", disable=disabled, leave=False)

    def __enter__(self):
        return lambda done: self.bar.update(done - self.bar.n)

    def __exit__(self, *exc) -> None:
        self.bar.close()


def info_command(args: argparse.Namespace) -> int:
    from .info import environment_report

    print(environment_report())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="talkinghead", description="Talking-head videos from one photo and one speech clip.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_generate_parser(commands)
    eval_commands.add_eval_parser(commands)
    eval_commands.add_bench_parser(commands)
    commands.add_parser("info", help="pipelines, face backends, device and versions")
    track_command.add_parser(commands)
    train_commands.add_parser(commands)
    demo_command.add_parser(commands)
    return parser


COMMANDS = {
    "generate": generate_command,
    "info": info_command,
    "track": track_command.run,
    "train": train_commands.run,
    "eval": eval_commands.eval_command,
    "bench": eval_commands.bench_command,
    "demo": demo_command.run,
}


def main(argv: list[str] | None = None) -> int:
    quiet_native_logging()
    args = build_parser().parse_args(argv)
    if argv is None:  # run as the program, not called from Python (tests, notebooks)
        keep_native_logs_off_the_terminal()
    show_notices()
    try:
        return COMMANDS[args.command](args)
    except TalkingHeadError as exc:
        print(f"talkinghead: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("talkinghead: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
