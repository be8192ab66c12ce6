"""OSM-Net's sampled head motion, measured on the motion itself (no rendering).

    python benchmarks/osm_motion.py SPEECH.wav [SPEECH.wav ...] [--seeds 0 1 2 3 4] [--diversity 1]

Per speech clip, over the seeds: yaw/pitch/roll std (deg), mean change per frame (deg), the
RMSE between the pose curves of different seeds and of the same seed run twice, and the mean
change per frame while speaking vs in pauses (voice activity from loudness; eval.metrics.speed_by_voice), next to the same
figures of the baseline pipeline's head motion. The renderer shows these angles; the evaluator
(dlib) reads them on the video (see checkpoints/osm/CARD.md).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from talkinghead.audio.loudness import loudness_features
from talkinghead.eval.metrics import speed_by_voice
from talkinghead.info import machine_summary
from talkinghead.io.audio import load_audio
from talkinghead.motion.baseline import BaselineMotionConfig
from talkinghead.motion.head import head_motion
from talkinghead.motion.osm import OSMNet
from talkinghead.pipelines.osm import OSMMotionConfig

FPS = 25.0


def baseline_pose(clip, seed: int) -> np.ndarray:
    loud = loudness_features(clip, FPS).column("loudness")
    rotation, _ = head_motion(np.random.default_rng(seed), len(loud), FPS, loud, BaselineMotionConfig().head)
    return rotation


def osm_pose(net: OSMNet, clip, seed: int, diversity: float) -> np.ndarray:
    rotation, _ = net.sample(clip, FPS, seed=seed, diversity=diversity)
    return rotation * np.asarray(OSMMotionConfig().pose_gain, np.float32)


def figures(poses: list[np.ndarray], again: np.ndarray, voiced: np.ndarray) -> dict[str, object]:
    by_voice = np.array([speed_by_voice(p, voiced) for p in poses])  # (seeds, 2)
    return {
        "std": np.mean([p.std(axis=0) for p in poses], axis=0),
        "speed": float(np.mean([np.abs(np.diff(p, axis=0)).mean() for p in poses])),
        "seed_rmse": min(float(np.sqrt(np.mean((a - b) ** 2))) for a, b in itertools.combinations(poses, 2)),
        "same_seed_rmse": float(np.sqrt(np.mean((poses[0] - again) ** 2))),
        "speech_speed": float(by_voice[:, 0].mean()),
        "pause_speed": float(by_voice[:, 1].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("speech", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--diversity", type=float, default=1.0)
    args = parser.parse_args()
    net = OSMNet.load()
    print(f"{'speech':24} {'pipeline':9} {'yaw/pitch/roll std':>20} {'deg/frame':>9} {'min seed RMSE':>13} {'same seed':>9} {'speech/pause deg/frame':>22}")
    for path in args.speech:
        clip = load_audio(path)
        voiced = loudness_features(clip, FPS).column("voiced") > 0
        rows = {
            "osm": figures([osm_pose(net, clip, s, args.diversity) for s in args.seeds], osm_pose(net, clip, args.seeds[0], args.diversity), voiced),
            "baseline": figures([baseline_pose(clip, s) for s in args.seeds], baseline_pose(clip, args.seeds[0]), voiced),
        }
        for name, f in rows.items():
            std = "/".join(f"{x:.1f}" for x in f["std"])
            print(f"{Path(path).stem[:24]:24} {name:9} {std:>20} {f['speed']:9.2f} {f['seed_rmse']:13.2f} {f['same_seed_rmse']:9.2f} {f['speech_speed']:11.2f} / {f['pause_speed']:.2f}")
    print(f"({machine_summary()}, {FPS:g} fps, seeds {args.seeds}, diversity {args.diversity:g})")


if __name__ == "__main__":
    main()
