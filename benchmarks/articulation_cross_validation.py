"""Leave-one-person-out cross-validation of the articulation table on real talking clips.

    python benchmarks/articulation_cross_validation.py ../shared/data/talking [--cache DIR] [--set anticipation_s=0.12 ...] [--no-v2] [--json OUT]

For every English person (clips of one person are held out together) the table is fitted on the
other people's English clips and predicts the held-out clips' mouth from their recognised
phones. Measured in landmark space on the tracked faces (no rendering): the inner-lip gap of
the predicted coefficients against the tracked inner-lip gap. Mouths compared:
  articulation  this model (the held-out person never seen)
  v2            articulation sized by audio2exp v2 (mel-stream gain), trained on the same people
  loudness      the old loudness mouth (BaselineMotion mouth "loudness": jaw opening * OPEN_UNIT)
  audio2exp     the audio2exp + loudness mouth (the default before the content mouth)
  real~loud     the tracked mouth against its own audio's loudness, for scale
Per clip: r0 Pearson r as predicted (the model's own offset, no per-clip correction), r_lag the
best r within +-0.2 s and that lag in frames (positive: the real mouth follows), std ratio
predicted / tracked, silent: mean predicted gap over silent frames (IOD; the tracked one in
brackets). Other languages and noise are predicted by the table fitted on all English clips.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from talkinghead.eval import metrics
from talkinghead.facemodel.geometric_basis import OPEN_UNIT
from talkinghead.facemodel.learned_basis import LearnedBasis
from talkinghead.info import machine_summary
from talkinghead.eval.metrics import std_ratio
from talkinghead.motion.articulation import ArticulationConfig, fit_articulation
from talkinghead.motion.baseline import BaselineMotion, BaselineMotionConfig
from talkinghead.motion.audio2exp_v2 import Audio2ExpV2Config
from talkinghead.train.audio2exp_recipe import MouthGeometry
from talkinghead.train.audio2exp_v2_recipe import Audio2ExpV2TrainConfig, clip_offset, fit_audio2exp_v2, gain_example, predicted_gap
from talkinghead.train.articulation_recipe import (
    OTHER_LANGUAGES_OR_NOISE,
    is_english_training_clip,
    mouth_names,
    person_of,
    phone_list,
    prepare_examples,
)
from talkinghead.train.videos import TalkingClip, load_talking_clips

MAX_LAG_S = 0.2
MOUTHS = ("articulation", "v2", "loudness", "audio2exp", "real~loud")


def parse_settings(pairs: list[str]) -> ArticulationConfig:
    cfg = ArticulationConfig()
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key.startswith("dominance."):
            cfg = replace(cfg, dominance={**cfg.dominance, key.split(".", 1)[1]: float(value)})
        else:
            current = getattr(cfg, key)
            cfg = replace(cfg, **{key: type(current)(value) if not isinstance(current, bool) else value.lower() in ("1", "true", "yes")})
    return cfg


def measure(predicted: np.ndarray, real: np.ndarray, silent: np.ndarray, fps: float) -> dict:
    n = min(len(predicted), len(real))
    p, r = predicted[:n], real[:n]
    r_lag, lag = metrics.lagged_correlation(p, r, int(round(MAX_LAG_S * fps)))
    return {
        "r0": metrics.pearson(p, r),
        "r_lag": r_lag,
        "lag": lag,
        "std_ratio": std_ratio(p, r),
        "silent": float(np.nanmean(p[silent[:n]])) if silent[:n].any() else float("nan"),
        "silent_real": float(np.nanmean(r[silent[:n]])) if silent[:n].any() else float("nan"),
    }


def reference_mouths(clip: TalkingClip, fps: float, num_frames: int, basis: LearnedBasis) -> dict[str, np.ndarray]:
    """(T,) lip gaps (IOD) of the loudness mouth and the audio2exp mouth, and the loudness."""
    loud_mouth = BaselineMotion(BaselineMotionConfig(mouth="loudness"))
    jaw, loudness = loud_mouth.jaw_opening(clip.audio, fps)
    targets, columns, _ = BaselineMotion(BaselineMotionConfig(mouth="audio2exp")).mouth_targets(clip.audio, fps, basis)
    out = {"loudness": jaw * OPEN_UNIT, "audio2exp": targets @ basis.gap_per_unit[columns], "real~loud": loudness}
    return {k: np.resize(v, num_frames) if len(v) < num_frames else v[:num_frames] for k, v in out.items()}


def fit_v2(train, model, by_name, geometry):
    """audio2exp v2 trained on the fold's training clips (each at its own offset)."""
    config = Audio2ExpV2Config()
    items = [gain_example(e, by_name[e.name].audio, model, config, clip_offset(e, model)) for e in train]
    v2, _ = fit_audio2exp_v2(items, geometry, config, Audio2ExpV2TrainConfig())
    return v2, config


