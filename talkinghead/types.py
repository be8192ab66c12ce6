"""The typed objects that flow between the stages of every pipeline.

image --face analysis--> SourceFace
audio --load--> AudioClip --features--> AudioFeatures
motion model --> MotionSequence (saveable, drives any face)
SourceFace + MotionSequence --renderer--> RenderedChunk (pipelines.output.GenerationResult streams them)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import InputError

MOTION_FORMAT_VERSION = 1


@dataclass(frozen=True)
class SourceFace:
    """One analysed face in one image.

    image: (H, W, 3) uint8 RGB, the whole picture the video is rendered at.
    landmarks: (N, 3) float32; x, y in pixels of `image`, z a relative depth in the same pixel
        units (smaller = closer to the camera). N and the meaning of each index are fixed by
        `layout` (e.g. "mediapipe478", "ibug68").
    box: (x0, y0, x1, y1) face bounding box in pixels.
    """

    image: np.ndarray
    landmarks: np.ndarray
    box: tuple[float, float, float, float]
    layout: str
    backend: str
    path: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the image in pixels."""
        return int(self.image.shape[0]), int(self.image.shape[1])


@dataclass(frozen=True)
class AudioClip:
    """Mono audio.

    samples: (S,) float32 in [-1, 1] at `sample_rate`.
    path: the file it was decoded from, if any; writers mux from it to keep the original quality.
    """

    samples: np.ndarray
    sample_rate: int
    path: str | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / float(self.sample_rate)

    def num_frames(self, fps: float) -> int:
        """Number of video frames that cover the clip at `fps` (at least 1)."""
        return max(1, int(round(self.duration * fps)))


@dataclass(frozen=True)
class AudioFeatures:
    """Audio features aligned to video frames.

    values: (T, D) float32, row t describes the audio around video frame t.
    names: D column names (e.g. ("loudness", "voiced")).
    """

    values: np.ndarray
    fps: float
    names: tuple[str, ...]

    def column(self, name: str) -> np.ndarray:
        """(T,) float32 values of one named column."""
        return self.values[:, self.names.index(name)]


@dataclass(frozen=True)
class FaceTrack:
    """One face followed through a video.

    landmarks: (T, N, 3) float32 per-frame landmarks in pixels of frames of `image_size`
        (x, y; z relative depth in the same units), in the order of `layout`.
    found: (T,) bool, False where the face was not found and the landmarks are interpolated.
    image_size: (height, width) of the frames the landmarks refer to.
    """

    landmarks: np.ndarray
    found: np.ndarray
    fps: float
    image_size: tuple[int, int]
    layout: str
    path: str | None = None

    def __len__(self) -> int:
        return len(self.landmarks)

    def save(self, path: str | Path) -> None:
        """Write to an .npz file (no pickles), readable with `FaceTrack.load`."""
        header = {"fps": self.fps, "image_size": list(self.image_size), "layout": self.layout, "path": self.path}
        with open(path, "wb") as f:
            np.savez(f, header=np.array(json.dumps(header)), landmarks=self.landmarks.astype(np.float32), found=self.found)

    @classmethod
    def load(cls, path: str | Path) -> "FaceTrack":
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                landmarks, found = data["landmarks"], data["found"]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path}: not a talkinghead face track ({exc})") from exc
        return cls(landmarks, found.astype(bool), float(header["fps"]), tuple(header["image_size"]), header["layout"], header["path"])


