"""`talkinghead batch MANIFEST --out DIR`: many videos from a manifest (see batch.manifest).

    talkinghead batch jobs.csv --out videos/ [--pipeline osm] [--seed 0] [--masks]
                      [--config FILE] [--face-backend NAME] [--renderer NAME] [--device cuda]

Exit status: 0 when every row was made (or already was), 1 when some rows failed (one line
each on stderr; details in DIR/errors.jsonl), 2 when nothing could start (a bad manifest,
config or flag).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..generate_command import add_config_flags, config_overrides, pipeline_name
from ..registry import DEFAULT_PIPELINE

EXIT_ROWS_FAILED = 1


def add_parser(commands) -> None:
    help_text = "make many videos from a manifest (CSV or JSONL of the pipeline's inputs and options)"
    p = commands.add_parser("batch", help=help_text, description=help_text + "; finished rows are skipped when run again")
    p.add_argument("manifest", help="a .csv (header row), .jsonl, .yaml or .json manifest: columns are the pipeline's "
                                    "inputs (image, audio, ...) and options (fps, still, ...), plus pipeline, seed, name, out")  # fmt: skip
    p.add_argument("--out", required=True, help="output folder: <name>.mp4 and <name>.json per row, errors.jsonl, batch_report.json")
    p.add_argument("--pipeline", default=None, help=f"pipeline of the rows without a pipeline column (default: the one --config names, else {DEFAULT_PIPELINE})")
    p.add_argument("--seed", type=int, default=0, help="a row without a seed gets SEED + its index (default 0), so reruns make the same videos")
    p.add_argument("--masks", action="store_true", help="also write <name>_masks.mp4, the manipulation masks, per row")
    p.add_argument("--force", action="store_true", help="make every row again, even those an earlier run finished")
    p.add_argument("--json", action="store_true", help="print the batch report as JSON instead of a summary line")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_flags(p)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..pipelines.base import check_seed
    from ..registry import PIPELINES
    from .manifest import read_manifest
    from .runner import run_batch

    named, overrides = config_overrides(args)
    default = pipeline_name(args, named, DEFAULT_PIPELINE)
    PIPELINES.get(default)  # an unknown --pipeline is reported as such, not as row 1's
    try:
        check_seed(args.seed)
    except InputError as exc:
        raise InputError(f"--seed: {exc}") from None
    rows = read_manifest(args.manifest, out=args.out, pipeline=default, seed=args.seed)
    if named:
        other = next((row for row in rows if row.pipeline != named), None)
        if other is not None:
            raise InputError(f"{args.config} is written for the {named} pipeline, but row {other.number} uses {other.pipeline}")
    report = run_batch(rows, args.out, overrides=overrides, progress=not args.no_progress, masks=args.masks, resume=not args.force)
    print_report(report, args)
    return 0 if report.ok else EXIT_ROWS_FAILED


def print_report(report, args: argparse.Namespace) -> None:
    """The report (JSON or one line) on stdout; one line per failed row on stderr."""
    for failed in report.failed:
        # an input's fault speaks for itself; a bug is named by its type, its traceback kept
        what = f"{failed.error}: {failed.message} (a bug: traceback in {args.out}/errors.jsonl)" if failed.bug else failed.message
        print(f"talkinghead: row {failed.row} ({failed.name}) failed: {what}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict()))
        return
    parts = [f"{len(report.done)} made", f"{len(report.skipped)} already made", f"{len(report.failed)} failed"]
    print(f"batch: {', '.join(parts)} in {report.total_seconds:.1f} s; report: {args.out}/batch_report.json")
