"""audio2exp v2: the content mouth's articulation shapes, scaled frame by frame from the sound
(`--mouth audio2exp-v2`).

The articulation model (articulation.py) gives each frame a mouth shape from the recognised
phones; it cannot know how emphatically a syllable is spoken, and a recogniser's phone
boundaries are only roughly where the sound changes. This network reads the mel stream (per
frame log-mel, standardised per clip so that a voice's timbre and level do not count, only how
the sound changes) over about half a second either side, and predicts one log-gain per frame
that multiplies the articulation shapes:

    coefficients[t] = articulation[t] * exp(gain[t])

A multiplicative gain keeps what the articulation model guarantees: closed lips on bilabials
and in silence stay closed (0 * anything = 0), and the mouth's shape per phone is unchanged;
only its size follows the voice. Trained on real talking clips with whole people held out
(train/audio2exp_v2_recipe.py), loss in landmark space.

Shapes: streams (T, D) float32 -> gains (T,) float32; shapes (T, K) -> (T, K).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..audio.mel import MelConfig, log_mel, map_windows
from ..io.module_checkpoint import CheckpointedModule
from ..types import AudioClip

CHECKPOINT_NAME = "audio2exp_v2"
MAX_LOG_GAIN = 1.5
"""exp(1.5) = 4.5: the most a frame's articulation is enlarged (or shrunk, by -3)."""


@dataclass(frozen=True)
class Audio2ExpV2Config:
    mel: MelConfig = field(default_factory=lambda: MelConfig(window_seconds=0.04))
    """Log-mel per video frame: the mean of the mel frames within +-20 ms of its middle."""
    hidden: int = 16
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4)
    """Temporal convolutions; with kernel 5 they see 14 frames (0.56 s at 25 fps) either side."""
    dropout: float = 0.3
    """Input dropout: with a few minutes of real speech a wider or undropped net overfits
    (leave-one-person-out r falls below the articulation alone)."""
    members: int = 3
    """Independently trained networks; their log-gains are averaged (steadier held out)."""

    @classmethod
    def from_dict(cls, data: dict) -> "Audio2ExpV2Config":
        return cls(
            mel=MelConfig(**data["mel"]),
            hidden=data["hidden"],
            kernel=data["kernel"],
            dilations=tuple(data["dilations"]),
            dropout=data["dropout"],
            members=data["members"],
        )


def mel_stream(clip: AudioClip, fps: float, num_frames: int, config: MelConfig) -> np.ndarray:
    """(num_frames, n_mels) float32 log-mel per video frame, standardised per band over the
    clip (zero mean, unit std): what changes, not the voice's colour or level. The clip must be
    at config.sample_rate. Windows are averaged config.chunk_seconds at a time (never the whole
    clip's (T, W, n_mels) at once)."""
    mel = map_windows(lambda w: w.mean(1), log_mel(clip, config), fps, num_frames, config, 0).numpy()
    return ((mel - mel.mean(0)) / (mel.std(0) + 1e-3)).astype(np.float32)


def delayed(stream: np.ndarray, frames: int) -> np.ndarray:
    """(T, D) the stream delayed by `frames` (row t shows row t - frames), edges repeated."""
    if frames == 0 or len(stream) == 0:
        return stream
    index = np.clip(np.arange(len(stream)) - frames, 0, len(stream) - 1)
    return stream[index]


class GainNet(nn.Module):
    """(B, T, D) streams -> (B, T) log-gain (0 at initialisation: the articulation as is)."""

    def __init__(self, inputs: int, config: Audio2ExpV2Config):
        super().__init__()
        self.dropout = nn.Dropout(config.dropout)
        layers, width = [], inputs
        for dilation in config.dilations:
            layers += [nn.Conv1d(width, config.hidden, config.kernel, padding=dilation * (config.kernel // 2), dilation=dilation), nn.GELU()]
            width = config.hidden
        self.temporal = nn.Sequential(*layers)
        self.head = nn.Conv1d(width, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, streams: torch.Tensor) -> torch.Tensor:
        x = self.dropout(streams).transpose(1, 2)
        return self.head(self.temporal(x))[:, 0].clamp(-2 * MAX_LOG_GAIN, MAX_LOG_GAIN)


class Audio2ExpV2(CheckpointedModule):
    """streams (B, T, n_mels) -> (B, T) log-gain: the mean of `config.members` GainNets plus
    the calibration `log_scale` (set after training so the lip gap's spread matches the
    tracked speakers')."""

    checkpoint_name = CHECKPOINT_NAME
    description = "audio2exp v2 (mel-stream gain of the content mouth)"
    config_class = Audio2ExpV2Config

    def __init__(self, config: Audio2ExpV2Config | None = None):
        super().__init__()
        self.config = config = config or Audio2ExpV2Config()
        self.members = nn.ModuleList(GainNet(config.mel.n_mels, config) for _ in range(config.members))
        self.register_buffer("log_scale", torch.zeros(()))

    def forward(self, streams: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(streams) for m in self.members]).mean(0) + self.log_scale

    @torch.no_grad()
    def gains(self, clip: AudioClip, fps: float, num_frames: int, delay_frames: int = 0) -> np.ndarray:
        """(num_frames,) float32 gains > 0 for the frames of `clip` (at config.mel.sample_rate),
        the sound delayed by `delay_frames` like the articulation's offset."""
        self.eval()
        if num_frames == 0:
            return np.zeros(0, np.float32)
        stream = delayed(mel_stream(clip, fps, num_frames, self.config.mel), delay_frames)
        device = self.log_scale.device
        return torch.exp(self(torch.from_numpy(stream)[None].to(device))[0]).cpu().numpy().astype(np.float32)

    def refine(self, shapes: np.ndarray, clip: AudioClip, fps: float, delay_frames: int = 0) -> np.ndarray:
        """(T, K) articulation shapes -> the same scaled per frame by `gains`."""
        return (shapes * self.gains(clip, fps, len(shapes), delay_frames)[:, None]).astype(np.float32)
