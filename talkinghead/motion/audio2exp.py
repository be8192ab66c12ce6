"""Audio -> expression: per-frame coefficients of the learned basis (mouth, jaw, lips) from speech.

The shared AudioEncoder embeds each video frame's log-mel window; two dilated temporal
convolutions then look at about half a second of neighbouring frames either side, which lets
the mouth anticipate and follow sounds (coarticulation) and keeps the motion smooth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..audio.encoder import AudioEncoder, AudioEncoderConfig
from ..audio.mel import MelConfig, log_mel, map_windows, temporal_context
from ..io.module_checkpoint import CheckpointedModule
from ..types import AudioClip

CHECKPOINT_NAME = "audio2exp"


@dataclass(frozen=True)
class Audio2ExpConfig:
    expression_names: tuple[str, ...]
    """The basis coefficients this model predicts (a subset of the basis' names)."""
    mel: MelConfig = field(default_factory=MelConfig)
    encoder: AudioEncoderConfig = field(default_factory=AudioEncoderConfig)
    hidden: int = 32
    temporal_kernel: int = 5
    members: int = 5
    """Independently trained networks whose predictions are averaged. With a minute or two of
    real video a single network's held-out behaviour depends on its random seed; the average
    is steadier."""

    @classmethod
    def from_dict(cls, data: dict) -> "Audio2ExpConfig":
        return cls(
            expression_names=tuple(data["expression_names"]),
            mel=MelConfig(**data["mel"]),
            encoder=AudioEncoderConfig(**data["encoder"]),
            hidden=data["hidden"],
            temporal_kernel=data["temporal_kernel"],
            members=data.get("members", 1),
        )


class Audio2ExpNet(nn.Module):
    """One network: windows (B, T, W, n_mels) log-mel -> (B, T, E) coefficients."""

    def __init__(self, config: Audio2ExpConfig):
        super().__init__()
        self.encoder = AudioEncoder(config.encoder)
        k, h = config.temporal_kernel, config.hidden
        self.temporal = nn.Sequential(
            nn.Conv1d(config.encoder.dim, h, k, padding=k // 2),
            nn.GELU(),
            nn.Conv1d(h, h, k, padding=2 * (k // 2), dilation=2),
            nn.GELU(),
        )
        self.head = nn.Linear(h, len(config.expression_names))

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        z = self.encoder(windows).transpose(1, 2)  # (B, dim, T)
        return self.head(self.temporal(z).transpose(1, 2))


class Audio2Exp(CheckpointedModule):
    """windows (B, T, W, n_mels) log-mel -> (B, T, E) expression coefficients (about [-1, 1]):
    the mean of `config.members` networks."""

    checkpoint_name = CHECKPOINT_NAME
    description = "audio-to-expression model"
    config_class = Audio2ExpConfig

    def __init__(self, config: Audio2ExpConfig):
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(Audio2ExpNet(config) for _ in range(config.members))
        # Calibration of `predict` (set after training, saved with the weights): a regression
        # trained on weakly predictable targets shrinks towards their mean, which would leave
        # the mouth under-articulated; predictions are stretched about `output_mean` by
        # `output_scale` so their spread matches the tracked mouths'.
        self.register_buffer("output_mean", torch.zeros(len(config.expression_names)))
        self.register_buffer("output_scale", torch.ones(len(config.expression_names)))

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(windows) for member in self.members]).mean(0)

    @torch.no_grad()
    def predict(self, clip: AudioClip, fps: float) -> np.ndarray:
        """(T, E) float32 coefficients for the video frames of `clip` at `fps`, computed
        config.mel.chunk_seconds at a time (memory does not grow with the clip)."""
        self.eval()
        mel = log_mel(clip, self.config.mel, next(self.parameters()).device)
        # Each output frame sees its neighbours through the temporal convolutions only; the
        # encoder reads one frame's window.
        context = temporal_context(self.members[0].temporal)
        raw = map_windows(lambda w: self(w[None])[0], mel, fps, clip.num_frames(fps), self.config.mel, context)
        return self.calibrated(raw).cpu().numpy().astype(np.float32)

    def calibrated(self, raw: torch.Tensor) -> torch.Tensor:
        """(..., E) raw outputs -> the same stretched by the calibration (see __init__)."""
        return self.output_mean + self.output_scale * (raw - self.output_mean)

    @torch.no_grad()
    def calibrate(self, windows: list[torch.Tensor], targets: list[torch.Tensor], gap_vector: torch.Tensor, max_scale: float = 3.0) -> None:
        """Set output_mean/output_scale from training clips: (T, W, n_mels) windows and (T, E)
        targets each. Per component, scale = std(targets) / std(raw predictions); then all
        scales grow together until the lip gap (coefficients @ gap_vector, (E,)) varies as
        much as the tracked one. Scales stay between 1 and max_scale."""
        self.eval()
        raw = torch.cat([self(w[None])[0] for w in windows])
        target = torch.cat(targets)
        mean = raw.mean(0)
        scale = (target.std(0) / raw.std(0).clamp_min(1e-6)).clamp(1.0, max_scale)
        stretched = mean + scale * (raw - mean)  # what `calibrated` gives with these settings
        gap_ratio = (target @ gap_vector).std() / (stretched @ gap_vector).std().clamp_min(1e-9)
        self.output_mean.copy_(mean)
        self.output_scale.copy_((scale * gap_ratio.clamp(min=1.0)).clamp(1.0, max_scale))
        self.train()
