"""One temporary folder per demo request, deleted once it is old enough."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path


class OutputFolders:
    """Makes a fresh folder for each request under one root.

    Folders older than `keep_seconds` are removed whenever a new one is made, so a long-running
    server's disk use stays bounded without a background thread; `close()` removes the root.
    """

    def __init__(self, keep_seconds: float, root: str | Path | None = None):
        self.keep_seconds = keep_seconds
        self.root = Path(tempfile.mkdtemp(prefix="talkinghead-demo-", dir=root))
        self._lock = threading.Lock()

    def new(self) -> Path:
        with self._lock:
            self.sweep()
            return Path(tempfile.mkdtemp(prefix="request-", dir=self.root))

    def sweep(self, now: float | None = None) -> list[Path]:
        """Remove request folders last changed more than keep_seconds ago; returns them."""
        now = time.time() if now is None else now
        removed = []
        for folder in self.root.glob("request-*"):
            try:
                age = now - folder.stat().st_mtime
            except FileNotFoundError:
                continue
            if age > self.keep_seconds:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