def evaluate(examples, clips, basis, cfg, with_v2: bool = True) -> dict:
    names = mouth_names(basis)
    columns = [basis.index(n) for n in names]
    english = [e for e in examples if is_english_training_clip(e.name)]
    others = [e for e in examples if e.name in OTHER_LANGUAGES_OR_NOISE]
    by_name = {c.name: c for c in clips}
    folds = {}
    for person in sorted({person_of(e.name) for e in english}):
        train = [e for e in english if person_of(e.name) != person]
        folds[person] = ([e for e in english if person_of(e.name) == person], train)
    folds["(all English)"] = (others, english)
    rows = {}
    geometry = MouthGeometry.of(basis, names)
    for person, (held, train) in folds.items():
        model, _ = fit_articulation(train, phone_list(), names, basis.gap_per_unit[columns], basis.opening[columns], cfg)
        v2 = fit_v2(train, model, by_name, geometry) if with_v2 else None
        for e in held:
            clip = by_name[e.name]
            silent = metrics.silent_frames(clip.audio, e.fps, len(e.gaps))
            refs = reference_mouths(clip, e.fps, len(e.gaps), basis)
            predicted = model.lip_gap(model(e.segments, len(e.gaps), e.fps))
            rows[e.name] = {"person": person if person != "(all English)" else person_of(e.name), "other": e.name in OTHER_LANGUAGES_OR_NOISE,
                            "seconds": len(e.gaps) / e.fps, "model_offset": model.offset, "gain": model.info["gain"],
                            "articulation": measure(predicted, e.gaps, silent, e.fps)}
            if v2 is not None:
                item = gain_example(e, clip.audio, model, v2[1], model.offset)
                rows[e.name]["v2"] = measure(predicted_gap(v2[0], item, basis.gap_per_unit[columns]), e.gaps, silent, e.fps)
            for mouth, series in refs.items():
                rows[e.name][mouth] = measure(series, e.gaps, silent, e.fps)
    return rows


def nanmean(values) -> float:
    values = np.asarray(values, np.float64)
    return float(np.mean(values[np.isfinite(values)])) if np.isfinite(values).any() else float("nan")


def print_table(rows: dict) -> None:
    head = f"{'clip':26} {'person':18} {'s':>4}"
    mouths = [m for m in MOUTHS if m in next(iter(rows.values()))]
    for mouth in mouths:
        head += f" | {mouth:>12} r0  r_lag lag  std"
    print(head)
    for name, row in rows.items():
        line = f"{name:26} {row['person']:18} {row['seconds']:4.0f}"
        for mouth in mouths:
            m = row[mouth]
            std = f"{m['std_ratio']:4.2f}" if mouth != "real~loud" else "   -"  # loudness has no IOD scale
            line += f" | {'':>12}{m['r0']:5.2f} {m['r_lag']:5.2f} {m['lag']:+3d} {std}"
        print(line)
    for label, other in (("English, per held-out person", False), ("other languages / noise", True)):
        chosen = [r for r in rows.values() if r["other"] == other]
        if not chosen:
            continue
        print(f"\nmean over {label} ({len({r['person'] for r in chosen})} people, {len(chosen)} clips; clips of a person averaged first):")
        for mouth in mouths:
            per_person = {}
            for r in chosen:
                per_person.setdefault(r["person"], []).append(r[mouth])
            avg = {k: nanmean([np.nanmean([m[k] for m in ms]) for ms in per_person.values()]) for k in ("r0", "r_lag", "std_ratio", "silent", "silent_real")}
            worst = min(np.mean([m["r0"] for m in ms]) for ms in per_person.values())
            scale = f"  std ratio {avg['std_ratio']:.2f}  silent gap {avg['silent']:.3f} (real {avg['silent_real']:.3f})" if mouth != "real~loud" else ""
            print(f"  {mouth:12} r0 {avg['r0']:.2f} (worst person {worst:.2f})  r_lag {avg['r_lag']:.2f}{scale}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos")
    parser.add_argument("--cache", default=None, help="face-track cache (default VIDEOS/.talkinghead-cache)")
    parser.add_argument("--phone-cache", default=None, help="recognised-phone cache (default: the track cache)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="ArticulationConfig overrides (dominance.CLASS=...)")
    parser.add_argument("--no-v2", action="store_true", help="skip audio2exp v2 (a few seconds per fold)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    started = time.time()
    cfg = parse_settings(args.set)
    clips = [c for c in load_talking_clips(args.videos, args.cache) if c.audio is not None]
    basis = LearnedBasis()
    cache = args.phone_cache or args.cache or str(Path(args.videos) / ".talkinghead-cache")
    examples = prepare_examples(clips, basis, cache)
    rows = evaluate(examples, clips, basis, cfg, with_v2=not args.no_v2)
    print(f"machine: {machine_summary()}")
    print(f"settings: {cfg}")
    print_table(rows)
    print(f"\n({time.time() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_summary(), "settings": str(cfg), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
