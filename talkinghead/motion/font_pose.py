"""FONT's head-pose predictor: a conditional VAE from the audio and the source face to head pose.

The clip is cut into pose windows (2 s at 25 fps, half-overlapping). For each window the
encoder q(z | pose, audio) reads the window's pose and audio features and gives a Gaussian over
a small latent z; the prior is N(0, I). The decoder maps (z, the window's per-frame audio
features, the source-face embedding) to the window's pose: yaw, pitch, roll and the x, y offset,
each in units of its spread in the training data. Training: L1 reconstruction, the KL term
(annealed) and a structural-similarity loss on the pose sequences (1-D SSIM over short time
windows per channel, from local means, variances and covariance), so that the predicted motion
has the rhythm and the amount of change of real motion, not only its average.

Sampling: z = diversity * eps per window, eps Gaussian, correlated from one window to the next
and truncated (osm.correlated_noise); the decoded windows are joined by Hann-weighted
overlap-add, so clips of any length get one continuous motion. diversity 0 gives the mean
motion (z = 0); the same seed gives the same motion.

Audio features: the per-frame log-mel stream of audio2exp v2 (`mel_stream`, standardised per
clip, so the voice's colour and level do not count). Source face: the first `face_dims`
principal components of the face's canonical landmarks (its shape with pose removed), fitted on
the training clips' faces (`set_face_space`); a face in another landmark layout gets the mean face.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..audio.mel import MelConfig
from ..io.module_checkpoint import CheckpointedModule
from ..types import AudioClip
from .audio2exp_v2 import mel_stream
from .motion_space import CHANNELS, MotionSpaceConfig, overlap_add, resample, window_index
from .osm import correlated_noise

CHECKPOINT_NAME = "font_pose"


@dataclass(frozen=True)
class FontPoseConfig:
    mel: MelConfig = field(default_factory=MelConfig)
    windows: MotionSpaceConfig = field(default_factory=lambda: MotionSpaceConfig(window_frames=50, hop_frames=25))
    """Pose windows (fps, window_frames, hop_frames; `bases` is not used)."""
    hidden: int = 48
    latent: int = 8
    face_dims: int = 4
    face_points: int = 478
    """Landmarks of the face embedding's layout (MediaPipe)."""
    kernel: int = 5
    window_correlation: float = 0.5
    """Correlation of the sampling noise between consecutive windows."""

    @classmethod
    def from_dict(cls, data: dict) -> "FontPoseConfig":
        plain = {k: v for k, v in data.items() if k not in ("mel", "windows")}
        return cls(mel=MelConfig(**data["mel"]), windows=MotionSpaceConfig(**data["windows"]), **plain)


