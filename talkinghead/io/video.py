"""Writing H.264 mp4 files from rendered chunks, and reading videos frame by frame.

Everything goes through the ffmpeg binary bundled with imageio-ffmpeg. Frames are piped to
ffmpeg as raw RGB while they are rendered, so memory stays constant however long the video.
Outputs are written to a hidden ".NAME.partial-PID.SUFFIX" file next to the target and renamed
only once ffmpeg has succeeded, so an interrupted run never leaves a half-written video.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import InputError, TalkingHeadError
from ..types import AudioClip, RenderedChunk
from .audio import ffmpeg_exe, ffmpeg_file_arg, last_line, write_wav
from .background import iterate_in_background
from .image import limit_size

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
#: videos read as input (training clips, real videos for datasets); outputs are VIDEO_SUFFIXES
INPUT_VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
AUDIO_BITRATE = "128k"


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg reports about a video file.

    width, height: size of the decoded frames in pixels (after any rotation metadata).
    num_frames: round(duration * fps), which can be off by a frame or two for some files.
    video_codec, pix_fmt, audio_codec: ffmpeg's names, e.g. "h264", "yuv420p", "aac";
        audio_codec is "" when there is no audio track.
    """

    fps: float
    num_frames: int
    width: int
    height: int
    duration: float
    has_audio: bool
    video_codec: str = ""
    pix_fmt: str = ""
    audio_codec: str = ""


def check_output_path(path: str | Path) -> Path:
    """Validate where a video will be written before any work starts.

    Returns the path; raises InputError when its folder does not exist or its suffix is not
    .mp4, .mov or .mkv.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(f"{path}: output video must end in {', '.join(VIDEO_SUFFIXES)}")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: output video path is a folder")
    check_writable(folder)
    return path


def check_writable(folder: Path) -> None:
    """InputError unless a file can be created in `folder` (read-only, permissions, /proc):
    found now instead of after the whole render."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".talkinghead-write-check-"):
            pass
    except OSError as exc:
        raise InputError(f"cannot write to the output folder {folder} ({exc.strerror or exc})") from None


@dataclass(frozen=True)
class Encoding:
    """How one output stream is compressed.

    codec: "h264" (libx264, yuv420p; crf 0 encodes the yuv420p frames losslessly) or "ffv1"
        (lossless gray, for masks that compression must not blur; put it in an .mkv).
    crf: x264 quality, 0 (lossless) to 51; ignored by ffv1.
    preset: x264 speed preset ("veryfast", "medium", ...).
    """

    codec: str = "h264"
    crf: int = 16
    preset: str = "veryfast"


@dataclass(frozen=True)
class VideoTarget:
    """One file written from the rendered chunks: their frames (with the audio) or their masks."""

    path: Path
    masks: bool = False
    encoding: Encoding = Encoding()


def write_video(
    path: str | Path,
    chunks: Iterable[RenderedChunk],
    *,
    fps: float,
    audio: AudioClip | None = None,
    masks_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    crf: int = 16,
    preset: str = "veryfast",
    metadata: dict[str, str] | None = None,
) -> Path:
    """Encode rendered chunks as an H.264 (yuv420p) video, with the audio muxed in as AAC.

    chunks: RenderedChunk with frames (n, H, W, 3) uint8 RGB and masks (n, H, W) uint8; every
        frame supplied becomes exactly one video frame. Odd sizes are padded to even ones by
        repeating the last row / column, as yuv420p needs.
    audio: muxed from `audio.path` when that file exists (no second lossy generation of the
        samples), otherwise from the samples. Only the first `audio.duration` seconds are used.
    masks_path: if given, the masks are written as a second, gray-looking H.264 video.
    progress: called with the number of frames written so far after each chunk.
    crf: x264 quality; 16 keeps moving faces sharp (measured: face sharpness 0.86 of the
        rendered frames' at 16, 0.80 at 18, for about 1.5x the file size).
    metadata: container tags (key -> text) written into both files, e.g. the provenance;
        `read_metadata` reads them back.
    Returns the final path. On any error or interrupt nothing is left at either path.
    """
    encoding = Encoding(crf=crf, preset=preset)
    targets = [VideoTarget(Path(path), encoding=encoding)]
    if masks_path is not None:
        targets.append(VideoTarget(Path(masks_path), masks=True, encoding=encoding))
    write_videos(targets, chunks, fps=fps, audio=audio, progress=progress, metadata=metadata)
    return targets[0].path.expanduser()


