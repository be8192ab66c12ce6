"""Many videos from one manifest: `talkinghead batch MANIFEST --out DIR`.

    manifest  read_manifest(): a CSV / JSONL / YAML file -> typed BatchRow per video
    cells     manifest text -> the option types the pipelines declare
    runner    run_batch() / BatchRunner: each pipeline loaded once, per-row errors recorded,
              finished rows skipped on rerun, a report
    command   the command line

`talkinghead bench` generates its videos through the same runner.
"""

from .manifest import BatchRow, read_manifest
from .runner import BatchReport, BatchRunner, RowOutcome, run_batch

__all__ = ["BatchReport", "BatchRow", "BatchRunner", "RowOutcome", "read_manifest", "run_batch"]
