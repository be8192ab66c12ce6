"""Recipe: train audio2exp v2 (the mel-stream gain of the content mouth) on real talking clips.

For every English clip of a person not held out: the tracked mouth (targets, as for the
articulation table), the articulation model's shapes from the clip's recognised phones and the
clip's mel stream, both at the clip's own audio-video offset (estimated here against the
articulation's openness, reported per clip). Each member network learns a per-frame log-gain
of the shapes; the loss is the audio2exp recipe's landmark-space loss (mouth landmarks, lip
gap, velocity). Then one scale is set so that the predicted lip gap varies as much as the
tracked one (median over the training clips). CPU here: about a minute per member.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import InputError
from ..eval.metrics import pearson, std_ratio
from ..facemodel.learned_basis import LearnedBasis
from ..io.audio import audio_from_array
from ..motion.articulation import Articulation, ArticulationExample, estimate_offset, shapes_at_offset
from ..motion.audio2exp_v2 import Audio2ExpV2, Audio2ExpV2Config, GainNet, delayed, mel_stream
from .articulation_recipe import kept_cross_validation, mouth_names, person_of, prepare_examples, select
from .audio2exp_recipe import Audio2ExpTrainConfig, MouthGeometry, losses
from .videos import TalkingClip

log = logging.getLogger("talkinghead")


@dataclass(frozen=True)
class Audio2ExpV2TrainConfig:
    steps: int = 400
    batch_size: int = 16
    segment_frames: int = 75
    learning_rate: float = 2e-3
    weight_decay: float = 0.05
    seed: int = 0
    device: str = "cpu"


@dataclass
class GainExample:
    """One clip: streams (T, n_mels) mel stream, shapes (T, K) articulation, targets (T, K)
    tracked coefficients, gaps (T,) tracked lip gap (IOD); offset: the clip's audio-video
    offset (seconds) both are shifted by."""

    name: str
    streams: torch.Tensor
    shapes: torch.Tensor
    targets: torch.Tensor
    gaps: np.ndarray
    offset: float


def clip_offset(example: ArticulationExample, articulation: Articulation) -> float:
    """The clip's audio-video offset (seconds) against the articulation's openness per phone."""
    per_phone_gap = articulation.table @ articulation.gap_per_unit
    offset, _ = estimate_offset(example, articulation.phones, per_phone_gap, articulation.config)
    return offset


def gain_example(example: ArticulationExample, audio, articulation: Articulation, config: Audio2ExpV2Config, offset: float) -> GainExample:
    """Inputs and targets of one clip at `offset` (the clip's own for training, the model's
    median for held-out measurement)."""
    if audio.sample_rate != config.mel.sample_rate:
        audio = audio_from_array(audio.samples, audio.sample_rate, config.mel.sample_rate)
    frames = len(example.gaps)
    shapes = shapes_at_offset(articulation, example, offset)
    streams = delayed(mel_stream(audio, example.fps, frames, config.mel), int(round(offset * example.fps)))
    return GainExample(
        example.name,
        torch.from_numpy(streams),
        torch.from_numpy(shapes.astype(np.float32)),
        torch.from_numpy(np.asarray(example.coefficients, np.float32)),
        np.asarray(example.gaps, np.float64),
        offset,
    )


def sample_batch(examples: list[GainExample], cfg: Audio2ExpV2TrainConfig, rng) -> tuple[torch.Tensor, ...]:
    """(B, L, n_mels) streams, (B, L, K) shapes and (B, L, K) targets of random segments,
    clips weighted by length."""
    lengths = np.array([len(e.targets) for e in examples], np.float64)
    picks = rng.choice(len(examples), size=cfg.batch_size, p=lengths / lengths.sum())
    length = int(min(cfg.segment_frames, *(len(examples[i].targets) for i in picks)))
    parts = []
    for i in picks:
        e = examples[i]
        start = int(rng.integers(0, len(e.targets) - length + 1))
        parts.append((e.streams[start : start + length], e.shapes[start : start + length], e.targets[start : start + length]))
    return tuple(torch.stack(p) for p in zip(*parts))


def fit_member(net: GainNet, train: list[GainExample], geometry: MouthGeometry, cfg: Audio2ExpV2TrainConfig) -> list[dict]:
    """Train one GainNet in place; returns the loss history."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed + 1)
    loss_settings = Audio2ExpTrainConfig()  # the landmark/gap/velocity weights of audio2exp
    optimiser = torch.optim.AdamW(net.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    net.train()
    history = []
    for step in range(1, cfg.steps + 1):
        streams, shapes, targets = (t.to(cfg.device) for t in sample_batch(train, cfg, rng))
        parts = losses(shapes * torch.exp(net(streams))[..., None], targets, geometry, loss_settings)
        optimiser.zero_grad()
        parts["total"].backward()
        optimiser.step()
        if step % 100 == 0 or step == cfg.steps:
            history.append({"step": step, **{k: round(v.item(), 5) for k, v in parts.items()}})
    net.eval()
    return history


def predicted_gap(model: Audio2ExpV2, example: GainExample, gap_per_unit: np.ndarray) -> np.ndarray:
    """(T,) lip gap of the refined shapes of an example (its streams as prepared)."""
    with torch.no_grad():
        gains = torch.exp(model(example.streams[None].to(model.log_scale.device))[0]).cpu().numpy()
    return (example.shapes.numpy() * gains[:, None]) @ gap_per_unit


def fit_audio2exp_v2(train: list[GainExample], geometry: MouthGeometry, config: Audio2ExpV2Config, cfg: Audio2ExpV2TrainConfig) -> tuple[Audio2ExpV2, list[dict]]:
    """Train every member (member k with seed cfg.seed + k) and calibrate the spread."""
    if not train:
        raise InputError("training audio2exp v2 needs at least one tracked clip with audio")
    torch.manual_seed(cfg.seed)
    model = Audio2ExpV2(config).to(cfg.device)
    history = []
    for k, member in enumerate(model.members):
        history += [{"member": k, **h} for h in fit_member(member, train, geometry, replace(cfg, seed=cfg.seed + k))]
    model.eval()
    gap_per_unit = geometry.gap.cpu().numpy().astype(np.float64)
    ratios = [std_ratio(predicted_gap(model, e, gap_per_unit), e.gaps) for e in train]
    ratios = [x for x in ratios if np.isfinite(x) and x > 0]
    if ratios:
        model.log_scale.fill_(-float(np.log(np.median(ratios))))
    return model, history


def train_audio2exp_v2(
    clips: list[TalkingClip],
    basis: LearnedBasis,
    articulation: Articulation,
    cfg: Audio2ExpV2TrainConfig | None = None,
    config: Audio2ExpV2Config | None = None,
    hold_out: Sequence[str] = (),
    phone_cache=None,
) -> tuple[Audio2ExpV2, dict]:
    """Train on the English clips of every person not held out; returns the model (on the CPU)
    and a report: each clip's offset, the held-out clips' lip-gap r and std ratio with and
    without the gain, the loss history."""
    cfg = cfg or Audio2ExpV2TrainConfig()
    config = config or Audio2ExpV2Config()
    started = time.time()
    examples = prepare_examples(clips, basis, phone_cache)
    train, held = select(examples, hold_out)
    seen = {person_of(n) for n in articulation.info.get("train_clips", [])}
    leaked = sorted(seen & {person_of(e.name) for e in held})
    if leaked:
        raise InputError(f"the articulation table was fitted on held-out people {leaked}; fit it with the same --hold-out first")
    audio = {c.name: c.audio for c in clips}
    offsets = {e.name: clip_offset(e, articulation) for e in train}
    train_items = [gain_example(e, audio[e.name], articulation, config, offsets[e.name]) for e in train]
    names = mouth_names(basis)
    geometry = MouthGeometry.of(basis, names).to(cfg.device)
    model, history = fit_audio2exp_v2(train_items, geometry, config, cfg)
    model = model.cpu()
    gap_per_unit = geometry.gap.cpu().numpy().astype(np.float64)
    held_out = {}
    for e in held:
        item = gain_example(e, audio[e.name], articulation, config, articulation.offset)
        refined, alone = predicted_gap(model, item, gap_per_unit), item.shapes.numpy() @ gap_per_unit
        held_out[e.name] = {"r": pearson(refined, e.gaps), "r_articulation": pearson(alone, e.gaps),
                            "std_ratio": std_ratio(refined, e.gaps), "std_ratio_articulation": std_ratio(alone, e.gaps)}
    report = {
        "offsets": {k: round(v, 4) for k, v in offsets.items()},
        "log_scale": float(model.log_scale),
        "train_clips": [e.name for e in train],
        "held_out": held_out,
        "history": history,
        "train_config": asdict(cfg),
        "seconds": time.time() - started,
    }
    return model, report


def audio2exp_v2_card(report: dict, videos: str, articulation: str, existing: str | Path | None = None) -> str:
    """CARD.md text for a trained model: data, command, offsets, held-out figures; the
    cross-validation section of an existing card is kept."""
    people = sorted({person_of(n) for n in report["train_clips"]})
    held = report["held_out"]
    rows = "\n".join(
        f"| {k} | {v['r']:.2f} | {v['r_articulation']:.2f} | {v['std_ratio']:.2f} | {v['std_ratio_articulation']:.2f} |" for k, v in sorted(held.items())
    )
    table = f"| held-out clip | r (v2) | r (articulation alone) | std ratio (v2) | std ratio (alone) |\n|---|---|---|---|---|\n{rows}" if held else "No clips held out."
    offsets = ", ".join(f"{k} {v:+.2f} s" for k, v in sorted(report["offsets"].items()))
    return f"""# audio2exp v2 (mel-stream gain of the content mouth)

- Data: {len(report['train_clips'])} English talking clips with their own voices from `{videos}`,
  {len(people)} people: {', '.join(report['train_clips'])}.
- Command: `{report.get('command', 'talkinghead train audio2exp-v2')}` ({report.get('total_seconds', report['seconds']):.0f} s on
  {report.get('machine', '')}); articulation table: `{articulation}`.
- What it is: a per-frame log-gain of the articulation shapes from the
  clip-standardised log-mel (80 bands, +-0.56 s of context), the mean of the member networks,
  loss in landmark space (mouth landmarks, lip gap, velocity); scale exp({report['log_scale']:+.3f})
  so the lip gap's spread matches the tracked speakers'.
- Audio-video offset per training clip (against the articulation's openness; positive = the
  mouth follows the sound), applied to both inputs while training: {offsets}.
- Held out (tracked lip gap, no rendering; `--hold-out`):

{table}

Cross-validation over every person: `python benchmarks/articulation_cross_validation.py` (see
checkpoints/articulation/CARD.md).
{kept_cross_validation(existing)}"""
