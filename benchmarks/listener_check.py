"""Check a listening-head video (the `mfr` pipeline's output) against the listener criteria.

    python benchmarks/listener_check.py --listener-video OUT.mp4 --image LISTENER.jpg \\
        --speaker-video SPK.mp4 [--other-seed OUT_SEED1.mp4] [--negative OUT_NEG.mp4] [--json FILE]

Prints the machine, the report of each video (talkinghead.eval.listener.evaluate_listener) and
PASS / FAIL for each criterion:
  length        the video lasts within 0.2 s of the speaker video
  audio         the video carries an audio track (the speaker's)
  identity      dlib identity distance to the listener photo <= 0.45
  mouth closed  mean mouth gap ratio <= 0.06 (a listener does not talk)
  no talking    mouth-audio r <= 0.4 (the mouth does not follow the speaker's voice)
  yaw, pitch    pose std in 0.5-15 degrees (alive, not shaking)
  seeds         pose RMSE to --other-seed >= 1 degree (seeds give different motion)
  attitude      with --negative: the main (positive) video smiles >= 0.02 more and nods at
                least as often as the negative one
Exit status 0 when every criterion passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass

import numpy as np

from talkinghead.eval.listener import (
    ListenerReport,
    compare_attitudes,
    evaluate_listener,
    pose_rmse,
)
from talkinghead.info import machine_summary

LENGTH_TOLERANCE_S = 0.2
MAX_IDENTITY = 0.45
MAX_MOUTH_GAP = 0.06
MAX_MOUTH_AUDIO_R = 0.4
POSE_STD_RANGE = (0.5, 15.0)
MIN_SEED_RMSE = 1.0
MIN_SMILE_DIFFERENCE = 0.02


@dataclass(frozen=True)
class Criterion:
    """One check: its name, the measured value as text, the target as text, and whether it passed."""

    name: str
    value: str
    target: str
    passed: bool


def _at_most(name: str, value: float | None, limit: float) -> Criterion:
    """value <= limit; a figure that could not be measured (None) fails."""
    return Criterion(name, _text(value), f"<= {limit}", value is not None and value <= limit)


def _text(value) -> str:
    return "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def single_video_criteria(report: ListenerReport) -> list[Criterion]:
    """The criteria one listener video must meet on its own."""
    length_error = abs(report.duration_s - report.speaker_duration_s)
    checks = [
        Criterion(
            "length",
            f"{report.duration_s:.2f} s vs speaker {report.speaker_duration_s:.2f} s",
            f"within {LENGTH_TOLERANCE_S} s",
            length_error <= LENGTH_TOLERANCE_S,
        ),
        Criterion("audio", "present" if report.has_audio else "missing", "present", report.has_audio),
        _at_most("identity", report.identity_distance, MAX_IDENTITY),
        _at_most("mouth closed", report.mouth_gap_mean, MAX_MOUTH_GAP),
        no_talking(report),
    ]
    low, high = POSE_STD_RANGE
    for axis in ("yaw", "pitch"):
        std = getattr(report, f"{axis}_std")
        checks.append(Criterion(f"{axis} std", _text(std), f"{low}-{high} deg", std is not None and low <= std <= high))
    return checks


def no_talking(report: ListenerReport) -> Criterion:
    """The mouth does not follow the speaker's voice. A mouth that never moves has no defined
    correlation (its gap is constant); it passes when it is also closed."""
    r, gap = report.mouth_audio_r, report.mouth_gap_mean
    still = report.series is not None and np.nanstd(report.series.mouth_gap) == 0
    if r is None and still and gap is not None and gap <= MAX_MOUTH_GAP:
        return Criterion("no talking", "mouth still (r undefined)", f"<= {MAX_MOUTH_AUDIO_R}", True)
    return _at_most("no talking", r, MAX_MOUTH_AUDIO_R)


def seed_criterion(main: ListenerReport, other: ListenerReport) -> Criterion:
    """Two seeds of one input must move differently."""
    rmse = pose_rmse(main, other)
    return Criterion("seeds", f"pose RMSE {rmse:.2f} deg", f">= {MIN_SEED_RMSE} deg", rmse >= MIN_SEED_RMSE)


def attitude_criteria(positive: ListenerReport, negative: ListenerReport) -> list[Criterion]:
    """A positive listener smiles more and nods at least as often as a negative one."""
    comparison = compare_attitudes(positive, negative)
    smile = comparison["smile_difference"]
    return [
        Criterion(
            "attitude smile",
            f"positive - negative {_text(smile)}",
            f">= {MIN_SMILE_DIFFERENCE}",
            smile is not None and smile >= MIN_SMILE_DIFFERENCE,
        ),
        Criterion(
            "attitude nods",
            f"{comparison['nods_positive']} vs {comparison['nods_negative']}",
            "positive >= negative",
            comparison["nod_difference"] >= 0,
        ),
    ]


def _evaluate(label: str, video: str, args: argparse.Namespace) -> ListenerReport:
    """evaluate_listener with its wall time, printing the report."""
    start = time.perf_counter()
    report = evaluate_listener(video, args.image, args.speaker_video)
    print(f"\n{label}: {video} ({time.perf_counter() - start:.1f} s to evaluate)")
    for key, value in report.summary().items():
        print(f"  {key:28} {_text(value)}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listener-video", required=True, help="the listener video to check (positive attitude)")
    parser.add_argument("--image", required=True, help="the listener photo it was made from")
    parser.add_argument("--speaker-video", required=True, help="the speaker video it responds to")
    parser.add_argument("--other-seed", help="the same input made with another seed")
    parser.add_argument("--negative", help="the same input made with a negative attitude")
    parser.add_argument("--json", help="also write the reports and criteria to this file")
    args = parser.parse_args(argv)
    print(f"machine: {machine_summary()}")
    main_report = _evaluate("listener video", args.listener_video, args)
    checks = single_video_criteria(main_report)
    reports = {"main": main_report.summary()}
    if args.other_seed:
        other = _evaluate("other seed", args.other_seed, args)
        checks.append(seed_criterion(main_report, other))
        reports["other_seed"] = other.summary()
    if args.negative:
        negative = _evaluate("negative attitude", args.negative, args)
        checks += attitude_criteria(main_report, negative)
        reports["negative"] = negative.summary()
    print("\ncriteria:")
    for check in checks:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.name:15} {check.value:36} target {check.target}")
    passed = all(check.passed for check in checks)
    print(f"\n{sum(c.passed for c in checks)}/{len(checks)} criteria pass: {'PASS' if passed else 'FAIL'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"reports": reports, "criteria": [c.__dict__ for c in checks]}, handle, indent=2)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