def write_videos(
    targets: list[VideoTarget],
    chunks: Iterable[RenderedChunk],
    *,
    fps: float,
    audio: AudioClip | None = None,
    progress: Callable[[int], None] | None = None,
    metadata: dict[str, str] | None = None,
) -> int:
    """Encode one stream of rendered chunks into several files at once (each compression of a
    forgery dataset and its lossless masks, say), so the frames are rendered only once.

    The frame targets get `audio` (AAC); every target gets `metadata`. Returns the number of
    frames written. All files appear together at the end; on any error or interrupt none is
    left at its path (see write_video for the chunks and audio).
    """
    paths = [check_output_path(target.path) for target in targets]
    resolved = [path.resolve() for path in paths]
    twice = next((path for i, path in enumerate(paths) if resolved[i] in resolved[:i]), None)
    if twice is not None:
        raise InputError(f"{twice}: two of the outputs (the video and the masks?) would be the same file")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    targets = [VideoTarget(path, t.masks, t.encoding) for path, t in zip(paths, targets)]
    settings = _Settings(fps=fps, metadata=tuple((metadata or {}).items()))
    encoders: list[_Encoder] = []
    temp_files: list[Path] = []
    try:
        audio_args = _audio_input(audio, temp_files) if audio is not None else []
        written = _encode(iterate_in_background(chunks), targets, settings, audio_args, encoders, progress)
        for encoder in encoders:
            encoder.finish()
        for encoder in encoders:
            encoder.commit()
    except BaseException:
        # BaseException so that Ctrl-C and a generator closed mid-way also clean up.
        for encoder in encoders:
            encoder.abort()
        raise
    finally:
        for temp in temp_files:
            with suppress(OSError):
                temp.unlink(missing_ok=True)
    return written


@dataclass(frozen=True)
class _Settings:
    fps: float
    metadata: tuple[tuple[str, str], ...] = ()


def _encode(
    chunks: Iterable[RenderedChunk],
    targets: list[VideoTarget],
    settings: _Settings,
    audio_args: list[str],
    encoders: list[_Encoder],
    progress: Callable[[int], None] | None,
) -> int:
    """Pipe every chunk into the encoders, which are started (into `encoders`) on the first one."""
    written = 0
    size: tuple[int, int] | None = None
    for chunk in chunks:
        frames, masks = _frames_of(chunk)
        if size is None:
            size = frames.shape[1:3]
            encoders.extend(_encoder(target, size, settings, audio_args) for target in targets)
        elif frames.shape[1:3] != size:
            raise ValueError(f"frame size changed from {size} to {frames.shape[1:3]} at frame {written}")
        for target, encoder in zip(targets, encoders):
            encoder.write(masks if target.masks else frames)
        written += len(frames)
        if progress is not None:
            progress(written)
    if written == 0:
        raise InputError(f"{targets[0].path}: no frames to write")
    return written


