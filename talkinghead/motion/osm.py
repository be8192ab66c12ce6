"""OSM-Net's one-to-many head motion: audio -> a point in the motion space -> sampled motions.

For every motion window (about a second, half-overlapping) the shared AudioEncoder embeds the
audio frames; their mean and spread over the window, with the neighbouring windows as context
(the time-window feature input), give the point `mu` (in units of each basis' spread) that the
audio suggests and how far real motion strays from it, `sigma` (trained as a Gaussian: how
lively a head is differs with what is being said, and whether anything is). Motions are
sampled around the point: z = mu + diversity * sigma * eps, where eps is Gaussian, correlated
from one window to the next (so the style of motion drifts rather than jumps) and truncated to
+-2.5 so that no sample leaves the range seen in real videos. diversity 0 gives the mean
motion; the same seed gives the same motion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..audio.encoder import AudioEncoder, AudioEncoderConfig
from ..audio.mel import MelConfig, frame_windows, log_mel, map_chunks, temporal_context
from ..io.module_checkpoint import CheckpointedModule
from ..types import AudioClip
from .motion_space import CHANNELS, MotionSpace, MotionSpaceConfig, resample, window_index

CHECKPOINT_NAME = "osm"
TRUNCATE = 2.5
LOG_SIGMA_RANGE = (-0.7, 1.0)
"""Bounds of the predicted log spread (units of each basis' spread in the data): sigma
0.5-2.7, so that no window is frozen or wild whatever the audio (a lower floor, -1.5, let the
model grow overconfident: held-out likelihood 1.19 against 0.63 with this one, real_d6)."""


@dataclass(frozen=True)
class OSMNetConfig:
    space: MotionSpaceConfig = field(default_factory=MotionSpaceConfig)
    mel: MelConfig = field(default_factory=MelConfig)
    encoder: AudioEncoderConfig = field(default_factory=AudioEncoderConfig)
    hidden: int = 32
    context_windows: int = 1
    """Neighbouring windows on each side the audio-to-point mapping looks at."""
    window_correlation: float = 0.6
    """Correlation of the sampling noise between consecutive windows."""

    @classmethod
    def from_dict(cls, data: dict) -> "OSMNetConfig":
        return cls(
            space=MotionSpaceConfig(**data["space"]),
            mel=MelConfig(**data["mel"]),
            encoder=AudioEncoderConfig(**data["encoder"]),
            hidden=data["hidden"],
            context_windows=data["context_windows"],
            window_correlation=data["window_correlation"],
        )


class OSMNet(CheckpointedModule):
    """frames (B, T, W, n_mels) log-mel windows at space.fps -> (B, N, K) motion-space points
    mu and (B, N, K) log spreads around them, one row per motion window."""

    checkpoint_name = CHECKPOINT_NAME
    description = "OSM-Net head-motion model"
    config_class = OSMNetConfig

    def __init__(self, config: OSMNetConfig):
        super().__init__()
        self.config = config
        k, d = config.space.bases, len(CHANNELS) * config.space.window_frames
        self.register_buffer("channel_scale", torch.ones(len(CHANNELS), dtype=torch.float64))
        self.register_buffer("bases", torch.zeros(k, d, dtype=torch.float64))
        self.register_buffer("sigma", torch.ones(k, dtype=torch.float64))
        self.register_buffer("explained", torch.zeros(k, dtype=torch.float64))
        self.register_buffer("spread_scale", torch.ones(k))
        """(K,) set by `calibrate`: sampling at diversity 1 spreads as far as real heads do."""
        self.encoder = AudioEncoder(config.encoder)
        span, h = 2 * config.context_windows + 1, config.hidden
        self.window_net = nn.Sequential(
            nn.Conv1d(2 * config.encoder.dim, h, span, padding=config.context_windows),
            nn.GELU(),
            nn.Conv1d(h, h, span, padding=config.context_windows),
            nn.GELU(),
        )
        self.head = nn.Linear(h, 2 * k)

    def set_space(self, space: MotionSpace) -> None:
        for name, value in space.tensors().items():
            getattr(self, name).copy_(torch.from_numpy(value))

    @property
    def space(self) -> MotionSpace:
        t = {name: getattr(self, name).cpu().numpy() for name in ("channel_scale", "bases", "sigma", "explained")}
        return MotionSpace(self.config.space, **t)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(frames)  # (B, T, dim)
        return self.points(z, window_index(z.shape[1], self.config.space))

    def points(self, z: torch.Tensor, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """z (B, T', dim) frame embeddings, index (N', window_frames) int rows of z per motion
        window -> mu (B, N', K) and log_sigma (B, N', K) in LOG_SIGMA_RANGE."""
        win = z[:, torch.as_tensor(index, device=z.device)]  # (B, N', window_frames, dim)
        pooled = torch.cat([win.mean(2), win.std(2)], dim=-1)  # (B, N', 2 dim)
        mu, log_sigma = self.head(self.window_net(pooled.transpose(1, 2)).transpose(1, 2)).chunk(2, dim=-1)
        return mu, log_sigma.clamp(*LOG_SIGMA_RANGE)

    def window_points(self, mel: torch.Tensor, num_frames: int) -> torch.Tensor:
        """(F, n_mels) log-mel of a clip of num_frames frames at space.fps -> (N, 2K): mu and
        log_sigma of its N motion windows, as forward() on the whole clip's windows gives them,
        computed config.mel.chunk_seconds at a time so memory does not grow with the clip."""
        space, mel_config = self.config.space, self.config.mel
        index = window_index(num_frames, space)  # (N, window_frames) global frame numbers

        def span(lo: int, hi: int) -> torch.Tensor:
            first, last = int(index[lo, 0]), int(index[hi - 1].max()) + 1  # the frames windows lo..hi read
            z = self.encoder(frame_windows(mel, space.fps, num_frames, mel_config, first, last)[None])
            return torch.cat(self.points(z, index[lo:hi] - first), dim=-1)[0]

        # A window's point depends on its neighbours through window_net's convolutions only.
        chunk = int(round(mel_config.chunk_seconds * space.fps / space.hop_frames))
        return map_chunks(span, len(index), chunk, temporal_context(self.window_net))

    @torch.no_grad()
    def sample(self, clip: AudioClip, fps: float, *, seed: int, diversity: float) -> tuple[np.ndarray, np.ndarray]:
        """(T, 3) yaw, pitch, roll in degrees and (T, 2) x, y offsets in inter-ocular distances
        for the T = clip.num_frames(fps) video frames.

        The audio goes through the network a chunk at a time (window_points); the noise chain
        over all windows and the overlap-add are whole-clip but only O(windows * K), so the
        result is the same for any chunk size."""
        self.eval()
        space_fps = self.config.space.fps
        num_frames = clip.num_frames(space_fps)
        mel = log_mel(clip, self.config.mel, next(self.parameters()).device)
        mu, log_sigma = np.split(self.window_points(mel, num_frames).double().cpu().numpy(), 2, axis=1)
        noise = correlated_noise(np.random.default_rng(seed), mu.shape, self.config.window_correlation)
        z = mu + diversity * np.exp(log_sigma) * self.spread_scale.double().cpu().numpy() * noise
        pose = self.space.decode(z, num_frames)
        pose = resample(pose, space_fps, fps, clip.num_frames(fps))
        return pose[:, :3].astype(np.float32), pose[:, 3:].astype(np.float32)

    @torch.no_grad()
    def calibrate(self, frames: list[torch.Tensor], min_share: float = 0.1) -> None:
        """Scale the spreads so that, over the (T, W, n_mels) audio of the training clips, the
        predicted points' own variance plus the mean squared spread is 1 per basis, the data's
        variance (the likelihood loss alone leaves the total short, as the points regress
        towards the centre). Each basis keeps at least `min_share` of it for the noise."""
        mus, sigmas = zip(*(self(f[None]) for f in frames))
        mu, sigma = torch.cat([m[0] for m in mus]), torch.cat([s[0].exp() for s in sigmas])
        left = (1.0 - mu.var(dim=0)).clamp_min(min_share)
        self.spread_scale.copy_((left / sigma.pow(2).mean(dim=0)).sqrt())


def correlated_noise(rng: np.random.Generator, shape: tuple[int, int], rho: float) -> np.ndarray:
    """(N, K) standard Gaussian noise, AR(1)-correlated along N with coefficient rho, truncated
    to +-TRUNCATE."""
    white = rng.standard_normal(shape)
    out = np.empty(shape)
    out[0] = white[0]
    for n in range(1, shape[0]):
        out[n] = rho * out[n - 1] + np.sqrt(1 - rho**2) * white[n]
    return np.clip(out, -TRUNCATE, TRUNCATE)
