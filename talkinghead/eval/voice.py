"""Voice activity per video frame: silero-vad's network when installed, else a loudness rule.

silero-vad ships its TorchScript model inside the wheel. The package's own Python module sets
torch's thread count at import and its audio helpers want torchaudio (CUDA-linked on PyPI,
broken next to CPU torch), so the model file is located without importing the package and
loaded with torch.jit directly. Install it with: pip install --no-deps silero-vad==6.2.3.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass

import numpy as np

from ..types import AudioClip
from . import metrics

VAD_RATE = 16000
VAD_WINDOW = 512  # samples per silero decision at 16 kHz (32 ms)
SPEECH_PROBABILITY = 0.5  # silero's own default threshold


@dataclass(frozen=True)
class VoiceActivity:
    """voiced: (T,) bool per video frame; method: "silero-vad" or "energy" (which rule decided)."""

    voiced: np.ndarray
    method: str


def silero_model_path() -> str | None:
    """Path of silero-vad's bundled silero_vad.jit, or None when the package is not installed."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "silero_vad.jit")
    return path if os.path.isfile(path) else None


@functools.lru_cache(maxsize=1)
def _silero(path: str):
    import torch

    return torch.jit.load(path, map_location="cpu").eval()


def speech_probability(clip: AudioClip, path: str) -> np.ndarray:
    """(N,) silero speech probability in [0, 1] per 32 ms window of the clip (16 kHz).

    The windows are fed one by one, as silero's own streaming use does: the model's
    `audio_forward` does the same in TorchScript but re-profiles its loop on the first calls
    of every process (measured: 7 s vs 1.2 s for 6 s of audio on this 2-core machine).
    """
    import torch

    samples = _resampled(clip)
    samples = np.pad(samples, (0, -len(samples) % VAD_WINDOW))
    model = _silero(path)
    model.reset_states()
    chunks = torch.from_numpy(samples).reshape(-1, VAD_WINDOW)
    with torch.no_grad():
        return np.array([float(model(chunk[None], VAD_RATE)) for chunk in chunks], dtype=np.float64)


def _resampled(clip: AudioClip) -> np.ndarray:
    """(S,) float32 samples at 16 kHz (linear interpolation; load_audio already gives 16 kHz)."""
    samples = np.asarray(clip.samples, dtype=np.float32)
    if clip.sample_rate == VAD_RATE:
        return samples
    times = np.arange(int(len(samples) * VAD_RATE / clip.sample_rate)) / VAD_RATE
    return np.interp(times, np.arange(len(samples)) / clip.sample_rate, samples).astype(np.float32)


def voice_activity(clip: AudioClip, fps: float, num_frames: int) -> VoiceActivity:
    """Which video frames have speech: silero-vad if installed, else metrics.silent_frames."""
    path = silero_model_path()
    if path is None:
        return VoiceActivity(~metrics.silent_frames(clip, fps, num_frames), "energy")
    probability = speech_probability(clip, path)
    # Each frame takes the decision of the window that holds the middle of its display time.
    centres = ((np.arange(num_frames) + 0.5) / fps * VAD_RATE / VAD_WINDOW).astype(int)
    inside = centres < len(probability)
    voiced = np.zeros(num_frames, dtype=bool)
    voiced[inside] = probability[centres[inside]] >= SPEECH_PROBABILITY
    return VoiceActivity(voiced, "silero-vad")
