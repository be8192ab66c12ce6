"""The benchmark runner behind `talkinghead bench`: generate, evaluate, tabulate, plot.

For every manifest row, pipeline and seed it makes a video through the batch runner (each
pipeline loaded once; the time of each video measured without the loading), evaluates it
(evaluate.evaluate_video with the row's image as source and its reference video, if any),
and writes to the output folder:
    videos/       the videos, each with its batch sidecar (.json); errors.jsonl, batch_report.json
    results.json  every figure of every run, per-pipeline means, seed diversity, real ranges
    results.csv   one line per run
    table.md      pipelines as rows, plus a "real video" row from reference_real.json
    plots/        mouth opening vs audio envelope, pose curves, per-metric bars (PNG)
"""

from __future__ import annotations

import csv
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..batch.manifest import BatchRow
from ..batch.runner import BatchReport, run_batch
from ..errors import InputError
from . import metrics
from .evaluate import EvalConfig, Evaluation, evaluate_video, flat_summary
from .manifest import BenchInput, read_manifest, resolve
from .reference import MOTION_KEYS, load_reference


@dataclass(frozen=True)
class BenchConfig:
    pipelines: tuple[str, ...] = ("baseline",)
    """Pipelines to run (names in talkinghead.registry.PIPELINES)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Every input is generated once per seed; diversity compares the seeds' head motions."""
    eval: EvalConfig = field(default_factory=EvalConfig)


@dataclass
class Run:
    """One generated video: its input, pipeline, seed, timing and evaluation."""

    row: BenchInput
    pipeline: str
    seed: int
    video: str
    generate_seconds: float
    audio_seconds: float
    evaluation: Evaluation

    def figures(self) -> dict:
        """Flat figures of this run (JSON / CSV-ready)."""
        frames = self.evaluation.summary["frames"]
        return {
            "input": self.row.name, "pipeline": self.pipeline, "seed": self.seed, "video": self.video,
            "generate_seconds": self.generate_seconds,
            "generate_fps": frames / self.generate_seconds if self.generate_seconds > 0 else None,
            "seconds_per_audio_second": self.generate_seconds / self.audio_seconds if self.audio_seconds > 0 else None,
            **flat_summary(self.evaluation.summary),
        }  # fmt: skip


def run_bench(manifest: str, out: str | Path, config: BenchConfig = BenchConfig(), log=print, progress: bool = False) -> dict:
    """Run the whole benchmark and write its files into `out`; returns results.json's content.

    The videos are made by the batch runner (each pipeline loaded once for all inputs and
    seeds); a run that fails is logged and listed under "failed", the others are evaluated.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: output folder is a file")
    rows = read_manifest(manifest)
    for name in ("videos", "plots", "inputs"):
        (out / name).mkdir(parents=True, exist_ok=True)
    rows = [resolve(row, out / "inputs") for row in rows]
    # The real clips' own curves, drawn beside the generated ones.
    real = {row.name: evaluate_video(row.reference, config=config.eval).series for row in rows if row.reference is not None}
    jobs = bench_jobs(rows, config, out / "videos")
    # resume=False: a benchmark measures the code as it is now, never videos of an earlier run
    report = run_batch([job.batch for job in jobs], out / "videos", progress=progress, resume=False)
    runs = evaluate_runs(jobs, report, config.eval, log)
    if not runs:
        first = report.failed[0]
        raise InputError(f"every run failed; the first, {first.name}: {first.message}")
    results = summarise(runs, config)
    results["failed"] = [outcome.to_dict() for outcome in report.failed]
    write_outputs(out, runs, results, real)
    return results


@dataclass(frozen=True)
class Job:
    """One video to make: a manifest input, a pipeline, a seed, and its batch row."""

    row: BenchInput
    pipeline: str
    seed: int
    batch: BatchRow


def bench_jobs(rows: list[BenchInput], config: BenchConfig, folder: Path) -> list[Job]:
    """Every (input, pipeline, seed) as a batch row writing <folder>/<input>_<pipeline>_s<seed>.mp4."""
    from ..registry import PIPELINES

    jobs = []
    for row in rows:
        for pipeline in config.pipelines:
            inputs, options = row_inputs(row, PIPELINES.get(pipeline))
            for seed in config.seeds:
                name = f"{row.name}_{pipeline}_s{seed}"
                batch = BatchRow(len(jobs) + 1, name, pipeline, inputs, options, seed, folder / f"{name}.mp4")
                jobs.append(Job(row, pipeline, seed, batch))
    return jobs


def row_inputs(row: BenchInput, pipeline_class) -> tuple:
    """(inputs, options) of one manifest row for one pipeline. A pipeline that follows a pose
    video (opt) follows the row's reference; on a reconstruction row, relative to its first
    frame, which is the photo: the reconstruction protocol's "its own pose"."""
    names = {f.name for f in pipeline_class.inputs_class.input_fields()}
    values = {"image": row.image, "audio": row.audio}
    options = {}
    if "pose_video" in names and row.reference is not None:
        values["pose_video"] = row.reference
        if row.reconstruction:
            options["pose_anchor"] = "first-frame"
    return pipeline_class.inputs_class.from_mapping(values, where=f"bench input {row.name}"), options


