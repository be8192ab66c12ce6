"""Benchmark manifests: which (image, audio[, reference video]) inputs a bench runs over.

A CSV with a header row, or a YAML list of mappings, with the columns / keys
    name (optional), image, audio, reference (optional).
A row with only a `reference` real video is the reconstruction protocol: its first frame is
the image and its own audio track the audio, and the generated video is compared with it.
Relative paths are taken from the manifest's folder.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io.image import save_image
from ..io.video import read_video

COLUMNS = ("name", "image", "audio", "reference")


@dataclass(frozen=True)
class BenchInput:
    """One manifest row. image / audio may be None until `resolve` makes them for a
    reconstruction row."""

    name: str
    image: str | None
    audio: str | None
    reference: str | None
    first_frame: bool = False
    """The image is the reference's first frame (set by `resolve` on a reconstruction row)."""

    @property
    def reconstruction(self) -> bool:
        return self.reference is not None and (self.image is None or self.first_frame)


def read_manifest(path: str | Path) -> list[BenchInput]:
    """The rows of a .csv / .yaml / .yml manifest; InputError for a bad file or row."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: manifest not found")
    if path.suffix.lower() == ".csv":
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    elif path.suffix.lower() in (".yaml", ".yml"):
        rows = _yaml_rows(path)
    else:
        raise InputError(f"{path}: manifest must be .csv, .yaml or .yml")
    if not rows:
        raise InputError(f"{path}: manifest has no rows")
    return [_row(path, index, row) for index, row in enumerate(rows)]


def _yaml_rows(path: Path) -> list[dict]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise InputError(f"{path}: a YAML manifest is a list of mappings with keys {', '.join(COLUMNS)}")
    return data


def _row(manifest: Path, index: int, row: dict) -> BenchInput:
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise InputError(f"{manifest}: row {index + 1} has unknown columns {sorted(unknown)}; use {', '.join(COLUMNS)}")
    paths = {key: _path(manifest, row.get(key)) for key in ("image", "audio", "reference")}
    if paths["image"] is None and paths["reference"] is None:
        raise InputError(f"{manifest}: row {index + 1} needs an image (and audio) or a reference video")
    if paths["image"] is not None and paths["audio"] is None:
        raise InputError(f"{manifest}: row {index + 1} has an image but no audio")
    for key, value in paths.items():
        if value is not None and not os.path.isfile(value):
            raise InputError(f"{manifest}: row {index + 1}: {key} {value} not found")
    default = Path(paths["image"] or paths["reference"]).stem
    name = str(row.get("name") or default)
    return BenchInput(name=name, **paths)


def _path(manifest: Path, value) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    value = Path(str(value).strip()).expanduser()
    return str(value if value.is_absolute() else manifest.parent / value)


def resolve(row: BenchInput, folder: Path) -> BenchInput:
    """A reconstruction row with its image (the reference's first frame, saved in `folder`)
    and audio (the reference itself) filled in; other rows unchanged."""
    if not row.reconstruction or row.first_frame:
        return row
    first = next(iter(read_video(row.reference)), None)
    if first is None:
        raise InputError(f"{row.reference}: no frames decoded")
    image = folder / f"{row.name}_first_frame.png"
    save_image(image, first)
    return BenchInput(name=row.name, image=str(image), audio=row.audio or row.reference, reference=row.reference, first_frame=True)