def _frames_of(chunk: RenderedChunk) -> tuple[np.ndarray, np.ndarray]:
    """Frames (n, H', W', 3) and masks (n, H', W') of a chunk, uint8, padded to even H', W'."""
    frames, masks = chunk.frames, chunk.masks
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (n, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if masks.dtype != np.uint8 or masks.shape != frames.shape[:3]:
        raise ValueError(f"masks must be {frames.shape[:3]} uint8, got {masks.shape} {masks.dtype}")
    return _pad_even(frames), _pad_even(masks)


def _pad_even(array: np.ndarray) -> np.ndarray:
    """Repeat the last row / column of (n, H, W, ...) so that H and W are even."""
    pad_h, pad_w = array.shape[1] % 2, array.shape[2] % 2
    if not (pad_h or pad_w):
        return array
    widths = [(0, 0), (0, pad_h), (0, pad_w)] + [(0, 0)] * (array.ndim - 3)
    return np.pad(array, widths, mode="edge")


def _audio_input(audio: AudioClip, temp_files: list[Path]) -> list[str]:
    """ffmpeg input arguments for the clip's audio; a temporary WAV is added to `temp_files`."""
    source = Path(audio.path) if audio.path else None
    if source is None or not source.is_file():
        handle, name = tempfile.mkstemp(prefix="talkinghead-", suffix=".wav")
        os.close(handle)
        source = Path(name)
        temp_files.append(source)
        write_wav(source, audio)
    # -t trims the source to the clip, in case the clip was cut after it was loaded.
    return ["-t", f"{audio.duration:.6f}", "-i", ffmpeg_file_arg(source)]


def _raw_input(size: tuple[int, int], pix_fmt: str, fps: float) -> list[str]:
    """ffmpeg arguments that read raw frames of `size` (H, W) from stdin."""
    rate = Fraction(fps).limit_denominator(1001)
    height, width = size
    return ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{width}x{height}",
            "-framerate", f"{rate.numerator}/{rate.denominator}", "-i", "pipe:0"]  # fmt: skip


def _video_output(path: Path, encoding: Encoding, settings: _Settings) -> list[str]:
    """ffmpeg output arguments for one video stream (H.264 yuv420p or lossless FFV1 gray)."""
    if encoding.codec == "ffv1":
        args = ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "gray"]
    elif encoding.codec == "h264":
        args = ["-c:v", "libx264", "-preset", encoding.preset, "-crf", str(encoding.crf),
                "-pix_fmt", "yuv420p",
                # ffmpeg converts RGB with the BT.601 matrix; saying so stops players guessing.
                "-colorspace", "smpte170m", "-color_range", "tv"]  # fmt: skip
    else:
        raise ValueError(f"unknown codec {encoding.codec!r}: h264 or ffv1")
    if path.suffix.lower() in (".mp4", ".mov"):
        # The index goes at the front so that players can start before the whole file loads;
        # use_metadata_tags lets the mp4 muxer keep our own keys, not only iTunes' few.
        args += ["-movflags", "+faststart+use_metadata_tags" if settings.metadata else "+faststart"]
    for key, value in settings.metadata:
        args += ["-metadata", f"{key}={value}"]
    return args


def _encoder(target: VideoTarget, size: tuple[int, int], settings: _Settings, audio_args: list[str]) -> _Encoder:
    if target.masks:
        # One byte per pixel on the pipe; H.264 spreads it into yuv420p with neutral chroma.
        inputs = _raw_input(size, "gray", settings.fps)
        return _Encoder(target.path, inputs + ["-map", "0:v:0"] + _video_output(target.path, target.encoding, settings))
    inputs = _raw_input(size, "rgb24", settings.fps) + audio_args
    outputs = ["-map", "0:v:0"] + _video_output(target.path, target.encoding, settings)
    if audio_args:
        # Mapped after the video so that the video is stream 0, as most tools expect.
        outputs += ["-map", "1:a:0", "-c:a", "aac", "-b:a", AUDIO_BITRATE]
    return _Encoder(target.path, inputs + outputs)


