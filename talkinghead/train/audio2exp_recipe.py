"""Recipe: train the audio-to-expression model on a folder of talking videos.

Targets are the learned basis' mouth coefficients of each tracked frame (absolute: relative to
the clip's closed-mouth neutral). Whole clips are held out for validation. Training sees random
two-second segments; half of them get background noise at 5-40 dB SNR, so the model keeps
working on noisy recordings. The loss is taken in landmark space, where the renderer acts: the
squared error of the mouth landmarks the coefficients decode to (the basis components differ in
size by 90x, so an error in the coefficients themselves would weigh the tiny components as much
as the jaw), the error of the inner-lip gap (what viewers and lip-sync measures notice most),
and of the landmarks' frame-to-frame velocity (no jitter).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from ..audio.mel import MelConfig, audio_windows
from ..errors import InputError
from ..eval.metrics import pearson
from ..motion.audio2exp import Audio2Exp, Audio2ExpConfig
from ..facemodel.learned_basis import LearnedBasis
from ..motion.tracked import analyse_track, tracked_mouth
from ..types import AudioClip
from .videos import TalkingClip

log = logging.getLogger("talkinghead")


@dataclass(frozen=True)
class Audio2ExpTrainConfig:
    steps: int = 300
    batch_size: int = 16
    segment_frames: int = 50
    learning_rate: float = 2e-3
    weight_decay: float = 0.1
    gap_weight: float = 4.0
    velocity_weight: float = 1.0
    noise_variants: int = 1
    """Noisy copies of each training clip's features, besides the clean one."""
    noise_snr_db: tuple[float, float] = (5.0, 40.0)
    val_clips: int = 2
    """Number of whole clips held out (every len/val_clips-th clip by name)."""
    val_names: tuple[str, ...] = ()
    """Hold out exactly these clips (file names without suffix) instead."""
    region: str = "mouth"
    """Predict the basis coefficients whose names start with this."""
    seed: int = 0
    device: str = "cpu"


@dataclass
class ClipExamples:
    """Training material from one clip. windows: list of (T, W, n_mels) variants (clean first);
    targets: (T, E) coefficients; gaps: (T,) tracked inner-lip gap change, canonical units."""

    name: str
    audio: AudioClip
    fps: float
    windows: list[torch.Tensor]
    targets: torch.Tensor
    gaps: np.ndarray


def clip_examples(clip: TalkingClip, basis: LearnedBasis, names: tuple[str, ...], mel: MelConfig, rng, variants: int, snr) -> ClipExamples:
    tracked = analyse_track(clip.track)
    coefficients, gaps = tracked_mouth(tracked, basis, names)
    variants_audio = [clip.audio] + [with_noise(clip.audio, rng, snr) for _ in range(variants)]
    windows = [audio_windows(a, tracked.fps, mel) for a in variants_audio]
    t = min(len(windows[0]), len(coefficients))
    targets = torch.from_numpy(coefficients[:t].astype(np.float32))  # project() gives float32
    return ClipExamples(clip.name, clip.audio, tracked.fps, [w[:t] for w in windows], targets, gaps[:t])


def with_noise(clip: AudioClip, rng: np.random.Generator, snr_db: tuple[float, float]) -> AudioClip:
    """The clip with pink-ish background noise at a random SNR in `snr_db` (relative to the
    clip's mean power)."""
    white = rng.standard_normal(len(clip.samples))
    pink = np.cumsum(white) * 0.02
    pink -= np.convolve(pink, np.ones(801) / 801, mode="same")  # remove the random walk's drift
    noise = 0.5 * white / white.std() + 0.5 * pink / max(pink.std(), 1e-9)
    power = float(np.mean(clip.samples.astype(np.float64) ** 2))
    snr = rng.uniform(*snr_db)
    noise *= np.sqrt(power / 10 ** (snr / 10) / np.mean(noise**2))
    return AudioClip((clip.samples + noise).astype(np.float32), clip.sample_rate, None)