def evaluate_runs(jobs: list[Job], report: BatchReport, eval_config: EvalConfig, log=print) -> list[Run]:
    """Evaluate the videos the batch made (timing: model loading excluded, encoding included)."""
    outcomes = report.outcomes()
    runs = []
    for job in jobs:
        outcome = outcomes[job.batch.number]
        label = f"{job.row.name} / {job.pipeline} / seed {job.seed}"
        if outcome.status == "failed":
            log(f"{label}: failed: {outcome.error}: {outcome.message}")
            continue
        evaluation = evaluate_video(outcome.video, source=job.row.image, reference=job.row.reference, audio=job.row.audio, config=eval_config)
        runs.append(Run(job.row, job.pipeline, job.seed, outcome.video, outcome.seconds, outcome.audio_seconds, evaluation))
        log(f"{label}: {outcome.seconds:.1f} s to generate, {evaluation.summary['seconds']:.1f} s to evaluate")
    return runs


def summarise(runs: list[Run], config: BenchConfig) -> dict:
    """results.json: runs, per-pipeline means, seed diversity and distance from real ranges."""
    reference = load_reference()
    per_run = [run.figures() for run in runs]
    pipelines = {}
    for name in config.pipelines:
        mine = [r for r, run in zip(per_run, runs) if run.pipeline == name]
        means = _means(mine)
        means["pose_diversity"] = _diversity([run for run in runs if run.pipeline == name])
        means["real_range_distance"] = _range_distance(means, reference["ranges"])
        pipelines[name] = means
    return {
        "machine": f"{platform.platform()}, python {platform.python_version()}, {os.cpu_count()} CPUs",
        "settings": {"pipelines": list(config.pipelines), "seeds": list(config.seeds)},
        "runs": per_run,
        "pipelines": pipelines,
        "by_input": {name: _input_diversity([run for run in runs if run.pipeline == name]) for name in config.pipelines},
        "real_video": reference["ranges"],
    }


def _means(figures: list[dict]) -> dict:
    """Mean of every numeric figure over runs (None where no run has a number)."""
    keys = [k for k in figures[0] if k not in ("input", "pipeline", "seed", "video")] if figures else []
    means = {}
    for key in keys:
        values = [f[key] for f in figures if isinstance(f.get(key), (int, float)) and not isinstance(f.get(key), bool)]
        means[key] = float(np.mean(values)) if values else None
    return means


def _pose_curves(runs: list[Run]) -> dict[str, list[np.ndarray]]:
    """Input name -> the (T, 3) head-pose curves of its runs (one per seed)."""
    by_input: dict[str, list[np.ndarray]] = {}
    for run in runs:
        by_input.setdefault(run.row.name, []).append(run.evaluation.series.poses)
    return by_input


def _diversity(runs: list[Run]) -> float | None:
    """Mean over inputs of metrics.pose_diversity between the seeds' head-pose curves (deg)."""
    values = [metrics.pose_diversity(curves) for curves in _pose_curves(runs).values() if len(curves) >= 2]
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else None


def _input_diversity(runs: list[Run]) -> dict[str, dict]:
    """Input name -> mean and smallest pose distance between two of its seeds (deg)."""
    out = {}
    for name, curves in _pose_curves(runs).items():
        distances = [d for d in metrics.pose_distances(curves) if np.isfinite(d)]
        out[name] = {"pose_diversity": float(np.mean(distances)) if distances else None,
                     "pose_distance_min": float(min(distances)) if distances else None}  # fmt: skip
    return out


def _range_distance(means: dict, ranges: dict) -> float | None:
    """Mean metrics.range_distance of the motion figures from the real videos' ranges."""
    values = [metrics.range_distance(means[k], *ranges[k]) for k in MOTION_KEYS
              if means.get(k) is not None and k in ranges]  # fmt: skip
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else None


def write_outputs(out: Path, runs: list[Run], results: dict, real: dict | None = None) -> None:
    """results.json, results.csv, table.md and the plots; `real`: input name -> FrameSeries of
    its reference video, drawn in the pose plots."""
    from .plots import plot_bars, plot_mouth_vs_audio, plot_pose_curves
    from .table import markdown_table

    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    _write_csv(out / "results.csv", results["runs"])
    (out / "table.md").write_text(markdown_table(results))
    first_seed = {}
    for run in runs:
        first_seed.setdefault((run.row.name, run.pipeline), run)
    for (name, pipeline), run in first_seed.items():
        plot_mouth_vs_audio(run.evaluation.series, out / "plots" / f"mouth_audio_{name}_{pipeline}.png",
                            title=f"{name}, {pipeline}, seed {run.seed}")  # fmt: skip
    for name in dict.fromkeys(run.row.name for run in runs):
        curves = {f"{run.pipeline} seed {run.seed}": run.evaluation.series for run in runs if run.row.name == name}
        if real and name in real:
            curves["real video"] = real[name]
        plot_pose_curves(curves, out / "plots" / f"pose_{name}.png", title=f"head pose, {name}")
    plot_bars(results, out / "plots" / "metrics.png")


def _write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
