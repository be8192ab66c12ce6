"""Helpers for the demo tests: start `talkinghead demo` on a free localhost port, small inputs.

Not a test module. The demo tests need the demo and browser-test extras and Debian's
chromium; on CI (CI=true) a missing one fails the test instead of skipping it, so the browser
test cannot silently stop running there.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_IMAGE = REPO / "demos" / "astronaut.png"
EXAMPLE_SPEECH = REPO / "demos" / "speech.wav"
START_TIMEOUT_S = 180


def require(module: str):
    """Import `module`; skip without it, but fail on CI, where .ci/run installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed; the README test command installs the demo extras")
        pytest.skip(f"{module} is not installed (pip install -e '.[demo,browser-test]')")


def chromium_path() -> str:
    """Debian's chromium, which Playwright drives (its own browser downloads are not used)."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoServer:
    """A running `talkinghead demo` process."""

    def __init__(self, process: subprocess.Popen, url: str, log_path: Path):
        self.process = process
        self.url = url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def peak_memory_mb(self) -> float:
        """The server process's peak resident memory so far (VmHWM, Linux), in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")


@contextmanager
def demo_server(tmp_dir: Path, *args: str) -> Iterator[DemoServer]:
    """Start `python -m talkinghead demo --port P ARGS` and wait until it serves its page."""
    port = free_port()
    log_path = tmp_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "talkinghead", "demo", "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_dir,  # the page must not depend on where it was started
        )
    server = DemoServer(process, f"http://127.0.0.1:{port}/", log_path)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(server: DemoServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"talkinghead demo exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"talkinghead demo did not serve {server.url} within {START_TIMEOUT_S} s:\n{server.log()}")


def short_speech(path: Path, start_s: float = 0.6, seconds: float = 1.5) -> Path:
    """A `seconds`-long cut of the bundled speech (from `start_s`, inside a sentence) as a wav."""
    from talkinghead.io.audio import load_audio, write_wav
    from talkinghead.types import AudioClip

    clip = load_audio(EXAMPLE_SPEECH)
    first = int(start_s * clip.sample_rate)
    write_wav(path, AudioClip(clip.samples[first : first + int(seconds * clip.sample_rate)], clip.sample_rate))
    return path


def faceless_image(path: Path) -> Path:
    """A 256x256 smooth colour gradient: a readable picture with no face in it."""
    from talkinghead.io.image import save_image

    y, x = np.mgrid[0:256, 0:256]
    image = np.stack([x, y, np.full_like(x, 128)], axis=-1).astype(np.uint8)
    save_image(path, image)
    return path


def speaker_video(path: Path, speech: Path) -> Path:
    """A grey 64x64, 10 fps mp4 with `speech` as its sound, as long as the speech."""
    from talkinghead.io.audio import ffmpeg_exe, load_audio

    seconds = load_audio(speech).duration
    command = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=64x64:r=10",
               "-i", str(speech), "-t", f"{seconds:.3f}", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return path
