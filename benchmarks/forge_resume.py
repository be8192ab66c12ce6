"""`talkinghead forge` killed and resumed, and its throughput on Ray against a plain loop (issue 15).

    python benchmarks/forge_resume.py [--faces F1 F2 F3] [--speech S1 S2] [--real R1 R2]
                                      [--seconds 6] [--kill-after 45] [--workers 2] [--max-size 512]

The job of the issue: 3 faces x 2 speech clips + 2 real clips, pipelines osm and baseline,
compressions c23 and c40. Five runs of the command line, each in a fresh folder:
  1. a plain loop in one process (--workers 0), timed;
  2. Ray with --workers N, timed (the speed-up over run 1), and Ray with --workers 1 (Ray's own
     cost: the same serial work as run 1, through the cluster);
  3. Ray again, with one worker process SIGKILLed a third of the way in: Ray restarts it and
     retries its job, and the run must still finish with every entry;
  4. Ray again, SIGKILLed after --kill-after seconds (and again a third of the way through run 2), then the same command rerun: every
     expected entry must be present once, every file decode to its stated frame count, every
     fake have a non-empty mask and visual fake segments, c40 be smaller than c23, the splits
     be disjoint by identity, no job finished before the kill be redone, no partial file left.
Speech clips are cut to --seconds. The defaults are the real clips in ../shared/data (faces
s0-s2, two speakers, vox_beckham and vox_farah). Prints the machine and the settings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.forge.config import ForgeConfig  # noqa: E402
from talkinghead.forge.layout import video_file  # noqa: E402
from talkinghead.forge.plan import make_plan  # noqa: E402
from talkinghead.forge.sources import AUDIO_SUFFIXES, FACE_SUFFIXES, scan  # noqa: E402
from talkinghead.io.video import INPUT_VIDEO_SUFFIXES  # noqa: E402
from talkinghead.forge.verify import check_dataset  # noqa: E402
from talkinghead.info import machine_summary  # noqa: E402
from talkinghead.io.audio import load_audio, write_wav  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
PIPELINES, COMPRESSIONS = ("osm", "baseline"), ("c23", "c40")


def inputs(args: argparse.Namespace, folder: Path) -> Path:
    """faces/, audio/ (cut to --seconds) and real/ under `folder`."""
    for name in ("faces", "audio", "real"):
        (folder / name).mkdir(parents=True)
    for face in args.faces:
        shutil.copy(face, folder / "faces" / Path(face).name)
    for speech in args.speech:
        clip = load_audio(speech)
        write_wav(folder / "audio" / f"{Path(speech).stem}.wav", type(clip)(clip.samples[: int(args.seconds * clip.sample_rate)], clip.sample_rate))
    for real in args.real:
        shutil.copy(real, folder / "real" / Path(real).name)
    return folder


def command(data: Path, out: Path, workers: int, max_size: int) -> list[str]:
    return [sys.executable, "-m", "talkinghead", "forge", "--faces", str(data / "faces"), "--audio", str(data / "audio"),
            "--real-videos", str(data / "real"), "--out", str(out), "--pipelines", ",".join(PIPELINES),
            "--compression", ",".join(COMPRESSIONS), "--workers", str(workers), "--max-size", str(max_size), "--no-progress"]  # fmt: skip


def timed_run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def records(out: Path) -> dict[str, int]:
    """Finished job -> its record's modification time."""
    folder = out / ".forge" / "jobs"
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*.json")} if folder.is_dir() else {}


def expected_files(data: Path, max_size: int) -> set[str]:
    config = ForgeConfig(pipelines=PIPELINES, compressions=COMPRESSIONS, max_size=max_size)
    plan = make_plan(config, scan(data / "faces", FACE_SUFFIXES, "face"), scan(data / "audio", AUDIO_SUFFIXES, "speech"),
                     scan(data / "real", INPUT_VIDEO_SUFFIXES, "real video"))  # fmt: skip
    return {video_file(job, c) for job in plan.jobs for c in COMPRESSIONS}


