"""Content hashes of files and checkpoints, for provenance and resumable batches."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

WEIGHTS_FILE = "model.safetensors"


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_hash(folder: str | Path) -> str:
    """sha256 of a checkpoint folder's weights (model.safetensors), hex; cached per file
    version, so that every video of a batch does not hash the same weights again."""
    weights = Path(folder) / WEIGHTS_FILE
    stat = weights.stat()
    return _cached_digest(str(weights.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _cached_digest(path: str, mtime_ns: int, size: int) -> str:
    return file_digest(path)
