"""The batch runner: many rows, each pipeline loaded once, every row's outcome recorded.

    report = run_batch(read_manifest("jobs.csv", out="out"), "out")

For each row it writes the video (atomically) and then, only once the video is in place, the
sidecar <name>.json: the result's summary with its provenance, the row, the row's hash and the
generation time. A rerun skips the rows whose video and sidecar exist and whose sidecar holds
the same hash (same pipeline, inputs, options, seed and config), so after a crash or an edit of
the manifest only what is missing or changed is made again.

A row that fails (a missing file, no face, even a bug) is recorded in <out>/errors.jsonl and
the report, and the batch goes on. What is no row's fault (rows that would overwrite each
other, a config or weights a pipeline cannot load with) stops the batch before any video. <out>/batch_report.json holds the report of the last run.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config import override
from ..errors import InputError, TalkingHeadError, first_line
from ..io.atomic import write_atomically
from ..pipelines.config import config_dict
from ..registry import PIPELINES
from .manifest import REPORT_NAME, BatchRow

ERRORS_FILE = "errors.jsonl"


@dataclass
class RowOutcome:
    """What became of one row. status: "done", "skipped" (already made) or "failed".

    seconds: generation time (model loading excluded, encoding included); for a skipped row
        the time its sidecar recorded.
    error: for a failed row, the exception's type name; bug: True when it is not a
        TalkingHeadError (so not the input's fault), with its traceback.
    """

    row: int
    name: str
    pipeline: str
    status: str
    video: str
    seconds: float | None = None
    audio_seconds: float | None = None
    frames: int | None = None
    error: str | None = None
    message: str | None = None
    bug: bool | None = None
    traceback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields that apply to its status."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class BatchReport:
    """The outcomes of one run, by status, and its timings (seconds)."""

    done: list[RowOutcome] = field(default_factory=list)
    skipped: list[RowOutcome] = field(default_factory=list)
    failed: list[RowOutcome] = field(default_factory=list)
    load_seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def add(self, outcome: RowOutcome) -> None:
        getattr(self, outcome.status).append(outcome)

    def outcomes(self) -> dict[int, RowOutcome]:
        """Row number -> outcome."""
        return {o.row: o for o in (*self.done, *self.skipped, *self.failed)}

    def to_dict(self) -> dict[str, Any]:
        lists = {status: [o.to_dict() for o in getattr(self, status)] for status in ("done", "skipped", "failed")}
        counts = {status: len(items) for status, items in lists.items()}
        return {"counts": counts, **lists, "load_seconds": self.load_seconds, "total_seconds": round(self.total_seconds, 3)}


class BatchRunner:
    """Runs rows into `out`, loading each pipeline on first use and keeping it until close().

    overrides: config changes applied to every pipeline it loads (what --config and the config
        flags give); device: where they run.
    progress: a progress bar over rows on stderr (shown only on a terminal).
    masks: also write <name>_masks.mp4 per row.
    resume: skip rows already made by an earlier run (False: make every row again).
    """

    def __init__(self, out: str | Path, *, overrides: Mapping[str, Any] | None = None, progress: bool = True,
                 masks: bool = False, resume: bool = True):  # fmt: skip
        self.out = Path(out)
        self.overrides = dict(overrides or {})
        self.progress, self.masks, self.resume = progress, masks, resume
        self._pipelines: dict[str, Any] = {}  # name -> the loaded pipeline
        self._configs: dict[str, dict[str, Any]] = {}
        self.load_seconds: dict[str, float] = {}

    @property
    def errors_path(self) -> Path:
        return self.out / ERRORS_FILE

    @property
    def report_path(self) -> Path:
        return self.out / f"{REPORT_NAME}.json"

    # -- before any work ------------------------------------------------------------------------
    def check(self, rows: Sequence[BatchRow]) -> None:
        """InputError, before any work, for rows that would overwrite each other's files and for
        config changes a pipeline does not take."""
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"{self.out}: the output folder is a file")
        owners: dict[Path, str] = {self.report_path.resolve(): "the batch report", self.errors_path.resolve(): "the error list"}
        for row in rows:
            # The sidecar covers the video's stem too: x.mp4 and x.mov would share x.json.
            for path in (row.output, row.sidecar, *([row.masks_path] if self.masks else [])):
                key = path.resolve()
                if key in owners:
                    raise InputError(f"row {row.number} and {owners[key]} would both write {path}: give them different names")
                owners[key] = f"row {row.number}"
        for name in dict.fromkeys(row.pipeline for row in rows):
            self._configs[name] = config_record(name, self.overrides)

    # -- the run --------------------------------------------------------------------------------
    def run(self, rows: Sequence[BatchRow]) -> BatchReport:
        """Make every row; returns the report (also written to <out>/batch_report.json).

        Raises, before any video is made, InputError for rows that clash and whatever stops a
        pipeline from loading (a bad config, missing weights): those are no row's fault.
        """
        from tqdm import tqdm

        self.check(rows)
        digests = {row.number: row.digest(self._configs[row.pipeline]) for row in rows}
        made = {row.number: self.finished(row, digests[row.number]) for row in rows} if self.resume else {}
        for name in dict.fromkeys(row.pipeline for row in rows if made.get(row.number) is None):
            self.pipeline(name)
        self.out.mkdir(parents=True, exist_ok=True)
        self.errors_path.unlink(missing_ok=True)  # errors.jsonl is this run's, not history
        report, start = BatchReport(), time.perf_counter()
        # disable=None: a bar on a terminal, none in a log file
        with tqdm(total=len(rows), unit="video", desc="batch", disable=None if self.progress else True) as bar:
            for row in rows:
                bar.set_postfix_str(row.name)  # the row being made
                report.add(made.get(row.number) or self.run_row(row, digests[row.number]))
                bar.update()
        report.load_seconds = {name: round(s, 3) for name, s in self.load_seconds.items()}
        report.total_seconds = time.perf_counter() - start
        text = json.dumps(report.to_dict(), indent=1) + "\n"
        write_atomically(self.report_path, lambda path: path.write_text(text))
        return report

    def run_row(self, row: BatchRow, digest: str) -> RowOutcome:
        """Make one row; a failure is recorded and returned, never raised (KeyboardInterrupt
        still is)."""
        try:
            return self.make(row, digest)
        except TalkingHeadError as exc:
            outcome = self.failure(row, exc, bug=False)
        except Exception as exc:  # a bug in one row must not lose the others
            outcome = self.failure(row, exc, bug=True)
        with open(self.errors_path, "a") as handle:  # appended at once: a crash keeps the errors so far
            handle.write(json.dumps({**row.record(), **outcome.to_dict()}) + "\n")
        return outcome

    def finished(self, row: BatchRow, digest: str) -> RowOutcome | None:
        """The skipped outcome if an earlier run made this very row, else None."""
        if not (row.output.is_file() and row.sidecar.is_file()) or (self.masks and not row.masks_path.is_file()):
            return None
        try:
            recorded = json.loads(row.sidecar.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(recorded, dict) or recorded.get("row_hash") != digest:
            return None
        return self.outcome(row, "skipped", recorded)

    def make(self, row: BatchRow, digest: str) -> RowOutcome:
        """Generate and save the row's video, then its sidecar."""
        pipeline = self.pipeline(row.pipeline)
        # A sidecar left from an older version of the row must not vouch for the new video.
        row.sidecar.unlink(missing_ok=True)
        row.output.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        result = pipeline(row.inputs, seed=row.seed, **row.options)
        result.save(row.output, masks_path=row.masks_path if self.masks else None)
        seconds = time.perf_counter() - start
        sidecar = {**result.summary(row.output), "row": row.record(), "row_hash": digest,
                   "generate_seconds": round(seconds, 3), "audio_seconds": result.audio.duration}  # fmt: skip
        text = json.dumps(sidecar, indent=1) + "\n"
        write_atomically(row.sidecar, lambda path: path.write_text(text))
        return self.outcome(row, "done", sidecar)

    def outcome(self, row: BatchRow, status: str, sidecar: dict[str, Any]) -> RowOutcome:
        return RowOutcome(row.number, row.name, row.pipeline, status, str(row.output), seconds=sidecar.get("generate_seconds"),
                          audio_seconds=sidecar.get("audio_seconds"), frames=sidecar.get("frames"))  # fmt: skip

    def failure(self, row: BatchRow, exc: BaseException, *, bug: bool) -> RowOutcome:
        message = first_line(exc)
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) if bug else None
        return RowOutcome(row.number, row.name, row.pipeline, "failed", str(row.output),
                          error=type(exc).__name__, message=message, bug=bug, traceback=trace)  # fmt: skip

    # -- pipelines ------------------------------------------------------------------------------
    def pipeline(self, name: str):
        """The pipeline `name`, loaded with the overrides on first use, then kept."""
        from .. import api

        if name not in self._pipelines:
            start = time.perf_counter()
            self._pipelines[name] = api.load_pipeline(name, overrides=self.overrides or None).warm_up()
            self.load_seconds[name] = time.perf_counter() - start
        return self._pipelines[name]

    def close(self) -> None:
        """Release every loaded pipeline's native resources."""
        for pipeline in self._pipelines.values():
            pipeline.close()
        self._pipelines.clear()

    def __enter__(self) -> "BatchRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def config_record(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The pipeline's config with the overrides, as a row's (or a forge job's) hash takes it:
    without the device, so that work begun on one machine can be finished on another."""
    cls = PIPELINES.get(name)
    config = config_dict(override(cls.config_class(), dict(overrides or {}), f"{name} config"))
    config.pop("device", None)
    return config


def run_batch(rows: Sequence[BatchRow], out: str | Path, **settings: Any) -> BatchReport:
    """Run `rows` with a fresh BatchRunner (see its settings) and close its pipelines."""
    with BatchRunner(out, **settings) as runner:
        return runner.run(rows)