class _Encoder:
    """One ffmpeg process turning frames written to its stdin into a file, atomically.

    The file is written as a hidden ".NAME.partial-PID.SUFFIX" sibling; `commit` renames it,
    `abort` kills ffmpeg and deletes it.
    """

    def __init__(self, path: Path, args: list[str]) -> None:
        self.path = path
        # The process id keeps two writers of one file (a worker left over from a killed run
        # and its rerun) from writing into each other's partial file.
        self.partial = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
        # stderr goes to a file, not a pipe: a pipe nobody reads could fill up and stall ffmpeg.
        self._log = tempfile.TemporaryFile()
        command = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args, ffmpeg_file_arg(self.partial)]
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log
            )
        except BaseException:
            self._log.close()
            raise

    def write(self, frames: np.ndarray) -> None:
        """Send (n, H, W[, 3]) uint8 frames to ffmpeg (blocks while ffmpeg catches up)."""
        try:
            self._process.stdin.write(np.ascontiguousarray(frames).tobytes())
        except BrokenPipeError:
            # ffmpeg quit early; its log says why.
            self._process.wait()
            raise self._failure() from None

    def finish(self) -> None:
        """Signal the end of the frames and wait until ffmpeg has written the file."""
        with suppress(BrokenPipeError):
            # ffmpeg may already have quit; its exit code below tells whether that was a failure.
            self._process.stdin.close()
        if self._process.wait() != 0:
            raise self._failure()

    def commit(self) -> None:
        """Move the finished file to its final name."""
        os.replace(self.partial, self.path)
        self._log.close()

    def abort(self) -> None:
        """Stop ffmpeg and remove anything it wrote."""
        if self._process.poll() is None:
            self._process.kill()
        with suppress(OSError):
            # Closing flushes buffered frames into a dead pipe, which fails; nothing is lost.
            self._process.stdin.close()
        self._process.wait()
        with suppress(OSError):  # a read-only or vanished folder: nothing was left there either
            self.partial.unlink(missing_ok=True)
        self._log.close()

    def _failure(self) -> TalkingHeadError:
        self._log.seek(0)
        message = last_line(self._log.read())
        return TalkingHeadError(f"{self.path}: ffmpeg could not write the video ({message})")


