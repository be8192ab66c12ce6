"""MFR-Net's listener motion: a denoising diffusion model over windows of listener motion.

A window is `window` frames of listener head pose (yaw, pitch, roll in degrees), expression
coefficients (absolute: 0 = the neutral, closed-mouth face) and eyelid closure, standardised per
channel with statistics of the training data. The denoiser (a small transformer) predicts the
clean window (or the noise, `prediction`) from a noisy one; the Feature Aggregation Module's
fused speaker stream is added to each frame (so responses can be timed to the speaker's
pauses) and its condition tokens (speaker rows, listener identity, attitude) are attended to. Training uses diffusers' DDPMScheduler to add
noise; sampling runs DDIMScheduler for `sample_steps` steps.

Any length: windows overlap by `overlap` frames. The denoiser also takes "known" frames with a
mask (trained half the time with the window's first `overlap` frames given), so each window
continues the previous one's last frames; while sampling, the clean estimate keeps those frames
exactly (as in inpainting), so a window starts where the last one was and joins are smooth.
Attitude is steered by classifier-free guidance: the prediction with the asked attitude is
pushed away from the one with none by `guidance`. Sampling is seeded: the same seed, inputs and
settings give the same motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..io.module_checkpoint import CheckpointedModule
from .feature_aggregation import NO_ATTITUDE, FeatureAggregation, FeatureAggregationConfig

CHECKPOINT_NAME = "mfr"
POSE_NAMES = ("yaw", "pitch", "roll")
EYELID_NAMES = ("eyelid_left", "eyelid_right")


@dataclass(frozen=True)
class MFRNetConfig:
    expression_names: tuple[str, ...]
    """The expression basis the motion's coefficients belong to (the face model's)."""
    speaker_names: tuple[str, ...]
    """Columns of the speaker features (motion.speaker_features.SPEAKER_NAMES)."""
    fps: float = 25.0
    window: int = 64
    overlap: int = 16
    dim: int = 96
    layers: int = 3
    heads: int = 4
    dropout: float = 0.1
    train_timesteps: int = 200
    sample_steps: int = 25
    beta_schedule: str = "squaredcos_cap_v2"
    prediction: str = "sample"
    """What the denoiser predicts: "sample" (the clean window) or "epsilon" (the noise)."""
    condition_dropout: float = 0.15
    """Share of training windows whose attitude is replaced by "none" (for guidance)."""
    prefix_share: float = 0.5
    """Share of training windows given their first `overlap` frames as known."""

    @property
    def channels(self) -> tuple[str, ...]:
        return POSE_NAMES + tuple(self.expression_names) + EYELID_NAMES

    @classmethod
    def from_dict(cls, data: dict) -> "MFRNetConfig":
        data = dict(data)
        data["expression_names"] = tuple(data["expression_names"])
        data["speaker_names"] = tuple(data["speaker_names"])
        return cls(**data)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) diffusion steps -> (B, dim) sinusoidal features."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class MFRNet(CheckpointedModule):
    """The listener denoiser. Motion tensors are standardised (see `normalise`)."""

    checkpoint_name = CHECKPOINT_NAME
    description = "MFR-Net's listener motion model"
    config_class = MFRNetConfig

    def __init__(self, config: MFRNetConfig):
        super().__init__()
        cfg = self.config = config
        c = len(cfg.channels)
        self.register_buffer("motion_mean", torch.zeros(c))
        self.register_buffer("motion_std", torch.ones(c))
        self.fam = FeatureAggregation(FeatureAggregationConfig(len(cfg.speaker_names), len(cfg.expression_names), cfg.dim,
                                                               dropout=cfg.dropout))  # fmt: skip
        self.inp = nn.Linear(2 * c + 1, cfg.dim)
        self.position = nn.Parameter(torch.randn(cfg.window, cfg.dim) * 0.02)
        self.time = nn.Sequential(nn.Linear(cfg.dim, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, cfg.dim))
        layer = nn.TransformerDecoderLayer(cfg.dim, cfg.heads, 2 * cfg.dim, cfg.dropout, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerDecoder(layer, cfg.layers)
        self.out = nn.Sequential(nn.LayerNorm(cfg.dim), nn.Linear(cfg.dim, c))

    # -- normalisation ------------------------------------------------------------------------
    def set_normalisation(self, motion: torch.Tensor) -> None:
        """Per-channel mean and std from (..., C) training motion in physical units."""
        flat = motion.reshape(-1, motion.shape[-1]).float()
        self.motion_mean.copy_(flat.mean(0))
        self.motion_std.copy_(flat.std(0).clamp_min(1e-2))

    def normalise(self, motion: torch.Tensor) -> torch.Tensor:
        return (motion - self.motion_mean) / self.motion_std

    def denormalise(self, motion: torch.Tensor) -> torch.Tensor:
        return motion * self.motion_std + self.motion_mean

    # -- the denoiser -------------------------------------------------------------------------
    def forward(self, noisy: torch.Tensor, t: torch.Tensor, known: torch.Tensor, mask: torch.Tensor,
                speaker: torch.Tensor, identity: torch.Tensor, attitude: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """The clean window predicted from a noisy one.

        noisy, known: (B, W, C) standardised motion (known: given frames, 0 elsewhere);
        mask: (B, W, 1) 1 on known frames; t: (B,) long diffusion steps; speaker: (B, W, S);
        identity: (B, E); attitude: (B,) long in [0, NO_ATTITUDE]. Returns (B, W, C).
        """
        condition = self.fam(speaker, identity, attitude, self.position)
        h = self.inp(torch.cat([noisy, known * mask, mask], dim=-1)) + self.position[: noisy.shape[1]] + condition.frames
        h = h + (self.time(timestep_embedding(t, self.config.dim)) + condition.vector)[:, None]
        return self.out(self.blocks(h, condition.tokens))

    def loss(self, motion: torch.Tensor, speaker: torch.Tensor, identity: torch.Tensor, attitude: torch.Tensor,
             scheduler, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:  # fmt: skip
        """Training losses on a batch of clean windows.

        motion: (B, W, C) physical units; speaker (B, W, S); identity (B, E); attitude (B,) long.
        scheduler: a diffusers DDPMScheduler with `train_timesteps`. Returns {"loss", "sample",
        "velocity"}: the mean squared error of the clean-window prediction, and an L1 term on its
        frame-to-frame differences (so nods and smiles keep their real speed and timing).
        """
        cfg = self.config
        b, w, _ = motion.shape
        clean = self.normalise(motion)
        noise = torch.randn(clean.shape, generator=generator, device=clean.device)
        t = torch.randint(0, cfg.train_timesteps, (b,), generator=generator, device=clean.device)
        noisy = scheduler.add_noise(clean, noise, t)
        mask = torch.zeros(b, w, 1, device=clean.device)
        given = torch.rand(b, generator=generator, device=clean.device) < cfg.prefix_share
        mask[given, : cfg.overlap] = 1.0
        dropped = torch.rand(b, generator=generator, device=clean.device) < cfg.condition_dropout
        attitude = torch.where(dropped, torch.full_like(attitude, NO_ATTITUDE), attitude)
        predicted = self(noisy, t, clean, mask, speaker, identity, attitude)
        target = clean if cfg.prediction == "sample" else noise
        sample = torch.mean((predicted - target) ** 2)
        velocity = torch.mean(torch.abs(predicted.diff(dim=1) - target.diff(dim=1)))
        return {"loss": sample + velocity, "sample": sample.detach(), "velocity": velocity.detach()}

    # -- sampling -----------------------------------------------------------------------------
    def sampler(self):
        from diffusers import DDIMScheduler  # imported on use: diffusers takes seconds to import

        return DDIMScheduler(num_train_timesteps=self.config.train_timesteps, beta_schedule=self.config.beta_schedule,
                             prediction_type="sample", clip_sample=False)  # fmt: skip

    @torch.no_grad()
    def sample(self, speaker: np.ndarray, identity: np.ndarray, attitude: int, *, seed: int,
               diversity: float = 1.0, guidance: float = 1.5) -> np.ndarray:  # fmt: skip
        """Listener motion for a whole speaker sequence.

        speaker: (T, S) float32 speaker features at `fps`; identity: (E,) the listener photo's own
        expression coefficients; attitude: index into feature_aggregation.ATTITUDES.
        diversity: scale of the starting noise (0: the same motion for every seed; 1: the
        trained spread). guidance: 1 = the plain conditional model; more = a stronger attitude.
        Returns (T, C) float32 in physical units, C = len(config.channels).
        """
        cfg = self.config
        device = self.motion_mean.device
        frames = len(speaker)
        stride = cfg.window - cfg.overlap
        count = max(1, math.ceil(max(frames - cfg.overlap, 1) / stride))
        total = (count - 1) * stride + cfg.window
        padded = np.concatenate([speaker, np.repeat(speaker[-1:], total - frames, axis=0)]) if total > frames else speaker
        generator = torch.Generator().manual_seed(int(seed))
        speaker_t = torch.as_tensor(padded, dtype=torch.float32, device=device)
        identity_t = torch.as_tensor(identity, dtype=torch.float32, device=device)[None]
        out = torch.zeros(total, len(cfg.channels), device=device)
        for k in range(count):
            s = k * stride
            known = torch.zeros(cfg.window, len(cfg.channels), device=device)
            mask = torch.zeros(cfg.window, 1, device=device)
            if k > 0:
                known[: cfg.overlap], mask[: cfg.overlap] = out[s : s + cfg.overlap], 1.0
            window = self._sample_window(speaker_t[s : s + cfg.window], identity_t, attitude, known, mask, generator,
                                         diversity, guidance)  # fmt: skip
            out[s : s + cfg.window] = window
        return self.denormalise(out[:frames]).cpu().numpy().astype(np.float32)

    def _sample_window(self, speaker, identity, attitude, known, mask, generator, diversity, guidance) -> torch.Tensor:
        """One standardised (W, C) window by DDIM, with classifier-free guidance on attitude."""
        scheduler = self.sampler()
        scheduler.set_timesteps(self.config.sample_steps)
        x = torch.randn(known.shape, generator=generator).to(known.device) * diversity
        attitudes = torch.tensor([attitude, NO_ATTITUDE], device=known.device)
        batch = lambda v: v[None].expand(2, *v.shape)  # noqa: E731 (the guided and the unguided prediction)
        for t in scheduler.timesteps:
            steps = torch.full((2,), int(t), device=known.device, dtype=torch.long)
            pred = self.clean_estimate(self(batch(x), steps, batch(known), batch(mask), batch(speaker), identity.expand(2, -1),
                                            attitudes), x, scheduler.alphas_cumprod[int(t)])  # fmt: skip
            guided = pred[1] + guidance * (pred[0] - pred[1])
            guided = torch.where(mask > 0, known, guided)  # the given frames are the previous window's, exactly
            x = scheduler.step(guided, t, x).prev_sample
        return x


    def clean_estimate(self, prediction: torch.Tensor, noisy: torch.Tensor, alpha_cumprod: torch.Tensor) -> torch.Tensor:
        """The denoiser's output as a clean-window estimate (the sampler works on those, so that
        given frames can be put in exactly): itself for "sample", from the noise for "epsilon"."""
        if self.config.prediction == "sample":
            return prediction
        a = alpha_cumprod.to(noisy.device)
        # Bounded: at the noisiest steps sqrt(a) is near 0 and the estimate would explode
        # (standardised motion stays within a few units).
        return ((noisy - (1 - a).sqrt() * prediction) / a.sqrt()).clamp(-6.0, 6.0)
