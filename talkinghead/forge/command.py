"""`talkinghead forge`: a labelled forgery dataset from folders of faces, speech and real videos.

    talkinghead forge --faces DIR --audio DIR [--real-videos DIR] --out DIR
                      [--pipelines osm,baseline] [--compression c23,c40] [--per-face N]
                      [--splits 0.7,0.15,0.15] [--seed S] [--workers N] [--ray-address ADDR]
                      [--frames-per-video K] [--max-size PX]
    talkinghead forge --check DIR        # verify a dataset folder

Run the same command again after a crash or a kill: it finishes what is missing and redoes
nothing finished. Exit status 0 when every job is made, 1 when some failed (listed in
DIR/errors.json), 2 when nothing could start.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys

from .config import CRF, ForgeConfig

EXIT_JOBS_FAILED = 1
DEFAULTS = ForgeConfig()


def add_parser(commands) -> None:
    help_text = "make a labelled forgery dataset (FaceForensics++ folders, AV-Deepfake1M metadata) on Ray"
    p = commands.add_parser("forge", help=help_text, description=help_text + "; rerun the same command to resume")
    p.add_argument("--faces", help="folder of face photos; a subfolder per person keeps their photos in one split")
    p.add_argument("--audio", help="folder of speech clips; a subfolder per speaker keeps their voice in one split")
    p.add_argument("--real-videos", help="folder of real talking videos with sound: each gives its originals and one fake per "
                                         "pipeline from its first frame and its own audio")  # fmt: skip
    p.add_argument("--out", help="the dataset folder")
    p.add_argument("--pipelines", default=",".join(DEFAULTS.pipelines), help="comma-separated pipelines (default: %(default)s)")
    p.add_argument("--compression", default=",".join(DEFAULTS.compressions),
                   help=f"comma-separated, of {', '.join(CRF)} (H.264 CRF 0/23/40; default: %(default)s)")  # fmt: skip
    p.add_argument("--per-face", type=int, default=None, help="speech clips per face, drawn with the seed (default: all)")
    p.add_argument("--splits", default=",".join(map(str, DEFAULTS.splits)), help="train,val,test shares of the identities (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed, help="decides splits, clips drawn and motion (default: %(default)s)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="Ray workers, one CPU each (default: one per core, %(default)s); 0 runs in this process without Ray")  # fmt: skip
    p.add_argument("--ray-address", default=None, help="join this Ray cluster (e.g. ray://head:10001 or auto) instead of starting one")
    p.add_argument("--frames-per-video", type=int, default=0, help="also extract K evenly spaced frames per video as PNG")
    p.add_argument("--max-size", type=int, default=DEFAULTS.max_size, help="longest side of every video in pixels (default: %(default)s)")
    p.add_argument("--dataset-name", default=DEFAULTS.dataset, help="name in deepfakebench.json and the card (default: %(default)s)")
    p.add_argument("--check", metavar="DIR", default=None, help="only verify the dataset folder DIR and list its problems")
    p.add_argument("--json", action="store_true", help="print the run's report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import json

    from ..errors import InputError
    from .config import parse_list, parse_splits
    from .runner import run_forge

    if args.check:
        return check(args.check)
    # Every photo is shrunk to --max-size by design: the per-image notices would drown the bar.
    logging.getLogger("talkinghead").setLevel(logging.ERROR)
    if not args.out:
        raise InputError("--out: give the dataset folder")
    config = ForgeConfig(pipelines=parse_list(args.pipelines, "--pipelines"), compressions=parse_list(args.compression, "--compression"),
                         per_face=args.per_face, splits=parse_splits(args.splits), seed=args.seed,
                         frames_per_video=args.frames_per_video, max_size=args.max_size, dataset=args.dataset_name)  # fmt: skip
    command = shlex.join(["talkinghead", *sys.argv[1:]]) if sys.argv[0].endswith("talkinghead") else ""
    report = run_forge(config, faces=args.faces, audio=args.audio, real_videos=args.real_videos, out=args.out,
                       workers=args.workers, ray_address=args.ray_address, progress=not args.no_progress, command=command)  # fmt: skip
    for failed in report.failures:
        print(f"talkinghead: {failed['job']} failed: {failed['message']}", file=sys.stderr)
    print(json.dumps(report.to_dict()) if args.json else report.line())
    return 0 if report.ok else EXIT_JOBS_FAILED


def check(folder: str) -> int:
    from .verify import check_dataset

    problems = check_dataset(folder)
    for problem in problems:
        print(f"talkinghead: {problem}", file=sys.stderr)
    print(f"forge check: {folder}: {len(problems)} problem(s)")
    return 0 if not problems else EXIT_JOBS_FAILED
