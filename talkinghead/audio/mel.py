"""Log-mel features aligned to video frames, computed with torch (batched, CPU or GPU).

Audio is first brought to a fixed speech level (loudness normalisation), so a quiet and a loud
recording of the same speech give the same features. Each video frame then gets a window of
mel frames centred on it: `frame_windows` returns (T, W, n_mels) for T video frames.

Memory must not grow faster than the clip's few per-frame numbers: the STFT (2 KB per mel
frame) and the windows (17 KB per video frame) would reach gigabytes for an hour of speech. So
`log_mel` runs the STFT chunk by chunk, and models call `map_windows` (or `map_chunks`), which
builds the windows and runs the network over `MelConfig.chunk_seconds` of frames at a time,
each chunk with enough neighbouring frames for the network's temporal reach that the kept
centre rows equal a whole-clip run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

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
    chunk_seconds: float = 10.0
    """Long clips are processed this much at a time (STFT, per-frame windows, the networks on
    them), so peak memory does not depend on the clip's length. Results do not depend on it
    (up to float rounding): each chunk carries the context its computation needs. 10 s: the
    networks' working set per chunk (about 1.7 MB a second of chunk for audio2exp) stays small
    beside the clip's own samples, and 250 frames a batch are still efficient."""

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


def loudness_gain(clip: AudioClip, config: MelConfig) -> float:
    """The factor that moves the clip's speech level to config.speech_level_db (at most
    config.max_gain_db up); 1 for a clip with nothing audible (silence is left as it is)."""
    level = frame_rms_db(clip, 20.0, max(1, int(clip.duration * 20)), 0.05, chunk_seconds=config.chunk_seconds)
    speech = speech_level_db(level)
    if speech <= SILENCE_DBFS:
        return 1.0
    return 10 ** (min(config.speech_level_db - speech, config.max_gain_db) / 20)


