"""The input folders: faces, speech clips and real talking videos, each with an identity.

A file directly in the folder is its own person (its stem); files in a subfolder belong to the
person the subfolder names, so `faces/ada/1.jpg`, `faces/ada/2.jpg` and `real/ada/talk.mp4` are
one identity and stay in one split. Speech clips in subfolders name their speaker; clips
directly in the folder have no known speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io.audio import IMAGE_SUFFIXES
from ..io.video import VIDEO_SUFFIXES

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac", *VIDEO_SUFFIXES)
FACE_SUFFIXES = tuple(s for s in IMAGE_SUFFIXES if s != ".gif")


@dataclass(frozen=True)
class Source:
    """One input file.

    key: a file-safe id, unique within its folder (its relative path without suffix, "/" -> "-").
    relative: its path relative to the folder given (written into the metadata).
    identity: the person (subfolder name, else the file's stem).
    known: True when a subfolder names the person (for speech: the speaker is known).
    """

    path: Path
    key: str
    relative: str
    identity: str
    known: bool


def scan(folder: str | Path | None, suffixes: tuple[str, ...], what: str) -> list[Source]:
    """The files of `folder` (and its subfolders) with these suffixes, sorted; [] for None.
    InputError when the folder is missing or holds none, or two files would share a key."""
    if folder is None:
        return []
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InputError(f"{root}: {what} folder not found")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))
    if not files:
        raise InputError(f"{root}: no {what} files ({', '.join(suffixes)})")
    sources, seen = [], {}
    for path in files:
        relative = path.relative_to(root)
        key = file_key(relative.with_suffix("").as_posix())
        if key in seen:
            raise InputError(f"{path} and {seen[key]} would both be named {key}: rename one")
        seen[key] = path
        known = len(relative.parts) > 1
        identity = relative.parts[0] if known else path.stem
        sources.append(Source(path.resolve(), key, relative.as_posix(), identity, known))
    return sources


def file_key(text: str) -> str:
    """A name that is safe as a file stem on any system."""
    return re.sub(r"[^\w.-]+", "_", text.replace("/", "-")).strip("._") or "video"
