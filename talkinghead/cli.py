"""The `talkinghead` command line.

    talkinghead generate --image face.jpg --audio speech.wav --out out.mp4 [--seed 0]
    talkinghead generate --pipeline baseline --help     # that pipeline's inputs and options
    talkinghead listen --image listener.jpg --speaker-video speaker.mp4 --out out.mp4
    talkinghead track video.mp4 -o motion.npz
    talkinghead train audio2exp --videos DIR --out DIR
    talkinghead eval VIDEO [--source IMG] [--reference REAL.mp4] [--json]
    talkinghead bench MANIFEST [--pipelines baseline] [--seeds 0 1 2] [--out DIR]
    talkinghead forge --faces DIR --audio DIR [--real-videos DIR] --out DIR [--workers N]
    talkinghead info

Errors caused by the input (no face, unreadable files, ...) print one line on stderr and exit
with status 2; nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from . import generate_command
from .batch import command as batch_command
from .demo import command as demo_command
from .errors import TalkingHeadError
from .eval import commands as eval_commands
from .face import track_command
from .forge import command as forge_command
from .process_setup import quiet_native_logging, use_cpu_threads
from .train import commands as train_commands

EXIT_INPUT_ERROR = 2


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


def info_command(args: argparse.Namespace) -> int:
    from .info import environment_report

    print(environment_report())
    return 0


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; `argv` picks the pipeline whose own flags generate/listen offer."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="talkinghead", description="Talking-head videos from one photo and one speech clip.")
    commands = parser.add_subparsers(dest="command", required=True)
    for task in generate_command.task_commands():
        generate_command.add_parser(commands, task, argv)
    eval_commands.add_eval_parser(commands)
    eval_commands.add_bench_parser(commands)
    batch_command.add_parser(commands)
    forge_command.add_parser(commands)
    commands.add_parser("info", help="pipelines, face backends, device and versions")
    track_command.add_parser(commands)
    train_commands.add_parser(commands)
    demo_command.add_parser(commands)
    return parser


#: commands that render, and so get one torch/OpenCV thread (see use_cpu_threads)
RENDERING_COMMANDS = ("generate", "listen", "batch", "forge", "demo")

COMMANDS = {
    "generate": generate_command.run,
    "listen": generate_command.run,
    "info": info_command,
    "track": track_command.run,
    "train": train_commands.run,
    "eval": eval_commands.eval_command,
    "bench": eval_commands.bench_command,
    "batch": batch_command.run,
    "forge": forge_command.run,
    "demo": demo_command.run,
}


def main(argv: list[str] | None = None) -> int:
    quiet_native_logging()
    args = build_parser(argv).parse_args(argv)
    if args.command in RENDERING_COMMANDS:
        use_cpu_threads(1)
    if argv is None:  # run as the program, not called from Python (tests, notebooks)
        keep_native_logs_off_the_terminal()
    show_notices()
    if argv is None:
        stop_cleanly_on_sigterm()
    try:
        return COMMANDS[args.command](args)
    except TalkingHeadError as exc:
        print(f"talkinghead: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Terminated:
        print("talkinghead: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("talkinghead: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk, a read-only folder, a vanished file: the system's words
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"talkinghead: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every clean-up (partial videos, atomic writes) runs."""


def stop_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (`timeout`, `kill`, a job scheduler) into Terminated. The default action
    ends the process at once and leaves hidden partial files behind."""

    def raise_terminated(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, raise_terminated)


if __name__ == "__main__":
    sys.exit(main())