def conv_stack(inputs: int, hidden: int, kernel: int, layers: int) -> nn.Sequential:
    """Length-keeping 1-D convolutions with GELU, (B, inputs, T) -> (B, hidden, T)."""
    mods: list[nn.Module] = []
    for n in range(layers):
        mods += [nn.Conv1d(inputs if n == 0 else hidden, hidden, kernel, padding=kernel // 2), nn.GELU()]
    return nn.Sequential(*mods)


class FontPose(CheckpointedModule):
    """CVAE over pose windows. Tensors: audio (B, W, n_mels) standardised log-mel per frame;
    face (B, face_dims) standardised face embedding; pose (B, W, 5) in units of channel_scale."""

    checkpoint_name = CHECKPOINT_NAME
    description = "FONT head-pose CVAE"
    config_class = FontPoseConfig

    def __init__(self, config: FontPoseConfig):
        super().__init__()
        self.config = config
        c, h, k = len(CHANNELS), config.hidden, config.kernel
        self.register_buffer("channel_scale", torch.ones(c))
        """(5,) spread of yaw, pitch, roll (deg), x, y (IOD) in the training data."""
        self.register_buffer("out_gain", torch.ones(c))
        """(5,) set by `calibrate`: sampled motion at diversity 1 spreads as far as real motion."""
        self.register_buffer("face_mean", torch.zeros(config.face_points * 3))
        self.register_buffer("face_bases", torch.zeros(config.face_dims, config.face_points * 3))
        self.register_buffer("face_std", torch.ones(config.face_dims))
        self.audio_net = conv_stack(config.mel.n_mels, h, k, 2)
        self.posterior = conv_stack(h + c, h, k, 2)
        self.to_latent = nn.Linear(h, 2 * config.latent)
        self.face_net = nn.Linear(config.face_dims, h)
        self.decoder = conv_stack(2 * h + config.latent, h, k, 3)
        self.to_pose = nn.Conv1d(h, c, k, padding=k // 2)

    def audio_features(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, T, n_mels) -> (B, T, hidden)."""
        return self.audio_net(audio.transpose(1, 2)).transpose(1, 2)

    def encode(self, pose: torch.Tensor, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """pose (B, W, 5), feats (B, W, hidden) -> mu, logvar (B, latent) of q(z | pose, audio)."""
        h = self.posterior(torch.cat([pose, feats], -1).transpose(1, 2)).mean(2)
        mu, logvar = self.to_latent(h).chunk(2, -1)
        return mu, logvar.clamp(-8.0, 4.0)

    def decode(self, z: torch.Tensor, feats: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        """z (B, latent), feats (B, W, hidden), face (B, face_dims) -> pose (B, W, 5)."""
        w = feats.shape[1]
        cond = torch.cat([z[:, None].expand(-1, w, -1), feats, self.face_net(face)[:, None].expand(-1, w, -1)], -1)
        return self.to_pose(self.decoder(cond.transpose(1, 2))).transpose(1, 2)

    def forward(self, pose: torch.Tensor, audio: torch.Tensor, face: torch.Tensor, noise: torch.Tensor | None = None):
        """Training pass: -> reconstruction (B, W, 5), mu and logvar (B, latent)."""
        feats = self.audio_features(audio)
        mu, logvar = self.encode(pose, feats)
        eps = torch.randn_like(mu) if noise is None else noise
        return self.decode(mu + eps * (0.5 * logvar).exp(), feats, face), mu, logvar

    def set_face_space(self, shapes: np.ndarray) -> None:
        """Fit the face embedding on (P, face_points, 3) canonical face shapes of the training people."""
        flat = torch.from_numpy(shapes.reshape(len(shapes), -1)).float()
        mean = flat.mean(0)
        _, s, v = torch.linalg.svd(flat - mean, full_matrices=False)
        dims = min(self.config.face_dims, len(s))
        self.face_mean.copy_(mean)
        self.face_bases.zero_()
        self.face_bases[:dims] = v[:dims]
        self.face_std.fill_(1.0)
        self.face_std[:dims] = (s[:dims] / max(len(shapes) - 1, 1) ** 0.5).clamp_min(1e-6)

    def face_embedding(self, shape: np.ndarray | None) -> torch.Tensor:
        """(N, 3) canonical landmarks -> (face_dims,) standardised embedding (zeros, the mean
        face, for None or another layout)."""
        device = self.face_mean.device
        if shape is None or shape.size != self.face_mean.numel():
            return torch.zeros(self.config.face_dims, device=device)
        flat = torch.as_tensor(shape.reshape(-1), dtype=torch.float32, device=device)
        return (self.face_bases @ (flat - self.face_mean)) / self.face_std

    @torch.no_grad()
    def sample(self, clip: AudioClip, fps: float, face_shape: np.ndarray | None, *, seed: int, diversity: float) -> tuple[np.ndarray, np.ndarray]:
        """(T, 3) yaw, pitch, roll in degrees and (T, 2) x, y offsets in inter-ocular distances
        for the T = clip.num_frames(fps) video frames. face_shape: (N, 3) the source's
        canonical landmarks (FaceModel.canonical) or None."""
        self.eval()
        cfg = self.config.windows
        num_frames = clip.num_frames(cfg.fps)
        device = self.face_mean.device
        audio = torch.from_numpy(mel_stream(clip, cfg.fps, num_frames, self.config.mel)).to(device)
        feats = self.audio_features(audio[None])[0]  # (T, hidden)
        index = torch.as_tensor(window_index(num_frames, cfg), device=device)
        noise = correlated_noise(np.random.default_rng(seed), (len(index), self.config.latent), self.config.window_correlation)
        z = torch.as_tensor(diversity * noise, dtype=torch.float32, device=device)
        face = self.face_embedding(face_shape)[None].expand(len(index), -1)
        windows = self.decode(z, feats[index], face) * self.out_gain * self.channel_scale
        pose = overlap_add(windows.double().cpu().numpy(), num_frames, cfg)
        pose = resample(pose, cfg.fps, fps, clip.num_frames(fps))
        return pose[:, :3].astype(np.float32), pose[:, 3:].astype(np.float32)

    @torch.no_grad()
    def calibrate(self, clips: list[AudioClip], real_std: np.ndarray, face_shapes: list[np.ndarray | None], seeds: int = 3) -> None:
        """Set out_gain so that motion sampled at diversity 1 for the training clips' audio has
        the (5,) per-channel spread `real_std` of their real motion (degrees / IOD)."""
        self.out_gain.fill_(1.0)
        samples = [np.concatenate(self.sample(c, self.config.windows.fps, f, seed=s, diversity=1.0), 1)
                   for c, f in zip(clips, face_shapes) for s in range(seeds)]  # fmt: skip
        sampled = np.mean([x.std(0) for x in samples], axis=0)
        self.out_gain.copy_(torch.as_tensor(np.clip(real_std / np.maximum(sampled, 1e-6), 0.5, 4.0), dtype=torch.float32))


def ssim_1d(x: torch.Tensor, y: torch.Tensor, span: int = 9, c1: float = 1e-2, c2: float = 3e-2) -> torch.Tensor:
    """Mean structural similarity of (B, W, C) sequences over sliding windows of `span` frames,
    per channel, from local means, variances and covariance; in [-1, 1], 1 = identical."""
    a, b = x.transpose(1, 2), y.transpose(1, 2)
    pool = lambda t: F.avg_pool1d(t, span, stride=1)  # noqa: E731
    mu_a, mu_b = pool(a), pool(b)
    var_a, var_b = pool(a * a) - mu_a**2, pool(b * b) - mu_b**2
    cov = pool(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.mean()


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(N(mu, exp(logvar)) || N(0, I)), summed over the latent."""
    return (0.5 * (mu**2 + logvar.exp() - 1.0 - logvar)).sum(-1).mean()
