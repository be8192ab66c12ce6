"""Batch manifests: one row per video, whose columns are the pipeline's inputs and options.

    image,audio,fps,diversity,seed,name
    faces/ada.jpg,speech/ada.wav,25,0.5,,
    faces/bob.jpg,speech/bob.wav,,1.0,7,bob_calm

A .csv file (header row), a .jsonl file (one JSON object per line), or a .yaml / .yml / .json
list of mappings. The columns:
    inputs    the fields of the row's pipeline's inputs_class (image, audio, ...)
    options   the fields of its options_class (fps, still, diversity, ...)
    pipeline  the row's pipeline (default: the command's --pipeline)
    seed      0 to 2**32-1 (default: the command's --seed plus the row's index, so that a
              rerun makes the same videos)
    name      the output's file stem (default: the input files' stems, made unique)
    out       the output video's path, instead of <out folder>/<name>.mp4
Empty cells and nulls mean "not given". Relative paths (inputs and `out`) are taken from the
manifest's folder.

Whatever the text of the manifest can tell is checked before any work starts and stops the
batch with InputError (unknown columns or pipelines, values of the wrong type or out of range,
missing inputs); what only the work finds (a missing file, an image without a face) fails that
row alone, when the runner gets to it.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, NamedTuple

from ..config import checked_value
from ..errors import InputError, TalkingHeadError
from ..io.video import VIDEO_SUFFIXES
from ..pipelines.base import MAX_SEED, check_seed
from ..pipelines.config import config_dict
from ..pipelines.inputs import FILE_KINDS, TaskInputs
from ..registry import DEFAULT_PIPELINE, PIPELINES
from .cells import from_text, is_empty

RESERVED = ("pipeline", "seed", "name", "out")
#: <out folder>/batch_report.json belongs to the runner: names made here avoid it
REPORT_NAME = "batch_report"


@dataclass(frozen=True)
class BatchRow:
    """One video to make: what the runner needs, already parsed and typed.

    number: the row's 1-based position in the manifest (messages, default seeds).
    options: the options the row gives (typed); the pipeline's defaults fill in the rest.
    written: the inputs as the manifest writes them (relative paths unresolved); the row's hash
        is made of these, so a manifest moved together with its files keeps its finished rows.
    """

    number: int
    name: str
    pipeline: str
    inputs: TaskInputs
    options: Mapping[str, Any]
    seed: int
    output: Path
    written: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def sidecar(self) -> Path:
        """<name>.json beside the video: its summary, provenance and this row."""
        return self.output.with_suffix(".json")

    @property
    def masks_path(self) -> Path:
        return self.output.with_name(f"{self.output.stem}_masks{self.output.suffix}")

    def record(self) -> dict[str, Any]:
        """The row, JSON-ready (sidecars, errors.jsonl, the report)."""
        inputs = dict(self.written) or self.inputs.file_paths()
        return {"row": self.number, "name": self.name, "pipeline": self.pipeline, "inputs": inputs,
                "options": jsonable(self.options), "seed": self.seed, "video": str(self.output)}  # fmt: skip

    def digest(self, config: Mapping[str, Any] | None = None) -> str:
        """Hash of what decides the video: pipeline, inputs, options (defaults filled in, so an
        empty cell and the default value agree), seed, and `config` (the pipeline's config)."""
        options = config_dict(PIPELINES.get(self.pipeline).parse_options(dict(self.options)))
        payload = {"pipeline": self.pipeline, "inputs": dict(self.written) or self.inputs.file_paths(),
                   "options": options, "seed": self.seed, "config": config or {}}  # fmt: skip
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def jsonable(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options as JSON values (tuples become lists, enums their values)."""
    return json.loads(json.dumps(dict(options), default=lambda v: getattr(v, "value", str(v))))


class _Parsed(NamedTuple):
    """A row before names are given out (they must be unique across the manifest)."""

    number: int
    pipeline: str
    inputs: TaskInputs
    options: dict[str, Any]
    seed: int
    written: dict[str, Any]
    name: str | None
    out: Path | None


def read_manifest(path: str | Path, *, out: str | Path, pipeline: str = DEFAULT_PIPELINE, seed: int = 0) -> list[BatchRow]:
    """The rows of a manifest (see the module docstring); InputError for anything wrong in it.

    out: the folder of videos whose row has no `out` column.
    pipeline: the pipeline of rows without a `pipeline` column.
    seed: row i (0-based) without a seed gets seed + i.
    """
    path = Path(path)
    records = read_records(path)
    parsed = [parse_row(record, number, manifest=path, pipeline=pipeline, base_seed=seed)
              for number, record in enumerate(records, 1)]  # fmt: skip
    return name_rows(parsed, Path(out))


# -- reading the file ---------------------------------------------------------------------------
def read_records(path: Path) -> list[dict[str, Any]]:
    """The manifest's rows as plain mappings, in order."""
    readers = {".csv": _csv_records, ".jsonl": _jsonl_records, ".json": _list_records, ".yaml": _list_records, ".yml": _list_records}
    if not path.is_file():
        raise InputError(f"{path}: manifest not found")
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"{path}: a manifest is a .csv, .jsonl, .json, .yaml or .yml file")
    try:
        records = reader(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc.__class__.__name__}: {exc})") from None
    if not records:
        raise InputError(f"{path}: manifest has no rows")
    return records


def _csv_records(path: Path) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: Excel's byte-order mark
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if len(set(header)) != len(header):
            raise InputError(f"{path}: the header names a column twice: {', '.join(header)}")
        records = []
        for number, record in enumerate(reader, 1):
            if None in record:  # DictReader files surplus cells under None
                raise InputError(f"{path} row {number}: more cells than the header has columns")
            records.append({name.strip(): value for name, value in record.items()})
    return records


