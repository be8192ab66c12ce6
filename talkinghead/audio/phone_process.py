"""The phone loop in a child process, so that it runs beside the word recogniser on another
core (pocketsphinx holds the GIL: threads would take turns).

    child = PhoneProcess(clip, config)    # starts `python -m talkinghead.audio.phone_process`
    ...                                   # recognise the words here meanwhile
    segments = child.result()             # its phones, or None if the child failed

A plain child process, not multiprocessing: multiprocessing's spawn re-imports the caller's main
script in the child, which would run an unguarded user script a second time. The child gets a
JSON line (the PhoneConfig) and the 16 kHz float32 samples on stdin, and answers with the
segments as JSON on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import asdict

import numpy as np

from .phones import SAMPLE_RATE, PhoneConfig, PhoneSegment, clip_at_16k, recognize_phones
from ..types import AudioClip


class PhoneProcess:
    """recognize_phones(clip, config) running in a child process from construction on."""

    def __init__(self, clip: AudioClip, config: PhoneConfig):
        samples = np.ascontiguousarray(clip_at_16k(clip), dtype="<f4")
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        header = json.dumps({"config": asdict(config), "samples": len(samples)}).encode() + b"\n"
        # Written from a thread (the pipe holds 64 KB; the caller goes on at once), straight from
        # the array's memory: an hour of audio is 230 MB, not worth a copy.
        self._writer = threading.Thread(target=self._send, args=(header, memoryview(samples).cast("B")), daemon=True)
        self._writer.start()

    def _send(self, header: bytes, samples: memoryview) -> None:
        try:
            self._process.stdin.write(header)
            self._process.stdin.write(samples)
            self._process.stdin.close()
        except OSError:  # the child died: result() says so
            pass

    def result(self) -> list[PhoneSegment] | None:
        """The child's segments (waits for them), or None when it failed."""
        output = self._process.stdout.read()
        self._writer.join()
        if self._process.wait() != 0:
            return None
        try:
            return [PhoneSegment(phone, start, end) for phone, start, end in json.loads(output)]
        except (ValueError, TypeError):
            return None

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()


def main() -> None:
    """The child: header line + samples on stdin -> segments as JSON on stdout."""
    header = json.loads(sys.stdin.buffer.readline())
    samples = np.frombuffer(sys.stdin.buffer.read(4 * header["samples"]), dtype="<f4").astype(np.float32, copy=False)
    segments = recognize_phones(AudioClip(samples, SAMPLE_RATE), PhoneConfig(**header["config"]))
    sys.stdout.write(json.dumps([[s.phone, s.start, s.end] for s in segments]))


if __name__ == "__main__":
    main()