def killed_and_resumed(data: Path, out: Path, args: argparse.Namespace, kill_after: float) -> dict:
    cmd = command(data, out, args.workers, args.max_size)
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(3)  # Ray's actors notice their driver is gone
    before = records(out)
    partial_after_kill = len(list(out.rglob(".*.partial*")))
    resume = timed_run(cmd)
    after = records(out)
    entries = json.loads((out / "metadata.json").read_text())
    files = [e["file"] for e in entries]
    return {
        "finished_before_kill": len(before),
        "partial_files_after_kill": partial_after_kill,
        "redone_after_kill": sorted(k for k, t in before.items() if after.get(k) != t),
        "resume_seconds": round(resume, 1),
        "entries": len(entries),
        "expected_present_once": sorted(files) == sorted(expected_files(data, args.max_size)),
        "problems": check_dataset(out),
        "jobs": len(after),
    }


def lost_worker(data: Path, out: Path, args: argparse.Namespace, kill_after: float) -> dict:
    """SIGKILL one Ray actor mid-run: Ray restarts it and retries its job; the run must finish."""
    start = time.perf_counter()
    process = subprocess.Popen(command(data, out, args.workers, args.max_size), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    workers = subprocess.run(["pgrep", "-f", "ray::ForgeWorker"], capture_output=True, text=True).stdout.split()
    if workers:
        subprocess.run(["kill", "-9", workers[0]])
    code = process.wait()
    entries = json.loads((out / "metadata.json").read_text())
    return {"killed_worker": bool(workers), "exit_status": code, "seconds": round(time.perf_counter() - start, 1),
            "failed": json.loads((out / "errors.json").read_text()), "expected_present_once":
            sorted(e["file"] for e in entries) == sorted(expected_files(data, args.max_size)), "problems": check_dataset(out)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", nargs=3, default=[str(SHARED / "faces" / f"face_s{i}.jpg") for i in range(3)])
    parser.add_argument("--speech", nargs=2, default=[str(SHARED / "audio" / "speech_jane.wav"), str(SHARED / "audio" / "speech_walden.wav")])
    parser.add_argument("--real", nargs=2, default=[str(SHARED / "talking" / "vox_beckham.mp4"), str(SHARED / "talking" / "vox_farah.mp4")])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--kill-after", type=float, default=45.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-size", type=int, default=512)
    args = parser.parse_args()
    print(machine_summary())
    print(f"settings: {PIPELINES} x {COMPRESSIONS}, speech cut to {args.seconds} s, --max-size {args.max_size}, "
          f"{args.workers} Ray workers, SIGKILL after {args.kill_after} s")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data = inputs(args, Path(tmp) / "in")
        jobs = len(expected_files(data, args.max_size)) // len(COMPRESSIONS)
        loop = timed_run(command(data, Path(tmp) / "loop", 0, args.max_size))
        ray = timed_run(command(data, Path(tmp) / "ray", args.workers, args.max_size))
        ray_one = timed_run(command(data, Path(tmp) / "ray1", 1, args.max_size))
        print(f"jobs: {jobs} (each one render, encoded at {len(COMPRESSIONS)} compressions + a lossless mask)")
        videos = jobs * len(COMPRESSIONS)
        print(f"plain loop (--workers 0): {loop:.1f} s, {jobs * 3600 / loop:.0f} jobs/hour ({videos * 3600 / loop:.0f} video files/hour)")
        print(f"ray --workers {args.workers}: {ray:.1f} s, {jobs * 3600 / ray:.0f} jobs/hour; per core: {jobs * 3600 / ray / args.workers:.0f} "
              f"jobs/hour, {videos * 3600 / ray / args.workers:.0f} video files/hour; speed-up {loop / ray:.2f}x over the loop")  # fmt: skip
        print(f"ray --workers 1: {ray_one:.1f} s: Ray's own cost against the loop doing the same serial work is "
              f"{ray_one - loop:+.1f} s ({(ray_one - loop) / jobs:+.2f} s per job; cluster and actor start-up, task round trips)")
        print("one Ray worker process SIGKILLed a third of the way in: " + json.dumps(lost_worker(data, Path(tmp) / "lost", args, ray / 3), indent=1))
        for kill_after in dict.fromkeys([args.kill_after, round(ray / 3)]):  # the kill, and one a third of the way in
            report = killed_and_resumed(data, Path(tmp) / f"killed{kill_after}", args, kill_after)
            print(f"SIGKILL after {kill_after} s, then the same command: " + json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
