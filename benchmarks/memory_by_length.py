"""Peak memory of the full CLI generate against the length of the speech (GitHub issue 13).

    python benchmarks/memory_by_length.py [--image IMG] [--speech WAV] [--hour] [--mouth MOUTH]
                                          [--pipeline osm] [--lengths 10 60 600]

The speech is looped to each length (10 s, 1 min, 10 min; with --hour also 1 hour) and
`python -m talkinghead generate --image IMG --audio AUDIO --out OUT` runs on it in its own
process, measured with /usr/bin/time -v where it exists (else the rusage of that one child,
from os.wait4). Peak memory should not depend on the length beyond the audio samples
themselves (16 kHz float32: 3.8 MB a minute, held a few times over). Prints the machine and
the settings with the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.info import machine_summary  # noqa: E402
from talkinghead.io.audio import load_audio, write_wav  # noqa: E402
from talkinghead.io.image import load_image  # noqa: E402
from talkinghead.types import AudioClip  # noqa: E402

TIME = Path("/usr/bin/time")


def looped_speech(speech: Path, seconds: float, out: Path) -> Path:
    """Write `speech` repeated (and cut) to `seconds` as 16 kHz WAV at `out`."""
    clip = load_audio(speech, 16000)
    samples = np.resize(clip.samples, int(round(seconds * clip.sample_rate)))  # tiles the clip
    write_wav(out, AudioClip(samples, clip.sample_rate))
    return out


def peak_rss(command: list[str]) -> tuple[float, float, int, str]:
    """Run `command` in its own process: (peak RSS in MB, wall seconds, exit code, stderr tail)."""
    start = time.perf_counter()
    if TIME.exists():
        done = subprocess.run([str(TIME), "-v", *command], capture_output=True, text=True)
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        kb = int(found.group(1)) if found else 0
        own = done.stderr.split("\tCommand being timed")[0]  # the command's own messages, not time's report
        return kb / 1024, time.perf_counter() - start, done.returncode, own[-600:]
    # Without GNU time: the rusage of this one child (RUSAGE_CHILDREN would mix earlier runs in).
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024, time.perf_counter() - start, os.waitstatus_to_exitcode(status), err[-600:]


def label(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=ROOT / "demos" / "astronaut.png")
    parser.add_argument("--speech", type=Path, default=ROOT / "demos" / "speech.wav")
    parser.add_argument("--lengths", type=float, nargs="+", default=[10.0, 60.0, 600.0], help="seconds of speech")
    parser.add_argument("--hour", action="store_true", help="also 1 hour of speech")
    parser.add_argument("--pipeline", default="osm")
    parser.add_argument("--mouth", default=None, help="--mouth for generate (default: the pipeline's)")
    args = parser.parse_args()
    lengths = args.lengths + ([3600.0] if args.hour else [])
    height, width = load_image(args.image).shape[:2]
    print(f"machine: {machine_summary()}")
    print(f"settings: pipeline {args.pipeline}, mouth {args.mouth or 'default'}, image {args.image.name} {width}x{height} px, "
          f"speech {args.speech.name} looped, 25 fps, measured with {'/usr/bin/time -v' if TIME.exists() else 'os.wait4 rusage'}")  # fmt: skip
    print(f"{'speech':>8} {'peak RSS MB':>12} {'wall s':>8}  exit")
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in lengths:
            audio = looped_speech(args.speech, seconds, Path(tmp) / f"speech_{int(seconds)}.wav")
            command = [sys.executable, "-m", "talkinghead", "generate", "--pipeline", args.pipeline, "--image", str(args.image),
                       "--audio", str(audio), "--out", str(Path(tmp) / "out.mp4"), "--seed", "0", "--no-progress"]  # fmt: skip
            if args.mouth:
                command += ["--mouth", args.mouth]
            mb, wall, code, err = peak_rss(command)
            print(f"{label(seconds):>8} {mb:12.0f} {wall:8.1f}  {code}", flush=True)
            if code != 0:
                print(err, file=sys.stderr)


if __name__ == "__main__":
    main()