def read_metadata(path: str | Path) -> dict[str, str]:
    """The container tags of a media file (key -> text), as ffprobe's format tags show them."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: cannot read metadata (file not found)")
    command = [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", ffmpeg_file_arg(path), "-f", "ffmetadata", "-"]
    run = subprocess.run(command, capture_output=True, check=False)
    if run.returncode != 0:
        raise InputError(f"{path}: cannot read metadata ({last_line(run.stderr.decode('utf-8', 'replace'))})")
    return _parse_ffmetadata(run.stdout.decode("utf-8", "replace"))


def _parse_ffmetadata(text: str) -> dict[str, str]:
    """The global section of ffmpeg's FFMETADATA1 format; '=', ';', '#', '\\' and newlines in it
    are escaped with a backslash."""
    tags, key, value, in_value, escaped = {}, [], [], False, False
    for char in text.split("\n", 1)[1] if text.startswith(";FFMETADATA") else text:
        if escaped:
            (value if in_value else key).append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "=" and not in_value:
            in_value = True
        elif char == "\n":
            if in_value:
                tags["".join(key)] = "".join(value)
            elif "".join(key).startswith("["):
                break  # the first stream or chapter section: the global tags are over
            key, value, in_value = [], [], False
        else:
            (value if in_value else key).append(char)
    if in_value:
        tags["".join(key)] = "".join(value)
    return tags


def probe_video(path: str | Path) -> VideoInfo:
    """Size, frame rate, duration and codecs of a video file, from ffmpeg's header dump.

    Raises InputError naming the file when it is missing, unreadable or has no video track.
    """
    name = str(path)
    if not os.path.isfile(path):
        raise InputError(f"{name}: cannot read video (file not found)")
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", ffmpeg_file_arg(path)]
    # Without an output ffmpeg exits with 1 after printing the header, so the code means nothing.
    log = subprocess.run(command, capture_output=True, check=False).stderr.decode("utf-8", "replace")
    if "Input #0" not in log:
        raise InputError(f"{name}: cannot read video ({last_line(log)})")
    return _parse_header(name, log)


def _parse_header(name: str, log: str) -> VideoInfo:
    """VideoInfo from the text `ffmpeg -i FILE` prints to stderr."""
    streams = [line for line in log.splitlines() if line.lstrip().startswith("Stream #")]
    videos = [line for line in streams if " Video: " in line and "(attached pic)" not in line]
    audios = [line for line in streams if " Audio: " in line]
    if not videos:
        raise InputError(f"{name}: cannot read video (no video track)")
    video = videos[0].split(" Video: ", 1)[1]
    codec, pix_fmt = _codec_and_format(video)
    width, height = _frame_size(name, video)
    if _rotation(log) % 180 == 90:
        # ffmpeg rotates frames upright when decoding, so they come out transposed.
        width, height = height, width
    fps = _rate(video)
    duration = _duration(log)
    audio_codec = _codec_and_format(audios[0].split(" Audio: ", 1)[1])[0] if audios else ""
    return VideoInfo(
        fps=fps,
        num_frames=int(round(duration * fps)),
        width=width,
        height=height,
        duration=duration,
        has_audio=bool(audios),
        video_codec=codec,
        pix_fmt=pix_fmt,
        audio_codec=audio_codec,
    )


def _fields(description: str) -> list[str]:
    """Comma-separated fields of a stream description, ignoring commas inside parentheses."""
    return re.split(r",\s*(?![^()]*\))", description)


def _frame_size(name: str, video: str) -> tuple[int, int]:
    """(width, height) from the "64x48" field of a video stream description."""
    # Only whole fields count: the codec tag "(avc1 / 0x31637661)" also looks like a size.
    for field in _fields(video)[1:]:
        match = re.match(r"(\d+)x(\d+)\b", field)
        if match:
            return int(match.group(1)), int(match.group(2))
    raise InputError(f"{name}: cannot read video (no frame size in ffmpeg's report)")


def _codec_and_format(description: str) -> tuple[str, str]:
    """("h264", "yuv420p") from "h264 (High) (avc1 / 0x31637661), yuv420p(tv, progressive), ..."."""
    # The codec is the first word, the pixel format the second field.
    fields = _fields(description)
    codec = fields[0].split()[0] if fields[0].split() else ""
    pix_fmt = fields[1].split("(")[0].strip() if len(fields) > 1 else ""
    return codec, pix_fmt


def _rate(video: str) -> float:
    """Frames per second from a video stream line ("25 fps", else "25 tbr"); 0 if absent."""
    for unit in ("fps", "tbr"):
        match = re.search(rf"([\d.]+)(k?) {unit}\b", video)
        if match:
            return float(match.group(1)) * (1000.0 if match.group(2) else 1.0)
    return 0.0


def _duration(log: str) -> float:
    """Seconds from "Duration: 00:01:02.50"; 0 when ffmpeg says N/A (e.g. a raw stream)."""
    match = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", log)
    if match is None:
        return 0.0
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _rotation(log: str) -> int:
    """Rotation in degrees from the display matrix side data (0 if there is none)."""
    match = re.search(r"rotation of (-?[\d.]+) degrees", log)
    return int(round(float(match.group(1)))) % 360 if match else 0


def read_video(path: str | Path, max_size: int | None = None) -> Iterator[np.ndarray]:
    """Stream the frames of a video as (H, W, 3) uint8 RGB arrays, upright.

    max_size: if given, frames are shrunk so that the longer side is at most this many pixels.
    Raises InputError naming the file at once when ffmpeg cannot open it, and while iterating
    when the data turns out to be corrupt.
    """
    probe_video(path)  # checked here, not on the first next(), so the error comes at the call
    return _frames(path, max_size)


def _frames(path: str | Path, max_size: int | None) -> Iterator[np.ndarray]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(ffmpeg_file_arg(path))
    try:
        width, height = next(reader)["size"]
        for data in reader:
            # A copy, because arrays over the bytes ffmpeg produced would be read-only.
            frame = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3).copy()
            yield limit_size(frame, max_size)[0] if max_size else frame
    except (OSError, RuntimeError) as exc:
        # imageio-ffmpeg raises these when ffmpeg stops mid-file (corrupt or truncated data).
        raise InputError(f"{path}: cannot decode video ({last_line(str(exc))})") from None
    finally:
        reader.close()  # stops ffmpeg when the caller quits early