def normalise_loudness(clip: AudioClip, config: MelConfig) -> np.ndarray:
    """(S,) float32 samples scaled so the clip's speech level is config.speech_level_db."""
    return np.multiply(clip.samples, np.float32(loudness_gain(clip, config)), dtype=np.float32)


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
        return self.log_power(spec)

    def span(self, samples: torch.Tensor, start: int, stop: int, gain: float = 1.0) -> torch.Tensor:
        """(S,) float32 samples of a whole clip -> (stop - start, n_mels): rows start..stop of
        `forward(gain * samples[None])[0]`, reading only the samples those frames cover."""
        cfg = self.config
        half = cfg.n_fft // 2
        first, last = start * cfg.hop_length - half, (stop - 1) * cfg.hop_length + half  # [first, last) in samples
        piece = samples[max(first, 0) : max(min(last, len(samples)), 0)] * torch.tensor(gain, dtype=samples.dtype)
        # The zeros that center=True would add at the clip's ends, and only there.
        piece = torch.nn.functional.pad(piece, (max(-first, 0), last - first - len(piece) - max(-first, 0)))
        spec = torch.stft(piece[None], cfg.n_fft, cfg.hop_length, cfg.win_length, self.window, center=False, return_complex=True)
        return self.log_power(spec)[0]

    def log_power(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, n_fft // 2 + 1, F) complex STFT -> (B, F, n_mels) log mel power."""
        power = spec.real**2 + spec.imag**2
        mel = torch.einsum("mf,bft->btm", self.filters, power)
        return torch.log(mel.clamp_min(1e-5))


def frame_windows(
    mel: torch.Tensor, fps: float, num_frames: int, config: MelConfig, start: int = 0, stop: int | None = None
) -> torch.Tensor:
    """(F, n_mels) log-mel of one clip -> (T, W, n_mels): for each video frame t, the W mel
    frames centred on its middle, (t + 0.5) / fps seconds. Past the ends: the silence floor.

    start, stop: only frames start..stop (default: all num_frames), (stop - start, W, n_mels),
    so that a long clip's windows can be built a chunk at a time (see map_windows)."""
    stop = num_frames if stop is None else stop
    w = config.window_frames
    if stop <= start:
        return mel.new_zeros((0, w, mel.shape[1]))
    centres = torch.round((torch.arange(start, stop, device=mel.device) + 0.5) / fps * config.mel_rate).long()
    centres = centres.clamp(max=len(mel))
    index = centres[:, None] + torch.arange(w, device=mel.device)[None] - w // 2  # (t, W) into mel, may lie outside
    # Pad only the slice these windows read (a copy of the whole clip per chunk would cost
    # O(clip) time per chunk).
    first, last = int(index[0, 0]), int(index[-1, -1]) + 1
    piece = mel[max(first, 0) : max(min(last, len(mel)), 0)]
    before = max(-first, 0)
    piece = torch.nn.functional.pad(piece.T, (before, last - first - len(piece) - before), value=math.log(1e-5)).T
    return piece[index - first]


def chunk_spans(total: int, chunk: int, context: int) -> list[tuple[int, int, int, int]]:
    """(lo, start, stop, hi) per chunk: rows start..stop of range(total), `chunk` at a time, and
    the rows lo..hi a computation needs for them, `context` more either side (clipped to the
    range)."""
    chunk = max(1, int(chunk))
    return [
        (max(start - context, 0), start, min(start + chunk, total), min(start + chunk + context, total))
        for start in range(0, total, chunk)
    ]


def map_chunks(fn: Callable[[int, int], torch.Tensor], total: int, chunk: int, context: int) -> torch.Tensor:
    """(total, ...) = fn over range(total) in chunks: fn(lo, hi) gives (hi - lo, ...) rows, of
    which each chunk's own rows are kept. Equals fn(0, total) when a row depends on at most
    `context` rows either side (and on nothing else about the range)."""
    out = None  # filled in place: a list of parts and their concatenation would hold it twice
    for lo, start, stop, hi in chunk_spans(total, chunk, context):
        part = fn(lo, hi)[start - lo : stop - lo]
        out = part.new_empty((total, *part.shape[1:])) if out is None else out
        out[start:stop] = part
    if out is None:
        raise ValueError("map_chunks needs at least one row (total >= 1)")
    return out


def map_windows(
    fn: Callable[[torch.Tensor], torch.Tensor], mel: torch.Tensor, fps: float, num_frames: int, config: MelConfig, context: int
) -> torch.Tensor:
    """fn: (t, W, n_mels) windows of t consecutive frames -> (t, ...) per frame, run over the
    clip's num_frames frames config.chunk_seconds at a time, each chunk with `context` frames
    either side: (num_frames, ...), as fn(frame_windows(mel, ...)) without ever holding the
    whole clip's windows. context: how many neighbouring frames a row of fn's output depends
    on, each side (see temporal_context)."""
    chunk = int(round(config.chunk_seconds * fps))
    return map_chunks(lambda lo, hi: fn(frame_windows(mel, fps, num_frames, config, lo, hi)), num_frames, chunk, context)


def temporal_context(module: torch.nn.Module) -> int:
    """How many neighbouring steps either side one output of a stack of stride-1, 'same'-padded
    Conv1d layers (`module`'s, in sequence) depends on: the sum of their half reaches."""
    convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv1d)]
    if any(c.stride[0] != 1 or 2 * c.padding[0] != c.dilation[0] * (c.kernel_size[0] - 1) for c in convs):
        raise ValueError("temporal_context needs stride-1 convolutions padded to keep the length")
    return sum(c.dilation[0] * (c.kernel_size[0] - 1) // 2 for c in convs)


def log_mel(clip: AudioClip, config: MelConfig, device: str | torch.device = "cpu") -> torch.Tensor:
    """(F, n_mels) float32 loudness-normalised log-mel of `clip` at config.mel_rate frames per
    second (F = S // hop_length + 1), computed config.chunk_seconds at a time. The clip must be
    at config.sample_rate."""
    if clip.sample_rate != config.sample_rate:
        raise ValueError(f"audio at {clip.sample_rate} Hz, the features need {config.sample_rate} Hz (load_audio resamples)")
    # The loudness gain is applied chunk by chunk: no normalised copy of the whole clip.
    gain = loudness_gain(clip, config)
    samples = torch.from_numpy(np.asarray(clip.samples, dtype=np.float32)).to(device)
    transform = LogMel(config).to(device)
    total = len(samples) // config.hop_length + 1
    # Each STFT frame reads its own samples only, so the chunks need no context rows.
    return map_chunks(lambda lo, hi: transform.span(samples, lo, hi, gain), total, int(config.chunk_seconds * config.mel_rate), 0)


def audio_windows(clip: AudioClip, fps: float, config: MelConfig | None = None, device: str | torch.device = "cpu") -> torch.Tensor:
    """(T, W, n_mels) float32 loudness-normalised log-mel windows, one per video frame of `clip`
    at `fps` (T = clip.num_frames(fps)). The clip must be at config.sample_rate. This holds the
    whole clip's windows (17 KB per frame): for training on short clips; inference on clips of
    any length goes through map_windows."""
    config = config or MelConfig()
    return frame_windows(log_mel(clip, config, device), fps, clip.num_frames(fps), config)
