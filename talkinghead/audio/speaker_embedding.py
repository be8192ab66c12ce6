"""Speaker embedding: who is speaking, as a unit vector, from a GE2E-style speaker encoder.

Used to measure how much speaker identity the content features carry (a classifier that finds
the speaker from this embedding but not from the content features shows the content stream is
speaker-independent; benchmarks/content_disentanglement.py). Nothing in generation uses it.

The network follows the published generalised end-to-end (GE2E) speaker verification design as
Resemblyzer ships it: 40 mel bands of 25 ms windows every 10 ms, a 3-layer LSTM with 256 units
over 1.6 s partial utterances, a linear layer + ReLU to 256 values, L2-normalised; an
utterance's embedding is the normalised mean of its partials' (half-overlapping). The weights
are third-party and never shipped or downloaded here: Resemblyzer's wheel carries them as
`resemblyzer/pretrained.pt` (`pip download --no-deps Resemblyzer`, unzip), and the user passes
that path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..types import AudioClip

HOW_TO_GET = (
    "the speaker-encoder weights are Resemblyzer's resemblyzer/pretrained.pt: "
    "`pip download --no-deps Resemblyzer`, unzip the wheel, and pass the path to pretrained.pt"
)


@dataclass(frozen=True)
class SpeakerEncoderConfig:
    sample_rate: int = 16000
    window_ms: int = 25
    step_ms: int = 10
    n_mels: int = 40
    partial_frames: int = 160
    """Mel frames per partial utterance (1.6 s)."""
    hidden: int = 256
    layers: int = 3
    embedding: int = 256
    target_dbfs: float = -30.0
    """Quiet audio is brought up to this mean level first (never turned down)."""


def slaney_mel(hz: np.ndarray) -> np.ndarray:
    """The Slaney (Auditory Toolbox) mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, np.float64)
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (math.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def slaney_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((math.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


def slaney_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters equally spaced on the Slaney mel scale from
    0 to Nyquist, each scaled by 2 / its bandwidth (equal area)."""
    fft_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = slaney_hz(np.linspace(0.0, slaney_mel(sample_rate / 2), n_mels + 2))
    lower = (fft_hz[None] - edges[:-2, None]) / (edges[1:-1] - edges[:-2])[:, None]
    upper = (edges[2:, None] - fft_hz[None]) / (edges[2:] - edges[1:-1])[:, None]
    bank = np.maximum(0.0, np.minimum(lower, upper))
    return (bank * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


class SpeakerEncoder(nn.Module):
    """(B, F, n_mels) power mel frames -> (B, embedding) unit speaker vectors."""

    def __init__(self, config: SpeakerEncoderConfig | None = None):
        super().__init__()
        self.config = config = config or SpeakerEncoderConfig()
        self.lstm = nn.LSTM(config.n_mels, config.hidden, config.layers, batch_first=True)
        self.linear = nn.Linear(config.hidden, config.embedding)
        n_fft = config.sample_rate * config.window_ms // 1000
        self.register_buffer("filters", torch.from_numpy(slaney_filterbank(config.sample_rate, n_fft, config.n_mels)))
        self.register_buffer("window", torch.hann_window(n_fft))

    @classmethod
    def load(cls, path: str | Path | None) -> "SpeakerEncoder":
        """From Resemblyzer's pretrained.pt (a dict whose "model_state" holds lstm.* and linear.*)."""
        if path is None or not Path(path).is_file():
            raise InputError(f"no speaker-encoder weights at {path}; {HOW_TO_GET}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("model_state", state)
        model = cls()
        wanted = {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}
        missing, _ = model.load_state_dict(wanted, strict=False)
        missing = [k for k in missing if k not in ("filters", "window")]
        if missing:
            raise InputError(f"{path} is not a speaker-encoder checkpoint (missing {missing[:3]}); {HOW_TO_GET}")
        return model.eval()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        return nn.functional.normalize(torch.relu(self.linear(hidden[-1])), dim=1)

    def mel_frames(self, samples: np.ndarray) -> torch.Tensor:
        """(F, n_mels) power mel spectrogram of 16 kHz float samples in [-1, 1]."""
        cfg = self.config
        wav = torch.as_tensor(np.asarray(samples, np.float32))
        rms_db = 10 * math.log10(max(float(torch.mean(wav**2)), 1e-20))
        if rms_db < cfg.target_dbfs:
            wav = wav * 10 ** ((cfg.target_dbfs - rms_db) / 20)
        n_fft = len(self.window)
        spec = torch.stft(wav, n_fft, cfg.sample_rate * cfg.step_ms // 1000, window=self.window, center=True, pad_mode="constant", return_complex=True)
        return (self.filters @ spec.abs() ** 2).T

    @torch.no_grad()
    def embed(self, clip: AudioClip) -> np.ndarray:
        """(embedding,) float32 unit vector of a clip (any rate; resampled to 16 kHz)."""
        samples = at_rate(clip, self.config.sample_rate)
        mels = self.mel_frames(samples)
        n = self.config.partial_frames
        if len(mels) < n:
            mels = nn.functional.pad(mels, (0, 0, 0, n - len(mels)))
        starts = range(0, len(mels) - n + 1, n // 2)
        partials = torch.stack([mels[s : s + n] for s in starts])
        mean = self(partials).mean(0)
        return (mean / mean.norm().clamp_min(1e-9)).numpy().astype(np.float32)


def at_rate(clip: AudioClip, sample_rate: int) -> np.ndarray:
    if clip.sample_rate == sample_rate:
        return np.asarray(clip.samples, np.float32)
    from ..io.audio import audio_from_array

    return audio_from_array(clip.samples, clip.sample_rate, sample_rate).samples
