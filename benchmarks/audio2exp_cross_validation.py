"""Leave-one-clip-out cross-validation of the audio-to-expression recipe.

    python benchmarks/audio2exp_cross_validation.py VIDEOS_DIR [--cache DIR] [--steps N]

For every clip with audio, the recipe (Audio2ExpTrainConfig defaults) is trained on all the
other clips and measured on the held-out one: Pearson r between the tracked (MediaPipe) inner-lip
gap and the lip gap opened by
  model        the calibrated model alone
  model*loud   the model's gap scaled by the loudness envelope (0 in silence .. 1 loud)
  baseline     what the baseline pipeline uses (its gap is the loudness mouth's; the model
               gives the mouth's shape)
  loudness     the loudness heuristic (the jaw opening of the `loudness` mouth)
and the real mouth's own r with the loudness (how tightly the clip's mouth follows its audio).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from talkinghead.eval.metrics import pearson
from talkinghead.info import machine_summary
from talkinghead.motion.audio2exp import Audio2ExpConfig
from talkinghead.motion.baseline import BaselineMotion
from talkinghead.facemodel.geometric_basis import OPEN_UNIT
from talkinghead.facemodel.learned_basis import LearnedBasis
from talkinghead.train.audio2exp_recipe import Audio2ExpTrainConfig, MouthGeometry, fit_audio2exp, prepare_examples
from talkinghead.train.videos import load_talking_clips


def held_out_figures(model, example, basis: LearnedBasis, per_unit: torch.Tensor) -> dict[str, float]:
    motion = BaselineMotion()
    motion._audio2exp = model  # measure this fold's model through the pipeline's own code path
    targets, _, loudness = motion.mouth_targets(example.audio, example.fps, basis)
    n = min(len(targets), len(example.gaps))
    real = example.gaps[:n]
    raw = model.predict(example.audio, example.fps)[:n] @ per_unit.numpy()
    jaw, _ = motion.jaw_opening(example.audio, example.fps)
    return {
        "model": pearson(raw, real),
        "model*loud": pearson(raw * motion.mouth_envelope(loudness)[:n], real),
        "baseline": pearson(targets[:n] @ per_unit.numpy(), real),
        "loudness": pearson(jaw[:n] * OPEN_UNIT, real),
        "real_vs_loudness": pearson(loudness[:n], real),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--members", type=int, default=None, help="networks per ensemble (default: Audio2ExpConfig's)")
    args = parser.parse_args()
    started = time.time()
    cfg = Audio2ExpTrainConfig(**({"steps": args.steps} if args.steps else {}))
    basis = LearnedBasis()
    names = tuple(n for n in basis.names if n.startswith(cfg.region))
    model_config = Audio2ExpConfig(expression_names=names, **({"members": args.members} if args.members else {}))
    examples = prepare_examples(load_talking_clips(args.videos, args.cache), basis, names, model_config.mel, cfg)
    geometry = MouthGeometry.of(basis, names)
    rows = {}
    for held in examples:
        model, _ = fit_audio2exp([e for e in examples if e is not held], geometry, model_config, cfg)
        rows[held.name] = held_out_figures(model.cpu(), held, basis, geometry.gap)
    columns = ("model", "model*loud", "baseline", "loudness", "real_vs_loudness")
    print(f"{'held-out clip':14}" + "".join(f"{c:>18}" for c in columns))
    for name, row in rows.items():
        print(f"{name:14}" + "".join(f"{row[c]:18.2f}" for c in columns))
    print(f"{'mean':14}" + "".join(f"{np.mean([r[c] for r in rows.values()]):18.2f}" for c in columns))
    print(f"({time.time() - started:.0f} s, {machine_summary()}, {cfg.steps} steps, {model_config.members} networks per fold)")


if __name__ == "__main__":
    main()
