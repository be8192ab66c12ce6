"""Recipe: FONT's keypoint predictor (a residual on the content mouth) from talking videos.

For every English clip: the tracked mouth coefficients (targets, 0 = the clip's closed-mouth
neutral), the content mouth of its audio (recognised phones -> the shipped articulation table),
its tracked head pose and, as the source's keypoints, the mouth coefficients of a random frame of
the clip. Whole people are held out; on them the report gives the lip-gap correlation and the
coefficient L1 of the prediction and of the content mouth alone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import torch

from ..facemodel.learned_basis import LearnedBasis
from ..motion.articulation import Articulation
from ..motion.font_keypoints import FontKeypoints, FontKeypointsConfig
from .articulation_recipe import person_of, prepare_examples, select
from .font_pose_recipe import HELD_OUT_PEOPLE
from .osm_recipe import clip_pose
from .videos import TalkingClip

log = logging.getLogger("talkinghead")


@dataclass(frozen=True)
class FontKeypointsTrainConfig:
    steps: int = 600
    batch_size: int = 8
    segment_frames: int = 100
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    hold_out: tuple[str, ...] = HELD_OUT_PEOPLE
    seed: int = 0
    device: str = "cpu"


@dataclass
class KeypointExample:
    """content, target (T, K) absolute mouth coefficients; pose (T, 5); gaps (T,) tracked lip gap (IOD)."""

    name: str
    content: np.ndarray
    target: np.ndarray
    pose: np.ndarray
    gaps: np.ndarray


def keypoint_examples(clips: list[TalkingClip], basis: LearnedBasis, articulation: Articulation, phone_cache=None,
                      hold_out: Sequence[str] = ()) -> tuple[list[KeypointExample], list[KeypointExample]]:  # fmt: skip
    """(training, held-out) examples; the articulation's coefficients in its own order."""
    train, held = select(prepare_examples(clips, basis, phone_cache), hold_out)
    by_name = {c.name: c for c in clips}
    names = articulation.expression_names

    def one(e) -> KeypointExample:
        from .articulation_recipe import mouth_names

        order = [mouth_names(basis).index(n) for n in names]
        t = len(e.coefficients)
        pose = clip_pose(by_name[e.name], e.fps)
        pose = np.pad(pose[:t], ((0, max(0, t - len(pose))), (0, 0)), mode="edge")
        return KeypointExample(e.name, articulation(e.segments, t, e.fps).astype(np.float32),
                               e.coefficients[:, order].astype(np.float32), pose.astype(np.float32), e.gaps)  # fmt: skip

    return [one(e) for e in train], [one(e) for e in held]


def sample_batch(examples: list[KeypointExample], cfg: FontKeypointsTrainConfig, rng) -> tuple[torch.Tensor, ...]:
    """(B, S, K) content, (B, S, 5) pose, (B, K) source, (B, S, K) target of random segments."""
    s = cfg.segment_frames
    rows = []
    for i in rng.integers(len(examples), size=cfg.batch_size):
        e = examples[i]
        start = int(rng.integers(0, max(1, len(e.target) - s)))
        cut = slice(start, start + s)
        source = e.target[int(rng.integers(len(e.target)))]
        rows.append((e.content[cut], e.pose[cut] - e.pose[cut].mean(0), source, e.target[cut]))
    length = min(len(r[0]) for r in rows)
    return tuple(torch.tensor(np.stack([r[j][:length] if j != 2 else r[j] for r in rows])) for j in range(4))


RESIDUAL_SCALES = (0.0, 0.25, 0.5, 1.0)


