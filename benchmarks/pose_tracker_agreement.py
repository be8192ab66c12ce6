"""How far the opt pipeline's reading of a pose video agrees with the evaluator's, on real clips.

    python benchmarks/pose_tracker_agreement.py CLIP.mp4 [CLIP2.mp4 ...]

opt reads a pose video's head with FaceMesh (motion.tracked.analyse_track); the evaluator reads
videos with dlib's 68 points and a generic 3-D face (eval.metrics.head_pose). Neither is ground
truth, but they are independent, so where they agree the pose is likely right, and their
agreement on a real clip bounds how well any output can be seen to follow it. Per clip and axis
this prints the Pearson r between the evaluator and each of opt's rotation fits
(TrackAnalysisConfig.rotation_fit, read as upright angles like the evaluator's), and each
reading's standard deviation in degrees.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.eval.metrics import pearson  # noqa: E402
from talkinghead.eval.tracking import track_video as evaluator_track  # noqa: E402
from talkinghead.face.tracking import track_video as facemesh_track  # noqa: E402
from talkinghead.face.rotation import upright_angles  # noqa: E402
from talkinghead.motion.tracked import TrackAnalysisConfig, analyse_track  # noqa: E402
from talkinghead.pipelines.opt import OPTMotionConfig  # noqa: E402

AXES = ("yaw", "pitch", "roll")
FITS = ("similarity", "perspective")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    tracker = OPTMotionConfig().tracker
    table = {fit: [] for fit in FITS}
    for clip in args.clips:
        evaluator = evaluator_track(clip, embeddings=0).poses
        track = facemesh_track(clip, tracker)
        parts = [Path(clip).stem]
        for fit in FITS:
            tracked = analyse_track(track, TrackAnalysisConfig(rotation_fit=fit))
            rotation = upright_angles(torch.from_numpy(tracked.rotation)).numpy()  # as opt reads a pose video
            n = min(len(rotation), len(evaluator))
            rs = [pearson(evaluator[:n, k], rotation[:n, k]) for k in range(3)]
            table[fit].append(rs)
            stds = "/".join(f"{np.std(rotation[:, k]):.1f}" for k in range(3))
            parts.append(f"{fit}: r " + "/".join(f"{r:.2f}" for r in rs) + f" (std {stds})")
        evaluator_std = "/".join(f"{np.nanstd(evaluator[:, k]):.1f}" for k in range(3))
        print("  ".join(parts) + f"  evaluator std {evaluator_std} deg", flush=True)
    for fit, rows in table.items():
        means = np.mean(rows, axis=0)
        print(f"{fit}: mean r over {len(rows)} clips yaw/pitch/roll " + "/".join(f"{m:.3f}" for m in means)
              + f", all axes {means.mean():.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
