"""The reconstruction protocol for pose control: a real clip remade from its first frame, its own
audio and its own head pose, compared with the clip.

    python benchmarks/opt_reconstruction.py CLIP.mp4 [CLIP2.mp4 ...] [--out DIR] [--pose-gain Y P R]

Rows per clip, all compared with the real clip by the evaluator (dlib landmarks, aligned face
crops at 256 px: PSNR, SSIM, LMD over 68 points and the mouth's 20, at a 100 px eye-corner
face scale):
    still     the first frame held (the floor)
    replay    the clip's own tracked motion, mouth and eyes included, on its first frame
              (the warp renderer's ceiling: everything but the pixels is the clip's)
    baseline  the baseline pipeline: its own head motion, the content mouth
    opt       the opt pipeline: the clip's own pose (--pose-video CLIP --pose-anchor first-frame),
              the content mouth from the clip's audio
The same runs through `talkinghead bench` (a manifest row with only `reference: CLIP.mp4`, and
`--pipelines opt,baseline`) give the opt and baseline rows.
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
from talkinghead.eval.evaluate import evaluate_video  # noqa: E402
from talkinghead.eval.manifest import BenchInput, resolve  # noqa: E402
from talkinghead.face.tracking import track_video as track_face  # noqa: E402
from talkinghead.motion.tracked import analyse_track, tracked_motion  # noqa: E402
from talkinghead.pipelines.inputs import PoseControlInputs, TalkingHeadInputs  # noqa: E402
from talkinghead.pipelines.output import GenerationResult  # noqa: E402
from talkinghead.types import MotionSequence  # noqa: E402

FIGURES = ("psnr", "ssim", "lmd", "lmd_mouth", "identity_distance")


def scale_rows(pipe, image: str, clip: str, out: Path, name: str) -> dict[str, str]:
    """The still-frame and tracked-replay videos of one clip, made with `pipe`'s renderer."""
    source = pipe.load_source(image, pipe.parse_options({}))
    audio = pipe.load_audio(clip)
    replay = tracked_motion(analyse_track(track_face(clip)), pipe.face_model)
    frames = audio.num_frames(replay.fps)
    still = MotionSequence.rest(frames, replay.fps, replay.expression_names)
    videos = {}
    for row, motion in (("still", still), ("replay", replay.with_length(frames))):
        result = GenerationResult(source=source, audio=audio, motion=motion, renderer=pipe.renderer)
        videos[row] = str(result.save(out / f"{name}_{row}.mp4"))
    return videos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+")
    parser.add_argument("--out", default=None)
    parser.add_argument("--pose-gain", nargs=3, type=float, default=None, metavar=("YAW", "PITCH", "ROLL"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="opt_recon_"))
    out.mkdir(parents=True, exist_ok=True)
    overrides = {"motion": {"pose_gain": args.pose_gain}} if args.pose_gain else None
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}; "
          f"pose gain {args.pose_gain or 'default'}, seed {args.seed}, videos in {out}")  # fmt: skip
    table: dict[str, dict[str, list[float]]] = {}
    with load_pipeline("opt", overrides=overrides) as opt, load_pipeline("baseline") as baseline:
        for clip in args.clips:
            name = Path(clip).stem
            row = resolve(BenchInput(name, None, None, clip), out)
            videos = scale_rows(opt, row.image, clip, out, name)
            videos["baseline"] = str(baseline(TalkingHeadInputs(row.image, clip), seed=args.seed).save(out / f"{name}_baseline.mp4"))
            inputs = PoseControlInputs(row.image, clip, pose_video=clip)
            videos["opt"] = str(opt(inputs, seed=args.seed, pose_anchor="first-frame").save(out / f"{name}_opt.mp4"))
            for kind, video in videos.items():
                compare_to_clip(table, kind, name, video, row.image, clip)
    print("\nmean over clips (worst clip):")
    for kind, figures in table.items():
        worst = {k: (min(v) if k in ("psnr", "ssim") else max(v)) for k, v in figures.items()}
        print(f"  {kind:9s} " + "  ".join(f"{k} {np.mean(v):.2f} ({worst[k]:.2f})" for k, v in figures.items()))


def compare_to_clip(table: dict, kind: str, name: str, video: str, image: str, clip: str) -> None:
    """Evaluate `video` against the real `clip` (first frame `image`), print its row and add its
    figures to table[kind][figure]."""
    summary = evaluate_video(video, source=image, reference=clip, audio=clip).summary
    figures = {k: summary.get(k) for k in FIGURES}
    for k, v in figures.items():
        if v is not None:
            table.setdefault(kind, {}).setdefault(k, []).append(v)
    print(f"{name:24s} {kind:9s} " + "  ".join(f"{k} {_fmt(v)}" for k, v in figures.items()), flush=True)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
