"""Measure a talking-head video against the project's acceptance criteria, independently.

    python benchmarks/check_quality.py VIDEO --source IMAGE [--audio AUDIO] [--json]

Runs talkinghead.eval's evaluation (dlib, not the generator's MediaPipe, on every frame: the
same figures as `talkinghead eval`) and judges them against the acceptance targets. Without --audio the video's own audio track is used.
Prints a table (or, with --json, one JSON object) and exits with 0 when every criterion that
could be judged passes, 1 when one fails, 2 when an input cannot be used.
Needs the eval extra: pip install 'talkinghead[eval]'.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.eval.evaluate import EvalConfig, evaluate_video, flat_summary


@dataclass(frozen=True)
class Criterion:
    """One acceptance target: `value` must be >= (or <=) `threshold`."""

    name: str
    key: str
    at_least: bool
    threshold: float


CRITERIA = (
    Criterion("face found rate", "face_found_rate", True, 0.95),
    Criterion("identity distance mean", "identity_distance", False, 0.45),
    Criterion("mouth opening std", "mouth_std", True, 0.02),
    Criterion("mouth opening in silence", "mouth_silent", False, 0.03),
    Criterion("yaw std (deg)", "pose_std_yaw", True, 1.0),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", help="the video to evaluate (mp4, mov, mkv)")
    parser.add_argument("--source", required=True, help="the face photo the video was made from")
    parser.add_argument("--audio", help="the speech it should follow (default: the video's own track)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--identity-frames", type=int, default=EvalConfig.identity_frames,
                        help="at most this many evenly spaced frames get a face descriptor")  # fmt: skip
    return parser.parse_args(argv)


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}


def evaluate(video: str, source: str, audio: str | None, identity_frames: int) -> dict[str, object]:
    """Every figure of talkinghead.eval's evaluation, flat (NaN where not measurable)."""
    config = EvalConfig(identity_frames=identity_frames)
    summary = flat_summary(evaluate_video(video, source=source, audio=audio, config=config).summary)
    return {k: (float("nan") if v is None else v) for k, v in summary.items()}


def judge(report: dict[str, object]) -> list[dict[str, object]]:
    """Each criterion with its value and "PASS", "FAIL" or "n/a" (value not measurable)."""
    results = []
    for criterion in CRITERIA:
        value = report.get(criterion.key, float("nan"))
        if not np.isfinite(value):
            verdict = "n/a"
        elif criterion.at_least:
            verdict = "PASS" if value >= criterion.threshold else "FAIL"
        else:
            verdict = "PASS" if value <= criterion.threshold else "FAIL"
        sign = ">=" if criterion.at_least else "<="
        results.append({"name": criterion.name, "key": criterion.key, "value": value,
                        "target": f"{sign} {criterion.threshold:g}", "verdict": verdict})  # fmt: skip
    return results


# (label, key, format) of the table's rows; a key missing from the report prints as "-".
ROWS = (
    ("frames", "frames", "{:d}"),
    ("face found rate", "face_found_rate", "{:.1%}"),
    ("identity distance mean", "identity_distance", "{:.3f}"),
    ("identity distance max", "identity_distance_max", "{:.3f}"),
    ("  frames with a descriptor", "identity_frames", "{:d}"),
    ("mouth opening std", "mouth_std", "{:.4f}"),
    ("mouth opening mean", "mouth_mean", "{:.4f}"),
    ("mouth opening in silence", "mouth_silent", "{:.4f}"),
    ("  silent frames", "silent_frames", "{:d}"),
    ("mouth opening when voiced", "mouth_voiced", "{:.4f}"),
    ("  voice activity from", "vad", "{}"),
    ("mouth-loudness r (best lag)", "sync_r", "{:.3f}"),
    ("  lag (frames, + = mouth later)", "sync_lag", "{:+d}"),
    ("yaw std (deg)", "pose_std_yaw", "{:.2f}"),
    ("pitch std (deg)", "pose_std_pitch", "{:.2f}"),
    ("roll std (deg)", "pose_std_roll", "{:.2f}"),
    ("yaw speed (deg/s)", "pose_speed_yaw", "{:.1f}"),
    ("pitch speed (deg/s)", "pose_speed_pitch", "{:.1f}"),
    ("roll speed (deg/s)", "pose_speed_roll", "{:.1f}"),
    ("blinks per minute", "blinks_per_min", "{:.1f}"),
    ("jitter (eye dist / frame^2)", "jitter", "{:.4f}"),
    ("sharpness ratio video/source", "sharpness_ratio", "{:.3f}"),
    ("evaluation time (s)", "seconds", "{:.1f}"),
)


def print_table(report: dict[str, object], results: list[dict[str, object]]) -> None:
    """The report as aligned rows, with target and verdict beside each criterion."""
    print()
    verdicts = {r["key"]: r for r in results}
    print(f"{'measure':34s} {'value':>10s}  {'target':9s} result")
    for label, key, spec in ROWS:
        value = report.get(key)
        text = "-" if value is None or (isinstance(value, float) and not np.isfinite(value)) else spec.format(value)
        row = f"{label:34s} {text:>10s}"
        if key in verdicts:
            criterion = next(c for c in CRITERIA if c.key == key)
            target = (">= " if criterion.at_least else "<= ") + spec.format(criterion.threshold)
            row += f"  {target:9s} {verdicts[key]['verdict']}"
        print(row)
    print(f"{'overall':34s} {'':>10s}  {'':9s} {overall(results)}")
    if isinstance(report.get("audio_note"), str):
        print(f"note: {report['audio_note']}")


def overall(results: list[dict[str, object]]) -> str:
    """FAIL if any criterion fails, else PASS (criteria that could not be measured are skipped)."""
    return "FAIL" if any(r["verdict"] == "FAIL" for r in results) else "PASS"


def _json_safe(value: object) -> object:
    """NaN (not valid JSON) as null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    header = {"machine": machine(), "arguments": vars(args)}
    if not args.json:
        # Printed before the work starts, so a slow or failing run still says what it ran on.
        print("machine    {platform}, python {python}, {cpus} CPUs".format(**header["machine"]))
        print("arguments  " + " ".join(f"{k}={v}" for k, v in vars(args).items()), flush=True)
    start = time.perf_counter()
    try:
        report = evaluate(args.video, args.source, args.audio, args.identity_frames)
    except (TalkingHeadError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report["seconds"] = time.perf_counter() - start
    results = judge(report)
    if args.json:
        output = {**header, "report": {k: _json_safe(v) for k, v in report.items()},
                  "criteria": [{k: _json_safe(v) for k, v in r.items()} for r in results],
                  "overall": overall(results)}  # fmt: skip
        print(json.dumps(output))
    else:
        print_table(report, results)
    return 1 if overall(results) == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
