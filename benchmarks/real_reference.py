"""Measure real talking videos and write the reference figures every bench table shows.

    python benchmarks/real_reference.py FOLDER [--out talkinghead/eval/reference_real.json]

Each clip is evaluated like a generated video, with its own first frame as the source photo
and its own audio track (see talkinghead/eval/reference.py). Writes numbers only.
Needs the eval extra: pip install -e ".[eval]" && pip install --no-deps silero-vad==6.2.3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

from talkinghead.errors import TalkingHeadError
from talkinghead.eval.reference import REFERENCE_FILE, measure_real_videos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="folder of real talking-head videos with their audio")
    parser.add_argument("--out", default=str(REFERENCE_FILE), help="where to write the JSON")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        figures = measure_real_videos(args.folder, log=lambda line: print(line, file=sys.stderr, flush=True))
    except TalkingHeadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    figures["settings"]["machine"] = f"{platform.platform()}, python {platform.python_version()}, {os.cpu_count()} CPUs"
    figures["settings"]["command"] = "python benchmarks/real_reference.py " + os.path.basename(os.path.normpath(args.folder))
    with open(args.out, "w") as handle:
        json.dump(figures, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(f"wrote {args.out} ({len(figures['clips'])} clips, {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
