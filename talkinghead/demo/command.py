"""`talkinghead demo`: serve the Gradio page (imports gradio only when it runs)."""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import dataclasses
import os
import signal
import sys

from ..errors import MissingPackageError
from .settings import DemoSettings

DEFAULTS = DemoSettings()
M_ARENA_MAX = -8  # glibc's mallopt parameter number
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """Let glibc keep at most MALLOC_ARENAS malloc arenas (as MALLOC_ARENA_MAX=2 would).

    The server runs each request in whichever worker thread is free, and glibc gives threads
    their own arenas that keep freed memory. Four visitors at once with a 1024 px portrait and
    8 s of speech (benchmarks/demo_in_browser.py --visitors 4 --server-pid PID): server peak
    2.0 GB with glibc's default, 1.5 GB with two arenas. No-op where libc is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        pass


def add_parser(commands) -> None:
    p = commands.add_parser(
        "demo", help="serve the web demo (Gradio) on this machine", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 = every interface)")
    p.add_argument("--port", type=int, default=7860, help="port to listen on")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (needs internet)")
    p.add_argument("--max-audio-seconds", type=float, default=DEFAULTS.max_audio_seconds, help="longest speech accepted")
    p.add_argument("--max-upload-mb", type=int, default=DEFAULTS.max_upload_mb, help="largest file accepted")
    p.add_argument("--max-image-side", type=int, default=DEFAULTS.max_image_side, help="largest max-size option accepted (px)")
    p.add_argument("--max-image-pixels", type=int, default=DEFAULTS.max_image_pixels, help="largest photo accepted (width x height)")
    p.add_argument("--concurrency", type=int, default=DEFAULTS.concurrency, help="videos made at the same time; others wait")
    p.add_argument("--queue-size", type=int, default=DEFAULTS.queue_size, help="requests that may wait in the queue")
    p.add_argument("--keep-outputs-seconds", type=int, default=DEFAULTS.keep_outputs_seconds, help="delete results after this")


def settings_from(args: argparse.Namespace) -> DemoSettings:
    return DemoSettings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(DemoSettings)})


def run(args: argparse.Namespace) -> int:
    from .output_folders import OutputFolders

    settings = settings_from(args)
    limit_malloc_arenas()  # before the server starts its threads
    folders = OutputFolders(settings.keep_outputs_seconds)
    # Before gradio is imported: no usage statistics or version checks leave the machine, and
    # its copies of the uploads go into our folder, which is removed when the server stops.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("GRADIO_TEMP_DIR", str(folders.root / "gradio"))
    try:
        import gradio  # noqa: F401
    except ImportError:
        folders.close()
        raise MissingPackageError("the demo needs gradio: pip install 'talkinghead[demo]'") from None
    from .app import build_app

    # A service manager stops the server with SIGTERM: exit normally so the results are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        demo = build_app(settings, folders)
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            share=args.share,
            max_file_size=f"{settings.max_upload_mb}mb",
            ssr_mode=False,  # server-side rendering needs node; the page works without it
            show_error=False,  # only our gr.Error sentences reach the page, never exception text
        )
    finally:
        folders.close()
    return 0