def _jsonl_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {line_number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise InputError(f"{path} line {line_number}: each line must be a JSON object of column: value")
        records.append(record)
    return records


def _list_records(path: Path) -> list[dict[str, Any]]:
    import yaml

    try:  # YAML reads JSON too
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid {path.suffix[1:].upper()} ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
        raise InputError(f"{path}: the manifest must be a list of mappings of column: value")
    return data


# -- one row ------------------------------------------------------------------------------------
def parse_row(record: Mapping[str, Any], number: int, *, manifest: Path, pipeline: str, base_seed: int) -> _Parsed:
    """Check and type one row; InputError naming the row for anything wrong."""
    where = f"{manifest} row {number}"
    folder = manifest.parent.absolute()  # so that provenance and sidecars name files wherever they are read
    name = pipeline if is_empty(record.get("pipeline")) else str(record["pipeline"]).strip()
    cls = pipeline_class(name, where)
    check_columns(record, cls, where)
    written = {key: _text_input(value, key, where) for key, value in record.items()
               if key in input_names(cls) and not is_empty(value)}  # fmt: skip
    inputs = cls.inputs_class.from_mapping(written, relative_to=folder, where=where)
    options = parse_options(record, cls, where)
    seed = _seed(record.get("seed"), (base_seed + number - 1) % (MAX_SEED + 1), where)
    given_name, out = _name(record.get("name"), where), _out(record.get("out"), folder, where)
    return _Parsed(number, name, inputs, options, seed, written, given_name, out)


def pipeline_class(name: str, where: str) -> type:
    try:
        return PIPELINES.get(name)
    except TalkingHeadError as exc:
        raise InputError(f"{where}: {exc}") from None


def input_names(cls: type) -> list[str]:
    return [f.name for f in cls.inputs_class.input_fields()]


def option_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls.options_class)]


def check_columns(record: Mapping[str, Any], cls: type, where: str) -> None:
    """InputError for a column the row's pipeline does not take. An empty cell of another
    pipeline's option is fine: a CSV mixing pipelines has every column on every row."""
    known = [*input_names(cls), *option_names(cls), *RESERVED]
    unknown = [key for key in record if key not in known]
    if unknown:
        anyone = {name for other in PIPELINES.names() for name in _names_of(other)}
        unknown = [key for key in unknown if not is_empty(record[key]) or key not in anyone]
    if unknown:
        raise InputError(f"{where}: unknown column(s) {', '.join(map(repr, unknown))}; "
                         f"the {cls.name} pipeline takes {', '.join(known)}")  # fmt: skip


def _names_of(pipeline: str) -> list[str]:
    """Input and option names of a registered pipeline ([] if its class does not import)."""
    try:
        cls = PIPELINES.get(pipeline)
    except (TalkingHeadError, ImportError):
        return []
    return [*input_names(cls), *option_names(cls)]


def _text_input(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: {name} must be a path or text, got {value!r}")
    return value.strip()


def parse_options(record: Mapping[str, Any], cls: type, where: str) -> dict[str, Any]:
    """The row's options, typed, and checked as the pipeline checks them (ranges too)."""
    hints = typing.get_type_hints(cls.options_class)
    options = {}
    for name in option_names(cls):
        value = record.get(name)
        if is_empty(value):
            continue
        value = from_text(value, hints[name]) if isinstance(value, str) else value
        options[name] = checked_value(value, hints[name], f"{where}: {name}")
    try:
        cls.parse_options(options)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return options


def _seed(value: Any, default: int, where: str) -> int:
    if is_empty(value):
        return default
    try:
        return check_seed(from_text(value, int) if isinstance(value, str) else value)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _name(value: Any, where: str) -> str | None:
    if is_empty(value):
        return None
    name = str(value).strip()
    if re.search(r"[/\\]", name) or name.startswith("."):
        raise InputError(f"{where}: name {name!r} must be a file name, without folders or a leading dot")
    return name


def _out(value: Any, folder: Path, where: str) -> Path | None:
    if is_empty(value):
        return None
    path = Path(str(value).strip()).expanduser()
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(f"{where}: out {path} must end in {', '.join(VIDEO_SUFFIXES)}")
    return path if path.is_absolute() else folder / path


# -- names and outputs --------------------------------------------------------------------------
def name_rows(parsed: list[_Parsed], out: Path) -> list[BatchRow]:
    """BatchRows with their names and outputs: given names kept, the others made from the input
    files' stems, with _2, _3, ... where two rows would share one."""
    taken = {row.name for row in parsed if row.name is not None}
    rows = []
    for row in parsed:
        name = row.name or (row.out.stem if row.out is not None else _unique(_default_name(row), taken))
        taken.add(name)
        output = row.out if row.out is not None else out / f"{name}.mp4"
        rows.append(BatchRow(row.number, name, row.pipeline, row.inputs, row.options, row.seed, output, row.written))
    return rows


def _default_name(row: _Parsed) -> str:
    stems = [Path(str(value)).stem for f in row.inputs.input_fields()
             if f.metadata.get("kind") in FILE_KINDS and isinstance(value := getattr(row.inputs, f.name), (str, Path))]  # fmt: skip
    name = re.sub(r"[^\w.-]+", "_", "_".join(stems)).strip("._")
    return name if name and name != REPORT_NAME else f"row{row.number}"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    return next(f"{name}_{i}" for i in range(2, len(taken) + 3) if f"{name}_{i}" not in taken)
