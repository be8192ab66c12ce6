"""MFR-Net's Feature Aggregation Module: speaker features, listener identity and attitude fused
into the condition the listener's denoiser attends to.

The speaker stream is encoded with temporal convolutions (a listener reacts to the last second
or so, not to one frame); the listener's identity features modulate it (FiLM: scale and shift
per channel), so the same speaker can draw different responses from different faces, and
identity and attitude also travel as tokens of their own. Attitude has a fourth, "unknown"
entry that training substitutes at random: the denoiser then also learns the response without
an attitude, which classifier-free guidance contrasts with the asked one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ATTITUDES = ("positive", "neutral", "negative")
NO_ATTITUDE = len(ATTITUDES)  # the embedding index of "no attitude given"


@dataclass(frozen=True)
class FeatureAggregationConfig:
    speaker_dim: int
    identity_dim: int
    dim: int = 96
    kernel: int = 9
    """Temporal reach of each of the two speaker convolutions, frames (two: about 0.7 s at 25 fps)."""
    dropout: float = 0.1


@dataclass(frozen=True)
class Condition:
    """What the denoiser is conditioned on. frames: (B, W, dim), the fused speaker stream, one
    row per listener frame (added to the motion tokens frame by frame, so a response can be
    timed to the speaker); tokens: (B, W + 2, dim), those rows with position codes, then the
    identity and attitude tokens (attended to); vector: (B, dim), identity + attitude (added to
    every motion token)."""

    frames: torch.Tensor
    tokens: torch.Tensor
    vector: torch.Tensor


class FeatureAggregation(nn.Module):
    """speaker (B, W, speaker_dim), identity (B, identity_dim), attitude (B,) long in
    [0, NO_ATTITUDE], position (W, dim) codes -> Condition."""

    def __init__(self, config: FeatureAggregationConfig):
        super().__init__()
        cfg = self.config = config
        pad = cfg.kernel // 2
        self.speaker = nn.Sequential(
            nn.Conv1d(cfg.speaker_dim, cfg.dim, cfg.kernel, padding=pad),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Conv1d(cfg.dim, cfg.dim, cfg.kernel, padding=pad),
        )
        self.identity = nn.Sequential(nn.Linear(cfg.identity_dim, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, 3 * cfg.dim))
        self.attitude = nn.Embedding(NO_ATTITUDE + 1, cfg.dim)
        self.norm = nn.LayerNorm(cfg.dim)

    def forward(self, speaker: torch.Tensor, identity: torch.Tensor, attitude: torch.Tensor, position: torch.Tensor) -> Condition:
        s = self.speaker(speaker.transpose(1, 2)).transpose(1, 2)
        scale, shift, token = self.identity(identity).chunk(3, dim=-1)
        s = self.norm(s) * (1 + scale[:, None]) + shift[:, None]
        a = self.attitude(attitude)
        # Attention alone cannot tell which speaker row is which frame: the rows carry position codes.
        tokens = torch.cat([s + position[: s.shape[1]], token[:, None], a[:, None]], dim=1)
        return Condition(frames=s, tokens=tokens, vector=token + a)
