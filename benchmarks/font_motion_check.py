"""The FONT motion check: `--pipeline font` on real portraits with real speech, read back by the
evaluation suite (dlib pose proxies, ArcFace-style identity distance).

    python benchmarks/font_motion_check.py --images FACE.jpg [FACE.jpg ...] --speech SPEECH.wav
        [--seconds 12] [--renderer font] [--pipeline font] [--variation-gain G] [--pose-gain Y P R]

Per portrait: seed 0, seed 1 and seed 0 again. Prints yaw / pitch / roll std and identity
distance of each video, the pose RMSE between seeds 0 and 1 (dlib-read, each curve's mean
removed) and whether the two seed-0 videos decode to byte-identical frames; each next to its
target: yaw std 1-15, pitch 1-12, roll 0.3-6 deg, identity <= 0.45, seeds >= 1.5 deg RMSE.
Then the machine and the settings.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np

TARGETS = {"yaw_std": (1, 15), "pitch_std": (1, 12), "roll_std": (0.3, 6), "identity": (0, 0.45)}


def trimmed_speech(speech: str, seconds: float, folder: Path) -> str:
    """The first `seconds` of the speech as a 16 kHz wav in `folder`."""
    from talkinghead.io.audio import load_audio
    from scipy.io import wavfile

    clip = load_audio(speech)
    out = folder / f"speech_{seconds:g}s.wav"
    wavfile.write(out, clip.sample_rate, clip.samples[: int(seconds * clip.sample_rate)].astype(np.float32))
    return str(out)


def frames_digest(video: Path) -> str:
    """SHA-1 of the decoded RGB frames of a video (what a viewer sees, not the container)."""
    import imageio_ffmpeg

    digest = hashlib.sha1()
    reader = imageio_ffmpeg.read_frames(str(video))
    next(reader)  # the metadata
    for frame in reader:
        digest.update(frame)
    return digest.hexdigest()


def measure(pipeline, image: str, speech: str, seed: int, video: Path) -> tuple[dict, np.ndarray]:
    from talkinghead.eval.evaluate import evaluate_video

    pipeline.generate(image, speech, seed=seed).save(video)
    ev = evaluate_video(str(video), source=image)
    s = ev.summary
    figures = {f"{a}_std": s["pose_std"][a] for a in ("yaw", "pitch", "roll")}
    figures["identity"] = s["identity_distance"]
    return figures, ev.series.poses


def verdict(value: float, low: float, high: float) -> str:
    return "ok" if low <= value <= high else "MISSED"


def check_one(pipeline, image: str, speech: str, folder: Path) -> None:
    from talkinghead.eval.metrics import pose_distances

    stem = Path(image).stem
    videos = [folder / f"{stem}_{name}.mp4" for name in ("s0", "s1", "s0_again")]
    runs = [measure(pipeline, image, speech, seed, v) for seed, v in zip((0, 1, 0), videos)]
    print(f"{Path(image).name}:")
    for name, (figures, _) in zip(("seed 0", "seed 1", "seed 0 again"), runs):
        print(f"  {name:>12} " + " ".join(f"{k} {figures[k]:6.2f} {verdict(figures[k], *TARGETS[k]):<6}" for k in TARGETS))
    rmse = pose_distances([runs[0][1], runs[1][1]])[0]
    print(f"  seeds 0 and 1: pose RMSE {rmse:.2f} deg ({verdict(rmse, 1.5, np.inf)}, target >= 1.5)")
    same = frames_digest(videos[0]) == frames_digest(videos[2])
    print(f"  seed 0 twice: frames byte-identical: {same} ({'ok' if same else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="+", required=True)
    parser.add_argument("--speech", required=True)
    parser.add_argument("--seconds", type=float, default=12.0, help="speech used, from its start")
    parser.add_argument("--renderer", default=None, help="default: the pipeline's")
    parser.add_argument("--variation-gain", type=float, default=None, help="font's motion.variation_gain (default: the config's)")
    parser.add_argument("--pose-gain", type=float, nargs=3, default=None, help="font's motion.pose_gain (default: the config's)")
    parser.add_argument("--pipeline", default="font")
    parser.add_argument("--keep", default=None, help="folder to keep the videos in")
    args = parser.parse_args()

    import torch

    import talkinghead
    from talkinghead.info import machine_summary

    started = time.time()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(args.keep or temp)
        folder.mkdir(parents=True, exist_ok=True)
        speech = trimmed_speech(args.speech, args.seconds, folder)
        overrides = {"renderer": args.renderer} if args.renderer else {}
        motion = {"variation_gain": args.variation_gain, "pose_gain": args.pose_gain}
        if any(v is not None for v in motion.values()):
            overrides["motion"] = {k: v for k, v in motion.items() if v is not None}
        with talkinghead.load_pipeline(args.pipeline, overrides=overrides) as pipeline:
            settings = f"renderer {pipeline.config.renderer}, variation gain {getattr(pipeline.config.motion, 'variation_gain', '-')}, pose gain {getattr(pipeline.config.motion, 'pose_gain', '-')}"
            for image in args.images:
                check_one(pipeline, image, speech, folder)
    print(f"({args.pipeline}, {settings}, {Path(args.speech).name} first {args.seconds:g} s, "
          f"{time.time() - started:.0f} s, {machine_summary()}, torch threads {torch.get_num_threads()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")


if __name__ == "__main__":
    main()
