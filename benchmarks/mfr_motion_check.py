"""MFR-Net's sampled motion against the listeners it learned from, on held-out speakers.

    python benchmarks/mfr_motion_check.py --videos ../shared/data/talking --hold-out news_anchor_de studio_man_a hdtf_markey \\
        [--cache DIR] [--checkpoint DIR] [--seeds 0 1 2] [--attitude-strength 1.5]

For each held-out speaker clip and attitude, listeners are constructed by the corpus rules
(train/listener_corpus.py, seeds as given) and sampled from the model (same seeds); both are
measured at the motion level, before any rendering: pitch and yaw std (degrees), nods per
minute (talkinghead.eval.listener.detect_nods on the pitch curve), the smile coefficient (the
corpus' smile direction, projected), and the share of head motion after the speaker's pauses
(response ratio). A model that learned the rules gives figures near the corpus'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.info import machine_summary  # noqa: E402


def measures(motion: np.ndarray, speaker, smile_direction: np.ndarray, fps: float) -> dict:
    from talkinghead.eval.listener import detect_nods, response_timing

    pose = motion[:, :3]
    expression = motion[:, 3 : 3 + len(smile_direction)]
    smile = expression @ smile_direction / float(smile_direction @ smile_direction)
    voiced = speaker.column("voiced") > 0.5
    timing = response_timing(pose, voiced, fps)
    return {"yaw_std": float(pose[:, 0].std()), "pitch_std": float(pose[:, 1].std()),
            "nods_per_min": detect_nods(pose[:, 1], fps).per_minute, "smile": float(smile.mean()),
            "response_ratio": timing.ratio}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--videos", required=True)
    p.add_argument("--hold-out", nargs="+", required=True)
    p.add_argument("--cache", default=None)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--attitude-strength", type=float, default=None)
    args = p.parse_args(argv)

    from talkinghead.facemodel.face_model import FaceModel
    from talkinghead.motion.feature_aggregation import ATTITUDES
    from talkinghead.motion.mfr import MFRNet
    from talkinghead.pipelines.mfr import MFROptions
    from talkinghead.train.articulation_recipe import person_of
    from talkinghead.train.listener_corpus import ListenerCorpusConfig, build_corpus, expression_directions
    from talkinghead.train.mfr_recipe import monologue_speakers
    from talkinghead.train.videos import load_talking_clips

    strength = args.attitude_strength if args.attitude_strength is not None else MFROptions().attitude_strength
    face_model = FaceModel()
    net = MFRNet.load(args.checkpoint)
    clips = load_talking_clips(args.videos, args.cache)
    speakers, tracks = monologue_speakers(clips, face_model, net.config.fps, args.cache or str(Path(args.videos) / ".talkinghead-cache"))
    held = {person_of(n) for n in args.hold_out}
    print(f"machine: {machine_summary()}\nsettings: seeds {args.seeds}, attitude strength {strength:g}, checkpoint {args.checkpoint or 'shipped'}")
    print(f"{'speaker':16s} {'attitude':9s} {'source':7s} {'yaw std':>8s} {'pitch std':>9s} {'nods/min':>8s} {'smile':>6s} {'response':>8s}")
    totals: dict[tuple[str, str], list[dict]] = {}
    for name in sorted(n for n in speakers if person_of(n) in held):
        for seed in args.seeds:
            corpus = build_corpus({name: speakers[name]}, tracks, face_model, person_of, ListenerCorpusConfig(per_clip=1), seed=seed)
            for example in corpus:
                track = tracks[min(tracks)]
                smile_direction = expression_directions(face_model, track.neutral, track.layout.name).smile
                attitude = ATTITUDES[example.attitude]
                sampled = net.sample(example.speaker.values, example.identity, example.attitude, seed=seed, guidance=strength)
                for source, motion in (("corpus", example.motion), ("model", sampled)):
                    totals.setdefault((attitude, source), []).append(measures(motion, example.speaker, smile_direction, net.config.fps))
    for (attitude, source), rows in sorted(totals.items()):
        mean = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
        print(f"{'(all held out)':16s} {attitude:9s} {source:7s} {mean['yaw_std']:8.2f} {mean['pitch_std']:9.2f} "
              f"{mean['nods_per_min']:8.1f} {mean['smile']:6.2f} {mean['response_ratio']:8.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
