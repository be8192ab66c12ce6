"""Replay of real clips through the renderers: each clip's own tracked motion (pose, mouth,
eyes) on its first frame, rendered by `--renderer warp` and `--renderer font`, compared with the
real clip by the evaluator (dlib landmarks; aligned 256 px face crops: PSNR, SSIM, LMD;
identity distance to the first frame).

    python benchmarks/font_replay.py CLIP.mp4 [CLIP2.mp4 ...] [--renderers warp font]
        [--checkpoint DIR] [--out DIR]

Use clips of people the renderer was not trained on (its card lists them).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.api import load_pipeline  # noqa: E402
from talkinghead.eval.manifest import BenchInput, resolve  # noqa: E402
from talkinghead.face.tracking import track_video  # noqa: E402
from talkinghead.motion.tracked import analyse_track, tracked_motion  # noqa: E402
from talkinghead.pipelines.output import GenerationResult  # noqa: E402

from benchmarks.opt_reconstruction import compare_to_clip  # noqa: E402

def replay(renderer: str, image: str, clip: str, out: Path, checkpoint: str | None) -> str:
    """The clip's tracked motion on `image`, rendered by `renderer`; the video's path."""
    overrides = {"renderer": renderer, **({"renderer_config": {"checkpoint": checkpoint}} if checkpoint and renderer == "font" else {})}
    with load_pipeline("baseline", overrides=overrides) as pipe:
        source = pipe.load_source(image, pipe.parse_options({}))
        audio = pipe.load_audio(clip)
        motion = tracked_motion(analyse_track(track_video(clip)), pipe.face_model)
        frames = audio.num_frames(motion.fps)
        result = GenerationResult(source=source, audio=audio, motion=motion.with_length(frames), renderer=pipe.renderer)
        return str(result.save(out / f"{Path(clip).stem}_{renderer}.mp4"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+")
    parser.add_argument("--renderers", nargs="+", default=["warp", "font"])
    parser.add_argument("--checkpoint", default=None, help="FONT renderer weights (default: the shipped ones)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="font_replay_"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}; "
          f"renderers {' '.join(args.renderers)}, checkpoint {args.checkpoint or 'shipped'}, videos in {out}")  # fmt: skip
    table: dict[str, dict[str, list[float]]] = {}
    for clip in args.clips:
        name = Path(clip).stem
        row = resolve(BenchInput(name, None, None, clip), out)
        for renderer in args.renderers:
            compare_to_clip(table, renderer, name, replay(renderer, row.image, clip, out, args.checkpoint), row.image, clip)
    print("\nmean over clips:")
    for renderer, figures in table.items():
        print(f"  {renderer:5s} " + "  ".join(f"{k} {np.mean(v):.3f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
