"""Writing a file so that a failure or an interruption never leaves half of it behind."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Callable


def write_atomically(path: str | Path, save: Callable[[Path], None]) -> Path:
    """Call save(partial_path) then move the result to `path`; the partial file is removed if
    saving fails."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        save(partial)
        partial.replace(path)
    finally:
        with suppress(OSError):  # a read-only folder: the partial file was never written either
            partial.unlink(missing_ok=True)
    return path