def split_examples(examples: list[ClipExamples], cfg: "Audio2ExpTrainConfig") -> tuple[list[ClipExamples], list[ClipExamples]]:
    """(train, validation) of examples with a `.name`, one per clip: the clips named in
    cfg.val_names, or else every len/val_clips-th clip by name, are held out whole."""
    ordered = sorted(examples, key=lambda e: e.name)
    if cfg.val_names:
        held = {i for i, e in enumerate(ordered) if e.name in cfg.val_names}
        missing = set(cfg.val_names) - {e.name for e in ordered}
        if missing:
            raise InputError(f"validation clips {sorted(missing)} are not among the clips with audio")
    else:
        if len(ordered) < cfg.val_clips + 1:
            raise InputError(f"need at least {cfg.val_clips + 1} readable talking videos with audio, found {len(ordered)}")
        step = len(ordered) / cfg.val_clips if cfg.val_clips else 0
        held = {int(step * i + step / 2) for i in range(cfg.val_clips)}
    return [e for i, e in enumerate(ordered) if i not in held], [e for i, e in enumerate(ordered) if i in held]


def sample_batch(examples: list[ClipExamples], cfg: Audio2ExpTrainConfig, rng) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L, W, n_mels) windows and (B, L, E) targets of random segments, clips weighted by length."""
    lengths = np.array([len(e.targets) for e in examples], dtype=np.float64)
    picks = rng.choice(len(examples), size=cfg.batch_size, p=lengths / lengths.sum())
    xs, ys = [], []
    for i in picks:
        e = examples[i]
        length = min(cfg.segment_frames, len(e.targets))
        start = int(rng.integers(0, len(e.targets) - length + 1))
        variant = e.windows[int(rng.integers(len(e.windows)))]
        xs.append(variant[start : start + length])
        ys.append(e.targets[start : start + length])
    length = min(len(x) for x in xs)
    return torch.stack([x[:length] for x in xs]), torch.stack([y[:length] for y in ys])


@dataclass(frozen=True)
class MouthGeometry:
    """What the coefficients mean on the face. gap: (E,) inner-lip gap change per unit of each
    coefficient; landmarks: (E, D) the flattened landmark displacement of one unit of each
    (canonical units, inter-ocular distance 1; only the region's points)."""

    gap: torch.Tensor
    landmarks: torch.Tensor

    @classmethod
    def of(cls, basis: LearnedBasis, names: tuple[str, ...]) -> "MouthGeometry":
        columns = [basis.index(n) for n in names]
        fields = basis.components[columns].reshape(len(columns), -1)
        used = np.abs(fields).sum(axis=0) > 0
        return cls(torch.tensor(basis.gap_per_unit[columns], dtype=torch.float32), torch.tensor(fields[:, used], dtype=torch.float32))

    def to(self, device) -> "MouthGeometry":
        return MouthGeometry(self.gap.to(device), self.landmarks.to(device))


def losses(pred: torch.Tensor, target: torch.Tensor, geometry: MouthGeometry, cfg: Audio2ExpTrainConfig) -> dict[str, torch.Tensor]:
    """pred, target: (B, L, E) coefficients. Each part is divided by what one unit of the average
    coefficient would give, so the weights in cfg stay comparable across bases."""
    error = (pred - target) @ geometry.landmarks  # (B, L, D) landmark displacement error
    unit = geometry.landmarks.pow(2).sum(dim=1).mean()
    landmarks = error.pow(2).sum(-1).mean() / unit
    gap = torch.mean(((pred - target) @ geometry.gap) ** 2) / geometry.gap.pow(2).sum()
    velocity = (error[:, 1:] - error[:, :-1]).pow(2).sum(-1).mean() / unit
    total = landmarks + cfg.gap_weight * gap + cfg.velocity_weight * velocity
    return {"total": total, "landmarks": landmarks, "gap": gap, "velocity": velocity}


def validate(model: Audio2Exp, examples: list[ClipExamples], gaps_per_unit: torch.Tensor) -> dict[str, float]:
    """Pearson r between predicted (calibrated, as `predict` gives) and tracked lip gap, per
    held-out clip (clean audio)."""
    model.eval()
    out = {}
    with torch.no_grad():
        for e in examples:
            pred = model.calibrated(model(e.windows[0][None].to(next(model.parameters()).device))[0]).cpu()
            out[e.name] = pearson((pred @ gaps_per_unit).numpy(), e.gaps)
    model.train()
    return out


def prepare_examples(clips: list[TalkingClip], basis: LearnedBasis, names: tuple[str, ...], mel: MelConfig, cfg: "Audio2ExpTrainConfig") -> list[ClipExamples]:
    """Targets and (clean + noisy) features of every clip that has audio."""
    rng = np.random.default_rng(cfg.seed)
    return [clip_examples(c, basis, names, mel, rng, cfg.noise_variants, cfg.noise_snr_db) for c in clips if c.audio is not None]


def fit_audio2exp(train: list[ClipExamples], geometry: MouthGeometry, model_config: Audio2ExpConfig, cfg: "Audio2ExpTrainConfig") -> tuple[Audio2Exp, list[dict]]:
    """Train each member network on prepared examples (member k with seed cfg.seed + k), then
    calibrate the ensemble; returns it (on cfg.device) and the loss history."""
    torch.manual_seed(cfg.seed)
    model = Audio2Exp(model_config).to(cfg.device)
    history = []
    for k, member in enumerate(model.members):
        for entry in fit_member(member, train, geometry, replace(cfg, seed=cfg.seed + k)):
            history.append({"member": k, **entry})
    model.calibrate([e.windows[0].to(cfg.device) for e in train], [e.targets.to(cfg.device) for e in train], geometry.gap)
    return model, history


def fit_member(model, train: list[ClipExamples], geometry: MouthGeometry, cfg: "Audio2ExpTrainConfig") -> list[dict]:
    """Train one Audio2ExpNet in place; returns the loss history."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed + 1)
    model.train()
    model.encoder.set_normalisation(torch.cat([e.windows[0] for e in train]).to(cfg.device))
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, cfg.learning_rate, total_steps=cfg.steps, pct_start=0.1)
    history, started = [], time.time()
    for step in range(1, cfg.steps + 1):
        x, y = sample_batch(train, cfg, rng)
        parts = losses(model(x.to(cfg.device)), y.to(cfg.device), geometry, cfg)
        optimiser.zero_grad()
        parts["total"].backward()
        optimiser.step()
        schedule.step()
        if step % 100 == 0 or step == cfg.steps:
            history.append({"step": step, **{k: v.item() for k, v in parts.items()}})
            log.info("step %d loss %.4f (%.0f s)", step, parts["total"].item(), time.time() - started)
    return history


def train_audio2exp(
    clips: list[TalkingClip], basis: LearnedBasis, cfg: Audio2ExpTrainConfig, model_config: Audio2ExpConfig | None = None
) -> tuple[Audio2Exp, dict]:
    """Train on `clips` (their tracks and audio), holding whole clips out; returns the model
    (on the CPU) and a report with the losses and the validation correlations."""
    started = time.time()
    names = tuple(n for n in basis.names if n.startswith(cfg.region))
    model_config = model_config or Audio2ExpConfig(expression_names=names)
    train, val = split_examples(prepare_examples(clips, basis, names, model_config.mel, cfg), cfg)
    geometry = MouthGeometry.of(basis, names).to(cfg.device)
    model, history = fit_audio2exp(train, geometry, model_config, cfg)
    model = model.cpu()
    report = {
        "output_scale": model.output_scale.tolist(),
        "train_clips": [e.name for e in train],
        "val_clips": [e.name for e in val],
        "val_gap_r": validate(model, val, geometry.gap.cpu()),
        "history": history,
        "seconds": time.time() - started,
        "train_config": asdict(cfg),
    }
    return model, report
