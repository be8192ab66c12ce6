"""run_forge(): plan the jobs, skip the finished ones, run the rest, write the dataset's files.

    report = run_forge(ForgeConfig(compressions=("c23", "c40")), faces="faces", audio="speech",
                       real_videos="real", out="dataset", workers=2)

Rerunning the same command after a crash or a kill finishes what is missing and redoes
nothing finished: a job is finished when its record exists, names the same inputs and settings
(its hash) and every file it lists is in place. Leftovers of killed jobs (hidden partial files,
scratch folders) are removed before and after every run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.atomic import write_atomically
from ..io.video import INPUT_VIDEO_SUFFIXES
from .card import dataset_card
from .config import ForgeConfig
from .layout import record_file, work_folder
from .metadata import deepfakebench
from .plan import Job, Plan, make_plan
from .sources import AUDIO_SUFFIXES, FACE_SUFFIXES, scan

REPORT_FILE = "forge_report.json"


@dataclass
class ForgeReport:
    """What one run did. made / skipped / failed: job keys; failures: their records."""

    made: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    videos: int = 0
    video_seconds: float = 0.0
    seconds: float = 0.0
    workers: int = 1
    executor: str = "local"

    @property
    def ok(self) -> bool:
        return not self.failures

    def throughput(self) -> float:
        """Jobs made per hour per worker (each job is one render, encoded at every compression)."""
        return len(self.made) * 3600 / self.seconds / self.workers if self.seconds and self.made else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counts": {"made": len(self.made), "skipped": len(self.skipped), "failed": len(self.failures)},
                "jobs_per_hour_per_worker": round(self.throughput(), 1)}  # fmt: skip

    def line(self) -> str:
        return (f"forge: {len(self.made)} jobs made, {len(self.skipped)} already made, {len(self.failures)} failed in "
                f"{self.seconds:.1f} s on {self.workers} {self.executor} worker(s) ({self.throughput():.0f} jobs/hour/worker); "
                f"dataset: {self.videos} videos, {self.video_seconds / 3600:.2f} h")  # fmt: skip


def run_forge(config: ForgeConfig, *, faces=None, audio=None, real_videos=None, out, workers: int = 1,
              ray_address: str | None = None, progress: bool = True, command: str = "") -> ForgeReport:  # fmt: skip
    """Make (or finish) the dataset in `out`; see the module docstring. InputError before any
    work for bad folders, settings or pipelines; a job that fails is recorded in errors.json."""
    from .executors import executor

    out = Path(out).expanduser()
    plan = make_plan(config, scan(faces, FACE_SUFFIXES, "face"), scan(audio, AUDIO_SUFFIXES, "speech"),
                     scan(real_videos, INPUT_VIDEO_SUFFIXES, "real video"))  # fmt: skip
    check_pipelines(config)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: the output folder is a file")
    out.mkdir(parents=True, exist_ok=True)
    sweep(out)
    write_json(out / "splits.json", splits_record(plan))
    digests = {job.key: job_hash(job, config) for job in plan.jobs}
    records = {job.key: finished(out, job, digests[job.key]) for job in plan.jobs}
    pending = [(job, digests[job.key]) for job in plan.jobs if records[job.key] is None]
    report = ForgeReport(skipped=[key for key, record in records.items() if record is not None])
    start = time.perf_counter()
    if pending:
        run = executor(out, config, workers=workers, address=ray_address)
        report.workers, report.executor = run.workers, "ray" if ray_address or workers else "local"
        try:
            run_pending(run, pending, records, report, progress)
        finally:
            run.close()
            sweep(out)  # the workers are gone: what they left half-written can go
    report.seconds = time.perf_counter() - start
    write_dataset(out, config, plan, records, report, command)
    return report


def run_pending(run, pending: list[tuple[Job, str]], records: dict[str, Any], report: ForgeReport, progress: bool) -> None:
    from tqdm import tqdm

    jobs = {job.key: job for job, _ in pending}
    with tqdm(total=len(pending), unit="job", desc="forge", disable=None if progress else True, file=sys.stderr) as bar:
        for record in run.run(pending):
            if record["status"] == "done":
                records[record["job"]] = record
                report.made.append(record["job"])
            else:
                report.failures.append({**record, "inputs": job_inputs(jobs[record["job"]])})
            bar.set_postfix_str(f"{len(report.failures)} failed" if report.failures else "")
            bar.update()


def check_pipelines(config: ForgeConfig) -> None:
    """InputError for a pipeline that is unknown or wants more than a photo and a speech clip
    (opt's pose, a listener's speaker video)."""
    from ..pipelines.inputs import TalkingHeadInputs
    from ..registry import PIPELINES

    plain = {f.name for f in TalkingHeadInputs.input_fields()}
    for name in config.pipelines:
        inputs = PIPELINES.get(name).inputs_class
        extra = sorted({f.name for f in inputs.input_fields()} - plain)
        if not issubclass(inputs, TalkingHeadInputs) or extra:
            wants = ", ".join(extra or inputs.required())
            raise InputError(f"the {name} pipeline needs {wants}: forge makes fakes from a photo and speech alone")


# -- resume -------------------------------------------------------------------------------------
def job_hash(job: Job, config: ForgeConfig) -> str:
    """Hash of what decides the job's files: its inputs (paths relative to their folders, so a
    moved dataset keeps its finished jobs, with sizes and times), its seed and split, the
    settings that shape the files, and the pipeline's config."""
    from ..batch.runner import config_record

    inputs = {name: [source.relative, *stat(source.path)] for name, source in sources_of(job).items()}
    pipeline = {} if job.is_real else config_record(job.method)
    settings = {k: getattr(config, k) for k in ("compressions", "frames_per_video", "max_size", "preset")}
    payload = {"job": job.key, "split": job.split, "seed": job.seed, "inputs": inputs, "settings": settings, "pipeline": pipeline}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stat(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def sources_of(job: Job) -> dict:
    return {name: source for name, source in (("face", job.face), ("audio", job.audio), ("real", job.real)) if source is not None}


def job_inputs(job: Job) -> dict[str, str]:
    return {name: str(source.path) for name, source in sources_of(job).items()}


def finished(out: Path, job: Job, digest: str) -> dict[str, Any] | None:
    """The job's record if an earlier run finished this very job and its files are all there."""
    try:
        record = json.loads((out / record_file(job)).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("hash") != digest or record.get("status") != "done":
        return None
    for item in record.get("entries", []):
        files = [item["file"], *([item["mask"]] if item.get("mask") else []), *item.get("frames", []), *item.get("mask_frames", [])]
        if not all((out / name).is_file() for name in files):
            return None
    return record


def sweep(out: Path) -> None:
    """Remove what killed jobs left: hidden partial files and the scratch folder."""
    shutil.rmtree(work_folder(out), ignore_errors=True)
    for path in out.rglob(".*.partial*"):
        if path.is_file():
            path.unlink(missing_ok=True)


# -- the dataset's files ------------------------------------------------------------------------
def write_dataset(out: Path, config: ForgeConfig, plan: Plan, records: dict[str, Any], report: ForgeReport, command: str) -> None:
    entries = sorted((item for key in (job.key for job in plan.jobs) if records.get(key) for item in records[key]["entries"]),
                     key=lambda item: item["file"])  # fmt: skip
    report.videos = len(entries)
    report.video_seconds = sum(item["video_frames"] / item["fps"] for item in entries)
    write_json(out / "metadata.json", entries)
    write_json(out / "deepfakebench.json", deepfakebench(entries, config.dataset))
    write_json(out / "errors.json", report.failures)
    write_json(out / REPORT_FILE, report.to_dict())
    card = dataset_card(config, plan, entries, report, command)
    write_atomically(out / "README.md", lambda path: path.write_text(card))


def splits_record(plan: Plan) -> dict[str, Any]:
    by_split: dict[str, list[str]] = {}
    for identity, split in sorted(plan.splits.items()):
        by_split.setdefault(split, []).append(identity)
    return {"identities": plan.splits, "speakers": plan.speaker_splits, "by_split": by_split, "unpaired_faces": plan.unpaired_faces}


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=1) + "\n"
    write_atomically(path, lambda target: target.write_text(text))

