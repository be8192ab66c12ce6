"""The OSM-Net acceptance check on one real portrait and one real speech clip.

    python benchmarks/osm_acceptance.py PORTRAIT.jpg SPEECH.wav [--seeds 0 1 2] [--pipeline osm]

Makes a video per seed (and the first seed a second time), reads each back with the evaluation
suite (dlib) and prints, per video, yaw / pitch / roll std, the mean change per frame and the
identity distance to the photo, then the pose RMSE between every two seeds and between the two
runs of the same seed, each next to its target:
    yaw std 1-15, pitch std 1-12, roll std 0.3-6 deg, change 0.2-2.5 deg/frame, identity <= 0.45,
    seeds differ pairwise by >= 1.5 deg RMSE, the same seed twice by <= 0.5 deg.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

import talkinghead
from talkinghead.eval.evaluate import evaluate_video
from talkinghead.eval.metrics import pose_distances
from talkinghead.info import machine_summary

TARGETS = {"yaw_std": (1, 15), "pitch_std": (1, 12), "roll_std": (0.3, 6), "speed": (0.2, 2.5), "identity": (0, 0.45)}


def measure(image: str, speech: str, pipeline: str, seed: int, folder: Path) -> tuple[dict, np.ndarray]:
    """(figures, (T, 3) yaw, pitch, roll in degrees as dlib reads them) of one generated video."""
    video = folder / f"{pipeline}_s{seed}_{len(list(folder.iterdir()))}.mp4"
    talkinghead.generate(image, speech, pipeline=pipeline, seed=seed).save(video)
    ev = evaluate_video(str(video), source=image)
    s = ev.summary
    figures = {f"{a}_std": s["pose_std"][a] for a in ("yaw", "pitch", "roll")}
    figures["speed"] = s["pose_speed"]["mean"] / s["fps"]
    figures["identity"] = s["identity_distance"]
    return figures, ev.series.poses


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    """Pose RMSE in degrees, each curve's mean removed (the rest pose is the photo's)."""
    return pose_distances([a, b])[0]


def verdict(value: float, low: float, high: float) -> str:
    return "ok" if low <= value <= high else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image")
    parser.add_argument("speech")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pipeline", default="osm")
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        runs = {seed: measure(args.image, args.speech, args.pipeline, seed, folder) for seed in args.seeds}
        _, again = measure(args.image, args.speech, args.pipeline, args.seeds[0], folder)
    print(f"{'seed':>4} " + " ".join(f"{k:>12}" for k in TARGETS))
    for seed, (figures, _) in runs.items():
        print(f"{seed:>4} " + " ".join(f"{figures[k]:8.2f} {verdict(figures[k], *TARGETS[k]):>3}" for k in TARGETS))
    for a, b in itertools.combinations(args.seeds, 2):
        value = rmse(runs[a][1], runs[b][1])
        print(f"seeds {a} and {b}: pose RMSE {value:.2f} deg ({verdict(value, 1.5, np.inf)}, target >= 1.5)")
    value = rmse(runs[args.seeds[0]][1], again)
    print(f"seed {args.seeds[0]} twice: pose RMSE {value:.2f} deg ({verdict(value, 0, 0.5)}, target <= 0.5)")
    print(f"({args.pipeline}, {Path(args.image).name} + {Path(args.speech).name}, {time.time() - started:.0f} s, {machine_summary()})")


if __name__ == "__main__":
    main()
