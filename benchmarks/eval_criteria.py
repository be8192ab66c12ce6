"""Check `talkinghead eval` on real clips: the clip against itself, and a still video of its
first frame (with the clip's audio) against the clip.

    python benchmarks/eval_criteria.py CLIP.mp4 [CLIP2.mp4 ...]

For each clip it saves the first frame, writes the still video next to it in a temporary
folder, runs the evaluation of both against the clip with the first frame as --source, and
prints PSNR, SSIM, LMD, identity distance and the wall time of each evaluation. The targets:
itself PSNR >= 40, LMD <= 1 px, identity distance <= 0.45; the still video LMD >= 5 px.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from talkinghead.eval.evaluate import evaluate_video
from talkinghead.info import machine_summary
from talkinghead.io.audio import load_audio
from talkinghead.io.image import save_image
from talkinghead.io.video import probe_video, read_video, write_video
from talkinghead.types import RenderedChunk

KEYS = ("psnr", "ssim", "lmd", "lmd_mouth", "lmd_native_px", "identity_distance", "sync_r", "blinks_per_min")


def still_video(clip: str, folder: Path) -> tuple[str, str]:
    """(first frame png, video of that frame for the clip's length with its audio)."""
    info = probe_video(clip)
    first = next(iter(read_video(clip)))
    image = folder / "first_frame.png"
    save_image(image, first)
    frames = np.broadcast_to(first, (info.num_frames, *first.shape))
    chunks = (RenderedChunk(np.ascontiguousarray(frames[i : i + 50]), np.zeros((len(frames[i : i + 50]), *first.shape[:2]), np.uint8), i)
              for i in range(0, info.num_frames, 50))  # fmt: skip
    video = folder / "still.mp4"
    write_video(video, chunks, fps=info.fps, audio=load_audio(clip) if info.has_audio else None)
    return str(image), str(video)


def check(clip: str) -> dict:
    with tempfile.TemporaryDirectory() as temp:
        image, still = still_video(clip, Path(temp))
        report = {"clip": clip}
        for name, video in (("itself", clip), ("still", still)):
            start = time.perf_counter()
            summary = evaluate_video(video, source=image, reference=clip).summary
            report[name] = {key: summary[key] for key in KEYS} | {"wall_s": time.perf_counter() - start}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+", help="real talking-head videos with audio")
    print(f"# {machine_summary()}", flush=True)
    for clip in parser.parse_args(argv).clips:
        print(json.dumps(check(clip)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
