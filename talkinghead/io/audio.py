"""Decoding audio from any file ffmpeg reads, converting numpy arrays, and writing WAV."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import wave
from contextvars import ContextVar
from math import gcd
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..types import AudioClip
from .scoped import scoped

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


OVERRIDE = "raise the limit with load_audio(max_seconds=N) or `with duration_limit(N)` (0 = no limit)"


class AudioTooLongError(InputError):
    """Sound longer than the limit, found from the header or while decoding (then stopped).

    name: the file; seconds: the length its header states, or None when decoding was stopped
    past the limit. Made by `of`; the message alone is enough to remake it with another text.
    """

    def __init__(self, message: str, name: str = "", seconds: float | None = None, limit: float = 0.0):
        super().__init__(message)
        self.name, self.seconds, self.limit = name, seconds, limit

    @classmethod
    def of(cls, name: str, seconds: float | None, limit: float, how: str = OVERRIDE) -> "AudioTooLongError":
        """how: the words that tell the user how to raise the limit (front ends name their flag)."""
        length = f"lasts {seconds:.1f} s, longer than" if seconds is not None else "lasts longer than"
        stopped = "" if seconds is not None else " (decoding was stopped there)"
        message = f"{name}: the sound {length} the limit of {limit:g} s{stopped}; use a shorter clip, or {how}"
        return cls(message, name, seconds, limit)


# Decoders give a little more than the header states (encoder delay and padding): decoding is
# stopped only this far past the limit, so a clip the header check let through is not refused.
DECODE_SLACK_SECONDS = 0.5
_READ_BYTES = 1 << 20

# The limit load_audio applies when its caller passes none: none, unless a front end set one
# for the duration of a call with `duration_limit(s)` (pipelines call load_audio without one).
_current_limit: ContextVar[float] = ContextVar("talkinghead_max_audio_seconds", default=0.0)


def duration_limit(max_seconds: float | None):
    """Within the block, load_audio refuses sound longer than `max_seconds` (0 or None: no limit)."""
    return scoped(_current_limit, float(max_seconds or 0))


def probe_seconds(path: str | Path) -> float | None:
    """The duration the file's header states (`ffmpeg -i`, nothing decoded); None when it
    states none (raw streams, some webm). Raises InputError when the file is missing."""
    _check_file(path)
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", ffmpeg_file_arg(path)]
    # Without an output ffmpeg exits with 1 after printing the header, so the code means nothing.
    log = subprocess.run(command, capture_output=True, check=False).stderr.decode("utf-8", "replace")
    match = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", log)
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def check_seconds(path: str | Path, max_seconds: float | None = None, sample_rate: int = 8000) -> float:
    """The sound's length, checked against `max_seconds` (None: the current limit, 0: none).

    From the header when it states one; otherwise the file is decoded at `sample_rate` and
    counted (nothing is kept), stopping past the limit. Raises AudioTooLongError when longer,
    InputError when unreadable.
    """
    limit = _limit(max_seconds)
    seconds = _header_seconds(path, limit)
    if seconds is None:
        _, count = _decode(path, sample_rate, "s16le", limit, keep=False)
        seconds = count / 2 / sample_rate
    return seconds


def _header_seconds(path: str | Path, limit: float) -> float | None:
    """probe_seconds, with AudioTooLongError when that is over `limit` (0: none)."""
    seconds = probe_seconds(path)
    if limit and seconds is not None and seconds > limit:
        raise AudioTooLongError.of(str(path), seconds, limit)
    return seconds


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


def _limit(max_seconds: float | None) -> float:
    return _current_limit.get() if max_seconds is None else float(max_seconds)


def _check_file(path: str | Path) -> None:
    if not os.path.exists(path):
        raise InputError(f"{path}: cannot read audio (file not found)")
    if not os.path.isfile(path):
        raise InputError(f"{path}: cannot read audio (not a file)")


def load_audio(path: str | Path, sample_rate: int = 16000, max_seconds: float | None = None) -> AudioClip:
    """Decode the first audio track of any file ffmpeg reads (wav, flac, mp3, m4a, ogg, mp4, ...).

    Stereo is averaged to mono (surround down-mixed without gain above 1) and resampled to
    `sample_rate` in the same step.
    max_seconds: refuse longer sound (AudioTooLongError): checked from the header before
        decoding, and while decoding (stopped just past the limit) for headers that state no
        length or a wrong one. None: the current limit (none unless duration_limit set one);
        0: no limit.
    Returns an AudioClip with (S,) float32 samples in [-1, 1] and `path` set, so writers can
    mux the original audio instead of a re-encoded copy.
    Raises InputError naming the file when it is missing, undecodable or empty.
    """
    name = str(path)
    limit = _limit(max_seconds)
    if limit:
        _header_seconds(path, limit)
    _check_file(path)
    data, _ = _decode(path, sample_rate, "f32le", limit)
    samples = np.frombuffer(data, dtype="<f4")
    if samples.size == 0:
        raise InputError(f"{name}: contains no audio samples")
    # Lossy decoders overshoot slightly past full scale; AudioClip promises [-1, 1].
    samples = np.clip(samples, -1.0, 1.0).astype(np.float32)
    return AudioClip(samples=samples, sample_rate=int(sample_rate), path=name)


def _decode(path: str | Path, sample_rate: int, sample_format: str, limit: float, keep: bool = True) -> tuple[bytearray, int]:
    """(mono samples as raw bytes, their byte count) from ffmpeg. Past `limit` seconds (plus
    the slack; 0: no limit) ffmpeg is stopped and AudioTooLongError raised, so a file whose
    header lies costs no more memory than the limit. keep=False: counted only, nothing kept."""
    command = [
        ffmpeg_exe(), "-nostdin", "-v", "error",
        "-i", ffmpeg_file_arg(path),
        "-vn", "-ac", "1", "-ar", str(int(sample_rate)),
        # Without this ffmpeg mixes stereo as 0.707 * (L + R), which peaks at 1.41 for a loud
        # centred voice and would then be clipped; a gain limit of 1 makes it the mean.
        "-rematrix_maxval", "1.0",
        "-f", sample_format, "-",
    ]  # fmt: skip
    width = 4 if sample_format == "f32le" else 2
    most = int((limit + DECODE_SLACK_SECONDS) * sample_rate) * width if limit else None
    # stderr goes to a file: a pipe nobody reads while stdout is read could fill and hang ffmpeg.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        data, count = _read_output(process, most, keep)
        code = process.wait()
        errors.seek(0)
        report = errors.read()
        message = last_line(report)
    if most is not None and count > most:
        raise AudioTooLongError.of(str(path), None, limit)
    if code != 0:
        if b"does not contain any stream" in report:  # ffmpeg's last line then only says it could not write
            message = "no audio track: is it an image?" if Path(path).suffix.lower() in IMAGE_SUFFIXES else "no audio track"
        raise InputError(f"{path}: cannot read audio ({message})")
    return data, count


def _read_output(process: subprocess.Popen, most: int | None, keep: bool) -> tuple[bytearray, int]:
    """(the bytes read, how many) from ffmpeg's stdout, killing it once past `most` bytes."""
    data, count = bytearray(), 0
    try:
        while chunk := process.stdout.read(_READ_BYTES):
            count += len(chunk)
            if keep:
                data += chunk
            if most is not None and count > most:
                process.kill()
                break
    except BaseException:  # Ctrl-C or a failed allocation: leave no ffmpeg behind
        process.kill()
        process.wait()
        raise
    finally:
        process.stdout.close()
    return data, count


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
    except AudioTooLongError:
        raise  # too long is not the same as silent
    except InputError:
        return None
    return clip if len(clip.samples) and float(np.abs(clip.samples).max()) > SILENT_PEAK else None
