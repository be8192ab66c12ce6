"""Silence native libraries (TFLite, absl) that log to the process's stderr directly."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for the duration; Python's sys.stderr is untouched.

    MediaPipe prints several warning lines per model load straight to fd 2, which would bury
    our one-line error messages and progress bar.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
