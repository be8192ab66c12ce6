"""The listener protocol of the MFR-Net issue, end to end: make listener videos, measure them.

    python benchmarks/listener_bench.py --speakers SPK1.mp4 SPK2.mp4 --faces FACE1.jpg FACE2.jpg \\
        [--out DIR] [--seconds 20] [--attitude-strength 1.5] [--checkpoint DIR] [--json FILE]

For every speaker video x listener photo, the `mfr` pipeline makes three videos: positive
attitude with seeds 0 and 1, negative with seed 0 (the speaker videos cut to --seconds first).
Each is measured with talkinghead.eval.listener (dlib tracking, independent of the generator)
and checked with benchmarks/listener_check.py's criteria: length, audio, identity, mouth
closed and not talking along, pose std, seeds differ, positive smiles more and nods at least as
often as negative. Also printed: nods per minute by attitude, the response ratio (head speed
after the speaker's pauses / during speech) and the generation time. Use speakers the shipped
model was not trained on (its card lists the held-out ones) and photos of real people.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # listener_check

from listener_check import attitude_criteria, seed_criterion, single_video_criteria  # noqa: E402

from talkinghead.info import machine_summary  # noqa: E402

RUNS = (("positive", 0), ("positive", 1), ("negative", 0))


def cut(video: Path, seconds: float, folder: Path) -> Path:
    """The first `seconds` of `video` (re-encoded, with its sound), or the video itself if shorter."""
    from talkinghead.io.audio import ffmpeg_exe
    from talkinghead.io.video import probe_video

    if probe_video(video).duration <= seconds + 0.1:
        return video
    out = folder / f"{video.stem}-{seconds:g}s.mp4"
    if not out.exists():
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(video), "-t", f"{seconds}", "-c:v", "libx264",
                        "-crf", "18", "-c:a", "aac", str(out)], check=True)  # fmt: skip
    return out


def make_videos(pipe, speaker: Path, face: Path, folder: Path, strength: float) -> tuple[dict, float, list]:
    """{(attitude, seed): video path} for RUNS, the mean generation seconds per video (the first
    also tracks the speaker) and the yaw/pitch/roll std (degrees) each motion asked the renderer for."""
    from talkinghead.pipelines.inputs import ListenerInputs

    paths, seconds, asked = {}, [], []
    for attitude, seed in RUNS:
        path = folder / f"{speaker.stem}__{face.stem}__{attitude}_s{seed}.mp4"
        started = time.perf_counter()
        result = pipe(ListenerInputs(str(face), str(speaker)), seed=seed, attitude=attitude, attitude_strength=strength)
        result.save(path)
        seconds.append(time.perf_counter() - started)
        paths[(attitude, seed)] = path
        asked.append(result.motion.rotation.std(axis=0).round(2).tolist())
    return paths, float(np.mean(seconds)), asked


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--speakers", nargs="+", required=True, help="real speaker videos with sound")
    p.add_argument("--faces", nargs="+", required=True, help="listener photos")
    p.add_argument("--out", default="listener_bench_out")
    p.add_argument("--seconds", type=float, default=20.0, help="speaker videos are cut to this length")
    p.add_argument("--attitude-strength", type=float, default=None, help="default: the pipeline's")
    p.add_argument("--checkpoint", default=None, help="MFR-Net weights (default: the shipped checkpoints/mfr)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    from talkinghead.api import load_pipeline
    from talkinghead.eval.listener import evaluate_listener
    from talkinghead.pipelines.mfr import MFROptions

    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    strength = args.attitude_strength if args.attitude_strength is not None else MFROptions().attitude_strength
    print(f"machine: {machine_summary()}\nsettings: {args.seconds:g} s per speaker, attitude strength {strength:g}, "
          f"runs {RUNS}, checkpoint {args.checkpoint or 'shipped'}")  # fmt: skip
    overrides = {"motion": {"checkpoint": args.checkpoint}} if args.checkpoint else None
    rows, failed = [], 0
    with load_pipeline("mfr", overrides=overrides) as pipe:
        for speaker in map(Path, args.speakers):
            speaker = cut(speaker, args.seconds, folder)
            for face in map(Path, args.faces):
                videos, seconds, asked = make_videos(pipe, speaker, face, folder, strength)
                reports = {key: evaluate_listener(str(v), str(face), str(speaker)) for key, v in videos.items()}
                main_report = reports[("positive", 0)]
                checks = single_video_criteria(main_report) + single_video_criteria(reports[("negative", 0)])[3:5]
                checks += [seed_criterion(main_report, reports[("positive", 1)])]
                checks += attitude_criteria(main_report, reports[("negative", 0)])
                failed += sum(not c.passed for c in checks)
                rows.append({"speaker": speaker.name, "face": face.name, "seconds_per_video": seconds, "asked_pose_std": asked,
                             "reports": {f"{a}_s{s}": r.summary() for (a, s), r in reports.items()},
                             "criteria": [c.__dict__ for c in checks]})  # fmt: skip
                print_row(rows[-1])
    print_totals(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if failed == 0 else 1


def print_row(row: dict) -> None:
    r = row["reports"]
    pos, neg = r["positive_s0"], r["negative_s0"]
    print(f"\n{row['speaker']} x {row['face']} ({row['seconds_per_video']:.1f} s per video; yaw/pitch/roll std asked "
          f"of the renderer {row['asked_pose_std']} deg)")  # fmt: skip
    print(f"  positive: nods/min {pos['nods_per_minute']:.1f}, smile {pos['smile_mean']:.3f}, response ratio "
          f"{_f(pos['response_ratio'])}; negative: nods/min {neg['nods_per_minute']:.1f}, smile {neg['smile_mean']:.3f}, "
          f"response ratio {_f(neg['response_ratio'])}")  # fmt: skip
    for c in row["criteria"]:
        print(f"  {'PASS' if c['passed'] else 'FAIL'}  {c['name']:15} {c['value']:36} target {c['target']}")


def print_totals(rows: list[dict]) -> None:
    checks = [c for row in rows for c in row["criteria"]]
    print(f"\n{sum(c['passed'] for c in checks)}/{len(checks)} criteria pass over {len(rows)} speaker x face pairs")
    by_name: dict[str, list[bool]] = {}
    for c in checks:
        by_name.setdefault(c["name"], []).append(c["passed"])
    print("  " + ", ".join(f"{name} {sum(v)}/{len(v)}" for name, v in by_name.items()))


def _f(value) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
