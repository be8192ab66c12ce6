"""Log-mel features aligned to video frames, computed with torch (batched, CPU or GPU).

Audio is first brought to a fixed speech level (loudness normalisation), so a quiet and a loud
recording of the same speech give the same features. Each video frame then gets a window of
mel frames centred on it: `frame_windows` returns (T, W, n_mels) for T video frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..types import AudioClip
from .loudness import SILENCE_DBFS, frame_rms_db, speech_level_db


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400
    """25 ms analysis window."""
    hop_length: int = 160
    """10 ms hop: 100 mel frames per second."""
    n_mels: int = 80
    f_min: float = 55.0
    f_max: float = 7600.0
    speech_level_db: float = -20.0
    """Loudness normalisation target: the clip's speech level (90th percentile of its audible
    50 ms frame levels) is moved here."""
    max_gain_db: float = 40.0
    """Never amplify more than this, so near-silent noise is not blown up into 'speech'."""
    window_seconds: float = 0.52
    """Context per video frame: mel frames within +-window/2 of the frame's centre."""

    @property
    def mel_rate(self) -> float:
        return self.sample_rate / self.hop_length

    @property
    def window_frames(self) -> int:
        """W, the number of mel frames in one video frame's window (odd, centred)."""
        return 2 * int(round(self.window_seconds * self.mel_rate / 2)) + 1


def hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(config: MelConfig) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32 triangular filters, equally spaced on the (HTK) mel
    scale between f_min and f_max, each normalised to unit area so bands of any width weigh
    the same."""
    freqs = np.linspace(0.0, config.sample_rate / 2, config.n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(config.f_min), hz_to_mel(config.f_max), config.n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    bank = np.maximum(0.0, np.minimum(rising, falling))
    return (bank * (2.0 / (upper - lower))).astype(np.float32)


def normalise_loudness(clip: AudioClip, config: MelConfig) -> np.ndarray:
    """(S,) float32 samples scaled so the clip's speech level is config.speech_level_db."""
    level = frame_rms_db(clip, 20.0, max(1, int(clip.duration * 20)), 0.05)
    speech = speech_level_db(level)
    if speech <= SILENCE_DBFS:
        return clip.samples.astype(np.float32)  # nothing audible: leave the silence as it is
    gain_db = min(config.speech_level_db - speech, config.max_gain_db)
    return (clip.samples * 10 ** (gain_db / 20)).astype(np.float32)


class LogMel(torch.nn.Module):
    """waveform (B, S) float32 in [-1, 1] -> (B, F, n_mels) float32 log mel power (natural log,
    floored at 1e-5), F = S // hop_length + 1 frames, frame f centred at sample f * hop."""

    def __init__(self, config: MelConfig | None = None):
        super().__init__()
        self.config = config or MelConfig()
        self.register_buffer("filters", torch.from_numpy(mel_filterbank(self.config)), persistent=False)
        self.register_buffer("window", torch.hann_window(self.config.win_length), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        spec = torch.stft(
            waveform, cfg.n_fft, cfg.hop_length, cfg.win_length, self.window, center=True, pad_mode="constant", return_complex=True
        )
        power = spec.real**2 + spec.imag**2  # (B, n_fft // 2 + 1, F)
        mel = torch.einsum("mf,bft->btm", self.filters, power)
        return torch.log(mel.clamp_min(1e-5))


def frame_windows(mel: torch.Tensor, fps: float, num_frames: int, config: MelConfig) -> torch.Tensor:
    """(F, n_mels) log-mel of one clip -> (T, W, n_mels): for each video frame t, the W mel
    frames centred on its middle, (t + 0.5) / fps seconds. Past the ends: the silence floor."""
    w = config.window_frames
    half = w // 2
    floor = math.log(1e-5)
    padded = torch.nn.functional.pad(mel.T, (half, half + 1), value=floor).T  # (F + w, n_mels)
    centres = torch.round((torch.arange(num_frames, device=mel.device) + 0.5) / fps * config.mel_rate).long()
    centres = centres.clamp(max=len(mel))
    index = centres[:, None] + torch.arange(w, device=mel.device)[None]  # (T, W), offset by half
    return padded[index]


def log_mel(clip: AudioClip, config: MelConfig, device: str | torch.device = "cpu") -> torch.Tensor:
    """(F, n_mels) float32 loudness-normalised log-mel of `clip` at config.mel_rate frames per
    second. The clip must be at config.sample_rate."""
    if clip.sample_rate != config.sample_rate:
        raise ValueError(f"audio at {clip.sample_rate} Hz, the features need {config.sample_rate} Hz (load_audio resamples)")
    samples = torch.from_numpy(normalise_loudness(clip, config)).to(device)
    return LogMel(config).to(device)(samples[None])[0]


def audio_windows(clip: AudioClip, fps: float, config: MelConfig | None = None, device: str | torch.device = "cpu") -> torch.Tensor:
    """(T, W, n_mels) float32 loudness-normalised log-mel windows, one per video frame of `clip`
    at `fps` (T = clip.num_frames(fps)). The clip must be at config.sample_rate."""
    config = config or MelConfig()
    return frame_windows(log_mel(clip, config, device), fps, clip.num_frames(fps), config)