def fit(examples: list[KeypointExample], config: FontKeypointsConfig, cfg: FontKeypointsTrainConfig) -> tuple[FontKeypoints, list[dict]]:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = FontKeypoints(config).to(cfg.device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    history = []
    for n in range(1, cfg.steps + 1):
        content, pose, source, target = (t.to(cfg.device) for t in sample_batch(examples, cfg, rng))
        loss = (model(content, pose, source) - target).abs().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if n % 100 == 0 or n == cfg.steps:
            history.append({"step": n, "l1": round(loss.item(), 5), "l1_content": round((content - target).abs().mean().item(), 5)})
            log.info("step %d loss %.4f", n, loss.item())
    return model.cpu().eval(), history


def pick_residual_scale(train: list[KeypointExample], config: FontKeypointsConfig, cfg: FontKeypointsTrainConfig,
                        gap_per_unit: np.ndarray) -> tuple[float, dict]:  # fmt: skip
    """Fit without every 4th training person and return the RESIDUAL_SCALES entry with the best
    mean lip-gap r on them (ties: the smaller), and the r of each scale."""
    people = sorted({person_of(e.name) for e in train})
    inner = set(people[::4])
    model, _ = fit([e for e in train if person_of(e.name) not in inner], config, cfg)
    scores = {}
    for scale in RESIDUAL_SCALES:
        model.set_residual_scale(scale)
        scores[scale] = float(np.mean([validation(model, e, gap_per_unit)["r"] for e in train if person_of(e.name) in inner]))
    best = max(RESIDUAL_SCALES, key=lambda s: (round(scores[s], 3), -s))
    return best, {"inner_people": sorted(inner), "r_by_scale": {str(k): v for k, v in scores.items()}}


def train_font_keypoints(clips: list[TalkingClip], cfg: FontKeypointsTrainConfig, basis: LearnedBasis | None = None,
                         articulation: Articulation | None = None, phone_cache=None) -> tuple[FontKeypoints, dict]:  # fmt: skip
    started = time.time()
    basis, articulation = basis or LearnedBasis(), articulation or Articulation.load()
    train, held = keypoint_examples(clips, basis, articulation, phone_cache, cfg.hold_out)
    pose_scale = tuple(float(v) for v in np.concatenate([e.pose for e in train]).std(0))
    config = FontKeypointsConfig(expression_names=tuple(articulation.expression_names), pose_scale=pose_scale)
    gap_per_unit = np.asarray(articulation.gap_per_unit, np.float64)
    scale, selection = pick_residual_scale(train, config, cfg, gap_per_unit)
    model, history = fit(train, config, cfg)
    model.set_residual_scale(scale)
    report = {
        "train_clips": [e.name for e in train],
        "held_out_clips": [e.name for e in held],
        "residual_scale": scale,
        "residual_scale_selection": selection,
        "held_out": {e.name: validation(model, e, gap_per_unit) for e in held},
        "held_out_full_residual": {},
        "history": history,
        "train_config": asdict(cfg),
        "seconds": time.time() - started,
    }
    model.set_residual_scale(1.0)
    report["held_out_full_residual"] = {e.name: validation(model, e, gap_per_unit) for e in held}
    model.set_residual_scale(scale)
    return model, report


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0


def validation(model: FontKeypoints, e: KeypointExample, gap_per_unit: np.ndarray) -> dict[str, float]:
    """Lip-gap r against the tracked gap and coefficient L1 against the tracked coefficients,
    for the prediction and for the content mouth alone; the source is the clip's first frame."""
    predicted = model.predict(e.content, e.pose[:, :3], e.pose[:, 3:], e.target[0])
    return {
        "r": pearson(predicted @ gap_per_unit, e.gaps),
        "r_content": pearson(e.content @ gap_per_unit, e.gaps),
        "l1": float(np.abs(predicted - e.target).mean()),
        "l1_content": float(np.abs(e.content - e.target).mean()),
    }


def font_keypoints_card(report: dict, videos: str) -> str:
    held = report["held_out"]
    rows = "\n".join(f"| {n} | {r['r']:.3f} | {r['r_content']:.3f} | {r['l1']:.4f} | {r['l1_content']:.4f} |" for n, r in held.items())
    mean = lambda k: np.mean([r[k] for r in held.values()]) if held else float("nan")  # noqa: E731
    cfg = report["train_config"]
    return f"""# font_keypoints: FONT's keypoint predictor

- **What**: `talkinghead.motion.font_keypoints.FontKeypoints`, a small temporal convolution
  network that adds a bounded residual (tanh, at most 0.5 per coefficient) to the content mouth's
  mouth coefficients of the learned expression basis (the renderer's keypoints), from the content
  mouth itself, the head pose (yaw, pitch, roll, x, y; in the `font` pipeline the font_pose CVAE's)
  and the source's own mouth coefficients. The last layer starts at zero: untrained = the content mouth.
- **Data**: the English clips of `{videos}`, {len(report['train_clips'])} for training:
  {', '.join(report['train_clips'])}. **Held out whole** (people): {', '.join(cfg['hold_out'])}
  -> clips {', '.join(report['held_out_clips'])}. Targets: tracked mouth coefficients (MediaPipe
  tracker, 0 = each clip's closed-mouth neutral); content mouth: recognised phones (cached) ->
  the shipped `checkpoints/articulation` table. Note: that table was fitted on every English clip,
  the held-out people included, so the content mouth figures below are if anything optimistic;
  both columns share it.
- **Loss**: L1 to the tracked coefficients; {cfg['steps']} AdamW steps, batches of
  {cfg['batch_size']} segments of {cfg['segment_frames']} frames, seed {cfg['seed']}.
- **Command**: `{report.get('command', '')}`
  ({report.get('total_seconds', 0):.0f} s on {report.get('machine', '')}, OMP_NUM_THREADS=1).

## Held-out people (`training_report.json`)

| clip | lip-gap r, font_keypoints | content mouth alone | coefficient L1 | content alone |
| --- | --- | --- | --- | --- |
{rows}
| mean | {mean('r'):.3f} | {mean('r_content'):.3f} | {mean('l1'):.4f} | {mean('l1_content'):.4f} |

Residual share applied: **{report['residual_scale']:g}**, picked from {list(RESIDUAL_SCALES)} by the
lip-gap r on training people left out of a first fit ({', '.join(report['residual_scale_selection']['inner_people'])}):
{', '.join(f"{k}: {v:.3f}" for k, v in report['residual_scale_selection']['r_by_scale'].items())}.
With the full residual the held-out mean lip-gap r would be
{np.mean([r['r'] for r in report['held_out_full_residual'].values()]) if held else float('nan'):.3f}.
"""