@dataclass
class MotionSequence:
    """Per-frame head pose, expression and eyelids; independent of any particular face.

    Angles and offsets are relative to the source face's own rest pose, so the same sequence
    can drive any photo: all zeros means "the photo as it is".

    rotation: (T, 3) float32 yaw, pitch, roll in degrees (yaw > 0 turns the head to the
        viewer's right, pitch > 0 tilts the chin down, roll > 0 tilts clockwise in the image).
    translation: (T, 2) float32 image-plane x, y offsets in units of the face's inter-ocular
        distance.
    scale: (T,) float32, 1 = the source's size.
    expression: (T, E) float32 coefficients of the expression basis named `expression_names`
        (about [-1, 1]; 0 = the source's own expression).
    eyelids: (T, 2) float32 eyelid closure of the (left, right) eye in [0, 1], 0 = as in the
        source, 1 = shut. Left/right are the person's.
    """

    fps: float
    rotation: np.ndarray
    translation: np.ndarray
    scale: np.ndarray
    expression: np.ndarray
    expression_names: tuple[str, ...]
    eyelids: np.ndarray
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = len(self.rotation)
        shapes = {
            "rotation": (self.rotation, (t, 3)),
            "translation": (self.translation, (t, 2)),
            "scale": (self.scale, (t,)),
            "expression": (self.expression, (t, len(self.expression_names))),
            "eyelids": (self.eyelids, (t, 2)),
        }
        for name, (array, shape) in shapes.items():
            if np.shape(array) != shape:
                raise ValueError(f"MotionSequence.{name} has shape {np.shape(array)}, expected {shape}")

    def __len__(self) -> int:
        return len(self.rotation)

    @property
    def duration(self) -> float:
        return len(self) / self.fps

    @classmethod
    def rest(cls, num_frames: int, fps: float, expression_names: tuple[str, ...]) -> "MotionSequence":
        """A sequence that keeps the face exactly as in the photo."""
        return cls(
            fps=fps,
            rotation=np.zeros((num_frames, 3), np.float32),
            translation=np.zeros((num_frames, 2), np.float32),
            scale=np.ones(num_frames, np.float32),
            expression=np.zeros((num_frames, len(expression_names)), np.float32),
            expression_names=tuple(expression_names),
            eyelids=np.zeros((num_frames, 2), np.float32),
        )

    def slice(self, start: int, stop: int) -> "MotionSequence":
        """Frames [start, stop) as a new sequence."""
        return MotionSequence(
            fps=self.fps,
            rotation=self.rotation[start:stop],
            translation=self.translation[start:stop],
            scale=self.scale[start:stop],
            expression=self.expression[start:stop],
            expression_names=self.expression_names,
            eyelids=self.eyelids[start:stop],
            meta=self.meta,
        )

    def resampled(self, fps: float) -> "MotionSequence":
        """The same motion at another frame rate (linear interpolation over time; the duration
        is kept)."""
        if fps == self.fps or len(self) == 0:
            return replace(self, fps=float(fps))

        def at(values: np.ndarray) -> np.ndarray:
            return resampled_rows(values, self.fps, fps)

        return MotionSequence(float(fps), at(self.rotation), at(self.translation), at(self.scale), at(self.expression),
                              self.expression_names, at(self.eyelids), self.meta)  # fmt: skip

    def with_length(self, num_frames: int) -> "MotionSequence":
        """Cut to `num_frames`, or extended by holding the last frame (the rest pose when empty)."""
        if num_frames <= len(self):
            return self.slice(0, num_frames)
        if len(self) == 0:
            return replace(MotionSequence.rest(num_frames, self.fps, self.expression_names), meta=self.meta)
        index = np.minimum(np.arange(num_frames), len(self) - 1)
        return MotionSequence(self.fps, self.rotation[index], self.translation[index], self.scale[index], self.expression[index],
                              self.expression_names, self.eyelids[index], self.meta)  # fmt: skip

    def save(self, path: str | Path) -> None:
        """Write to an .npz file (no pickles), readable with `MotionSequence.load`; atomically:
        an interrupted save leaves no file behind."""
        from .io.atomic import write_atomically

        header = {
            "version": MOTION_FORMAT_VERSION,
            "fps": self.fps,
            "expression_names": list(self.expression_names),
            "meta": self.meta,
        }

        def write(target: Path) -> None:
            with open(target, "wb") as f:
                np.savez(
                    f,
                    header=np.array(json.dumps(header)),
                    rotation=self.rotation.astype(np.float32),
                    translation=self.translation.astype(np.float32),
                    scale=self.scale.astype(np.float32),
                    expression=self.expression.astype(np.float32),
                    eyelids=self.eyelids.astype(np.float32),
                )

        write_atomically(path, write)

    @classmethod
    def load(cls, path: str | Path) -> "MotionSequence":
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                arrays = {k: data[k] for k in ("rotation", "translation", "scale", "expression", "eyelids")}
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path}: not a talkinghead motion file ({exc})") from exc
        if header.get("version") != MOTION_FORMAT_VERSION:
            raise InputError(f"{path}: motion format version {header.get('version')} is not supported")
        try:
            motion = cls(fps=float(header["fps"]), expression_names=tuple(header["expression_names"]), meta=header.get("meta", {}), **arrays)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: not a usable talkinghead motion file ({exc})") from exc
        if not motion.fps > 0:
            raise InputError(f"{path}: motion frame rate must be positive, got {motion.fps}")
        return motion


def resampled_rows(values: np.ndarray, fps: float, new_fps: float) -> np.ndarray:
    """(T, ...) per-frame values at `fps` -> (T', ...) float32 at `new_fps`, linearly
    interpolated over time; the duration is kept (T' = round(T / fps * new_fps), at least 1)."""
    count = max(1, int(round(len(values) / fps * new_fps)))
    source = np.arange(len(values)) / fps
    times = np.minimum(np.arange(count) / new_fps, source[-1])
    flat = values.reshape(len(values), -1)
    out = np.stack([np.interp(times, source, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape((count,) + values.shape[1:]).astype(np.float32)


@dataclass(frozen=True)
class RenderedChunk:
    """Consecutive rendered frames.

    frames: (n, H, W, 3) uint8 RGB.
    masks: (n, H, W) uint8 in [0, 255]; how strongly each pixel was changed from the source
        (255 = moved or synthesised, 0 = the source pixel untouched). Labels for forgery data.
    start: index of the first frame in the whole video.
    """

    frames: np.ndarray
    masks: np.ndarray
    start: int
