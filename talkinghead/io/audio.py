"""Decoding audio from any file ffmpeg reads, converting numpy arrays, and writing WAV."""

from __future__ import annotations

import os
import subprocess
import wave
from math import gcd
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..types import AudioClip

MAX_CHANNELS = 8


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg (or $IMAGEIO_FFMPEG_EXE)."""
    # Imported here so that importing this module stays cheap for code that never decodes.
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_file_arg(path: str | Path) -> str:
    """A local path spelled so ffmpeg cannot mistake it for an option or a URL.

    Names such as "-take1.wav" or "clip:2.wav" would otherwise be read as an option or as a
    protocol; the "file:" prefix with an absolute path is unambiguous.
    """
    return "file:" + os.path.abspath(os.fspath(path))


def last_line(text: bytes | str) -> str:
    """The last non-empty line of ffmpeg's stderr, the one that usually says what went wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no error message"


def load_audio(path: str | Path, sample_rate: int = 16000) -> AudioClip:
    """Decode the first audio track of any file ffmpeg reads (wav, flac, mp3, m4a, ogg, mp4, ...).

    Stereo is averaged to mono (surround down-mixed without gain above 1) and resampled to
    `sample_rate` in the same step.
    Returns an AudioClip with (S,) float32 samples in [-1, 1] and `path` set, so writers can
    mux the original audio instead of a re-encoded copy.
    Raises InputError naming the file when it is missing, undecodable or empty.
    """
    name = str(path)
    if not os.path.exists(path):
        raise InputError(f"{name}: cannot read audio (file not found)")
    if not os.path.isfile(path):
        raise InputError(f"{name}: cannot read audio (not a file)")
    command = [
        ffmpeg_exe(), "-nostdin", "-v", "error",
        "-i", ffmpeg_file_arg(path),
        "-vn", "-ac", "1", "-ar", str(int(sample_rate)),
        # Without this ffmpeg mixes stereo as 0.707 * (L + R), which peaks at 1.41 for a loud
        # centred voice and would then be clipped; a gain limit of 1 makes it the mean.
        "-rematrix_maxval", "1.0",
        "-f", "f32le", "-",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        message = last_line(result.stderr)
        if "does not contain any stream" in message:
            message = "no audio track"
        raise InputError(f"{name}: cannot read audio ({message})")
    samples = np.frombuffer(result.stdout, dtype="<f4")
    if samples.size == 0:
        raise InputError(f"{name}: contains no audio samples")
    # Lossy decoders overshoot slightly past full scale; AudioClip promises [-1, 1].
    samples = np.clip(samples, -1.0, 1.0).astype(np.float32)
    return AudioClip(samples=samples, sample_rate=int(sample_rate), path=name)


def audio_from_array(samples: np.ndarray, sample_rate: int, target_rate: int = 16000) -> AudioClip:
    """Turn an in-memory signal into a mono AudioClip at `target_rate`.

    samples: (S,), (S, C) or (C, S) with C <= 8 channels (averaged to mono); float in [-1, 1],
        or int16 / int32 / uint8 PCM (scaled to [-1, 1]).
    Returns an AudioClip with (S',) float32 samples in [-1, 1] and no path.
    """
    if sample_rate <= 0 or target_rate <= 0:
        raise InputError(f"sample rates must be positive, got {sample_rate} and {target_rate}")
    mono = _to_mono(_to_float(np.asarray(samples)))
    if mono.size == 0:
        raise InputError("audio array contains no samples")
    if sample_rate != target_rate:
        mono = _resample(mono, int(sample_rate), int(target_rate))
    mono = np.clip(np.nan_to_num(mono), -1.0, 1.0).astype(np.float32)
    return AudioClip(samples=mono, sample_rate=int(target_rate))


def _to_float(samples: np.ndarray) -> np.ndarray:
    """Samples as float64 in about [-1, 1], whatever PCM type they came in."""
    if samples.dtype == np.int16:
        return samples / 32768.0
    if samples.dtype == np.int32:
        return samples / 2147483648.0
    if samples.dtype == np.uint8:
        return (samples.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(samples.dtype, np.floating):
        return samples.astype(np.float64)
    raise InputError(f"audio array has unsupported dtype {samples.dtype}")


def _to_mono(samples: np.ndarray) -> np.ndarray:
    """(S,) mean over channels of a (S,), (S, C) or (C, S) array."""
    if samples.ndim == 1:
        return samples
    if samples.ndim != 2:
        raise InputError(f"audio array must be (S,), (S, C) or (C, S), got shape {samples.shape}")
    rows, cols = samples.shape
    # The channel axis is the short one; (S, C) wins a tie because it is the common layout.
    if cols <= MAX_CHANNELS and cols <= rows:
        return samples.mean(axis=1)
    if rows <= MAX_CHANNELS:
        return samples.mean(axis=0)
    raise InputError(f"audio array shape {samples.shape} has more than {MAX_CHANNELS} channels")


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    from scipy.signal import resample_poly

    divisor = gcd(rate, target)
    return resample_poly(samples, target // divisor, rate // divisor)


def write_wav(path: str | Path, clip: AudioClip) -> None:
    """Write a clip as mono 16-bit PCM WAV (samples are clipped to [-1, 1])."""
    pcm = np.clip(np.asarray(clip.samples, dtype=np.float64), -1.0, 1.0)
    pcm = np.round(pcm * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(clip.sample_rate))
        out.writeframes(pcm.tobytes())


# Audio that never rises above this peak is treated as no audio (e.g. a muted track).
SILENT_PEAK = 1e-4


def load_video_audio(path: str | Path, sample_rate: int = 16000) -> AudioClip | None:
    """The audio track of a video, or None when it has none or it is silent throughout."""
    try:
        clip = load_audio(path, sample_rate)
    except InputError:
        return None
    return clip if len(clip.samples) and float(np.abs(clip.samples).max()) > SILENT_PEAK else None
