"""OPT's pose control: the head pose a talking head follows, taken from a reference video of
anyone and/or from explicit pose curves, retargeted to the source photo.

Retargeting. A reference's pose is taken relative to the reference's own rest pose (its
median pose, or its first frame when the photo *is* that first frame, as in the reconstruction
protocol), as changes of the upright angles a viewer reads (face.rotation: the head turns and
nods in its upright frame, then tilts in the image). Those changes are put on the photo's own
rest pose (retargeted_rotation), so ten degrees of yaw in the reference are ten degrees on the
source, whatever pose either face rests in: a photo looking up does not turn its head about a
tilted axis when the reference turns about an upright one. Offsets are in inter-ocular
distances and scale is relative, so face size is retargeted as well: a reference that leans in
by 10 % makes the source lean in by 10 %, at any face size.

Pose files (CSV with a header row, or JSON) hold yaw, pitch, roll in degrees (upright
changes from the photo's rest pose, as above) and optionally
x, y (image-plane offsets in inter-ocular distances, x > 0 right, y > 0 down) and scale
(1 = the photo's size); a missing column is 0 (scale 1). Without a `time` (seconds) or
`frame` column every row is one frame; with one the rows are keyframes, interpolated smoothly
(monotone cubic, so no overshoot) and held before the first and after the last. JSON is a list
of such rows, or {"fps": 25, "frames": [...]} / {"keyframes": [...]}.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError, NoFaceError
from ..face.rotation import euler_angles, rotation_matrix, upright_angles, upright_matrix
from ..face.tracking import TrackerConfig, track_video
from ..types import resampled_rows
from .tracked import TrackAnalysisConfig, analyse_track, tracked_pose

log = logging.getLogger("talkinghead")

POSE_ANCHORS = ("neutral", "first-frame")
ANGLE_COLUMNS = ("yaw", "pitch", "roll")
OFFSET_COLUMNS = ("x", "y")
TIME_COLUMNS = ("time", "frame")
POSE_FILE_COLUMNS = ANGLE_COLUMNS + OFFSET_COLUMNS + ("scale",) + TIME_COLUMNS
#: A head turned further than this is not a talking-head pose (and usually a unit mistake).
MAX_ANGLE = 90.0
MAX_POSE_ROWS = 1_000_000
#: How a pose video's head rotation is read, by anchor (TrackAnalysisConfig.rotation_fit).
#: Another person's video ("neutral"): the perspective fit, which follows a real head better
#: (on 12 real clips it agrees with dlib's independent reading at a mean r of 0.85 against
#: 0.82; benchmarks/pose_tracker_agreement.py). The photo's own clip ("first-frame", the
#: reconstruction protocol): the similarity fit, whose angles come from the same FaceMesh
#: geometry the photo is rendered with. The perspective angles are smaller; with them (in an
#: earlier version, before upright retargeting), three clips of benchmarks/opt_reconstruction.py
#: were remade 0.5-0.8 dB worse (LMD +0.5-0.7 px), hdtf_radio2 below 16 dB.
ANCHOR_ROTATION_FIT = {"neutral": "perspective", "first-frame": "similarity"}


@dataclass(frozen=True)
class PoseCurves:
    """Head pose per frame, relative to a rest pose.

    rotation: (T, 3) float32 changes of the upright yaw, pitch, roll from the rest pose, degrees
        (face.rotation.upright_angles; retargeted_rotation turns them into a MotionSequence's).
    translation: (T, 2) float32 image-plane x, y offsets in inter-ocular distances.
    scale: (T,) float32, 1 = the rest size.
    """

    fps: float
    rotation: np.ndarray
    translation: np.ndarray
    scale: np.ndarray

    def __len__(self) -> int:
        return len(self.rotation)

    @classmethod
    def rest(cls, num_frames: int, fps: float) -> "PoseCurves":
        return cls(fps, np.zeros((num_frames, 3), np.float32), np.zeros((num_frames, 2), np.float32), np.ones(num_frames, np.float32))

    def _take(self, index: np.ndarray) -> "PoseCurves":
        return PoseCurves(self.fps, self.rotation[index], self.translation[index], self.scale[index])

    def resampled(self, fps: float) -> "PoseCurves":
        """The same curves at another frame rate (linear interpolation; duration kept)."""
        if fps == self.fps or len(self) < 2:
            return replace(self, fps=float(fps))

        def at(values: np.ndarray) -> np.ndarray:
            return resampled_rows(values, self.fps, fps)

        return PoseCurves(float(fps), at(self.rotation), at(self.translation), at(self.scale))

    def looped(self, num_frames: int) -> "PoseCurves":
        """Exactly `num_frames`: cut when longer, else played forth and back (mirrored), so
        the loop has no jump where it turns."""
        if len(self) == 0:
            return PoseCurves.rest(num_frames, self.fps)
        return self._take(mirrored_index(len(self), num_frames))

    def held(self, num_frames: int) -> "PoseCurves":
        """Exactly `num_frames`: cut when longer, else the last pose held."""
        if len(self) == 0:
            return PoseCurves.rest(num_frames, self.fps)
        return self._take(np.minimum(np.arange(num_frames), len(self) - 1))

    def scaled(self, factor: float) -> "PoseCurves":
        """Motion `factor` times as large about the rest pose (0 = the rest pose)."""
        return PoseCurves(self.fps, self.rotation * factor, self.translation * factor, 1 + (self.scale - 1) * factor)

    def plus(self, other: "PoseCurves") -> "PoseCurves":
        """Both motions at once: angles and offsets added, scales multiplied (same length)."""
        assert len(self) == len(other), (len(self), len(other))
        return PoseCurves(self.fps, self.rotation + other.rotation, self.translation + other.translation, self.scale * other.scale)

    def save_csv(self, path: str | Path) -> None:
        """One row per frame with time, yaw, pitch, roll, x, y, scale (readable by read_pose_file)."""
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("time",) + ANGLE_COLUMNS + OFFSET_COLUMNS + ("scale",))
            for i in range(len(self)):
                values = [i / self.fps, *self.rotation[i], *self.translation[i], self.scale[i]]
                writer.writerow([f"{v:.5g}" for v in values])


def mirrored_index(length: int, count: int) -> np.ndarray:
    """(count,) indices into `length` frames going 0..L-1, L-2..1, 0.. (a ping-pong loop)."""
    if length == 1:
        return np.zeros(count, np.int64)
    period = 2 * (length - 1)
    phase = np.arange(count) % period
    return np.where(phase < length, phase, period - phase)


# -- pose files ------------------------------------------------------------------------------
def read_pose_file(path: str | Path, fps: float) -> PoseCurves:
    """The curves in a pose file (see the module docstring) at `fps`; a JSON file's own "fps"
    says at which rate its per-frame rows or `frame` numbers count. InputError naming the
    file and row for anything unusable."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: pose file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows, file_fps = _csv_rows(path), fps
    elif suffix == ".json":
        rows, file_fps = _json_rows(path, fps)
    else:
        raise InputError(f"{path}: a pose file is .csv or .json, got {suffix or 'no extension'}")
    if not rows:
        raise InputError(f"{path}: the pose file has no rows")
    if len(rows) > MAX_POSE_ROWS:
        raise InputError(f"{path}: the pose file has {len(rows)} rows, more than {MAX_POSE_ROWS}")
    table = _pose_table(path, rows)
    times = _row_times(path, table, file_fps)
    if times is None:
        return PoseCurves(float(file_fps), *_columns(table)).resampled(fps)
    return _keyframes(times, table, fps)


def _csv_rows(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read the pose file ({exc.__class__.__name__}: {exc})") from None


def _json_rows(path: Path, fps: float) -> tuple[list, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the pose file ({exc.__class__.__name__}: {exc})") from None
    if isinstance(data, list):
        return data, fps
    if isinstance(data, dict) and ("frames" in data) != ("keyframes" in data):
        rows = data.get("frames", data.get("keyframes"))
        file_fps = data.get("fps", fps)
        if isinstance(file_fps, bool) or not isinstance(file_fps, (int, float)) or not 0 < file_fps <= 1000:
            raise InputError(f"{path}: \"fps\" must be a number between 0 and 1000, got {file_fps!r}")
        if isinstance(rows, list):
            return rows, float(file_fps)
    raise InputError(f'{path}: a JSON pose file is a list of rows, or {{"fps": 25, "frames": [...]}} or {{"keyframes": [...]}}')


def _pose_table(path: Path, rows: list) -> dict[str, np.ndarray]:
    """Column name -> (R,) float64 values of the columns the rows use, checked."""
    names: set[str] = set()
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise InputError(f"{path}: row {number} is not a mapping of column -> number")
        names |= {str(k).strip().lower() for k in row if k is not None}
    unknown = sorted(names - set(POSE_FILE_COLUMNS))
    if unknown:
        raise InputError(f"{path}: unknown pose column(s) {unknown}; use {', '.join(POSE_FILE_COLUMNS)}")
    if not names & set(ANGLE_COLUMNS + OFFSET_COLUMNS + ("scale",)):
        raise InputError(f"{path}: no pose columns; give at least one of {', '.join(ANGLE_COLUMNS)}")
    if names >= set(TIME_COLUMNS):
        raise InputError(f"{path}: give either a time or a frame column, not both")
    table = {}
    for name in sorted(names):
        table[name] = np.array([_number(path, number, name, row) for number, row in enumerate(rows, 1)])
    for name in ANGLE_COLUMNS:
        if name in table and np.abs(table[name]).max() > MAX_ANGLE:
            raise InputError(f"{path}: {name} reaches {np.abs(table[name]).max():g} degrees; angles are degrees within ±{MAX_ANGLE:g}")
    if "scale" in table and not (table["scale"] > 0).all():
        raise InputError(f"{path}: scale must be positive (1 = the photo's size)")
    return table


def _number(path: Path, number: int, name: str, row: dict) -> float:
    value = {str(k).strip().lower(): v for k, v in row.items() if k is not None}.get(name)
    default = 1.0 if name == "scale" else 0.0
    if value is None or (isinstance(value, str) and not value.strip()):
        if name in TIME_COLUMNS:
            raise InputError(f"{path}: row {number} has no {name}")
        return default
    try:
        result = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        result = float("nan")
    if not np.isfinite(result):
        raise InputError(f"{path}: row {number}: {name} must be a number, got {value!r}")
    return result


def _row_times(path: Path, table: dict[str, np.ndarray], fps: float) -> np.ndarray | None:
    """(R,) keyframe times in seconds, or None for one row per frame."""
    if "time" in table:
        times = table["time"]
    elif "frame" in table:
        times = table["frame"] / fps
    else:
        return None
    if (times < 0).any() or (np.diff(times) <= 0).any():
        raise InputError(f"{path}: keyframe times must be 0 or more and increasing")
    return times


def _columns(table: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = len(next(iter(table.values())))
    zeros = np.zeros(count)
    rotation = np.stack([table.get(n, zeros) for n in ANGLE_COLUMNS], axis=1)
    translation = np.stack([table.get(n, zeros) for n in OFFSET_COLUMNS], axis=1)
    scale = table.get("scale", np.ones(count))
    return rotation.astype(np.float32), translation.astype(np.float32), scale.astype(np.float32)


def _keyframes(times: np.ndarray, table: dict[str, np.ndarray], fps: float) -> PoseCurves:
    """Keyframes interpolated to every frame from 0 to the last keyframe's time."""
    from scipy.interpolate import PchipInterpolator

    rotation, translation, scale = _columns(table)
    frames = np.arange(int(round(times[-1] * fps)) + 1) / fps
    clamped = np.clip(frames, times[0], times[-1])

    def at(values: np.ndarray) -> np.ndarray:
        if len(times) == 1:
            return np.repeat(values[:1], len(frames), axis=0).astype(np.float32)
        return PchipInterpolator(times, values, axis=0)(clamped).astype(np.float32)

    return PoseCurves(float(fps), at(rotation), at(translation), at(scale))


# -- reference videos ------------------------------------------------------------------------
def reference_pose(
    path: str | Path, pivot, *, anchor: str = "neutral", tracker: TrackerConfig | None = None, backend="mediapipe",
    rotation_fit: str | None = None,
) -> PoseCurves:  # fmt: skip
    """The head pose of the face in the video at `path`, at the video's frame rate, relative
    to its rest pose: `anchor` "neutral" (the clip's median pose) or "first-frame".

    pivot: the face model's head-rotation centre (canonical units), so that offsets exclude
        what the rotation about it already moves. NoFaceError when the video has no face.
    rotation_fit: TrackAnalysisConfig.rotation_fit; None: ANCHOR_ROTATION_FIT[anchor].
    """
    if anchor not in POSE_ANCHORS:
        raise InputError(f"pose anchor must be one of {', '.join(POSE_ANCHORS)}, got {anchor!r}")
    analysis = TrackAnalysisConfig(rotation_fit=rotation_fit or ANCHOR_ROTATION_FIT[anchor])
    try:
        tracked = analyse_track(track_video(path, tracker, backend), analysis)
    except NoFaceError as exc:
        raise NoFaceError(f"pose video {exc}") from None
    upright = upright_angles(torch.from_numpy(tracked.rotation)).numpy()
    if anchor == "first-frame":
        _, translation, scale = tracked_pose(tracked, pivot, 0)
        return PoseCurves(tracked.fps, (upright - upright[0]).astype(np.float32), translation, scale)
    rough, _, _ = tracked_pose(tracked, pivot, 0)
    middle = int(np.argmin(np.abs(rough - np.median(rough, axis=0)).sum(axis=1)))
    _, translation, scale = tracked_pose(tracked, pivot, middle)
    # The frame nearest the median pose is only near it: remove what is left of the median.
    return PoseCurves(
        tracked.fps,
        (upright - np.median(upright, axis=0)).astype(np.float32),
        translation - np.median(translation, axis=0),
        (scale / np.median(scale)).astype(np.float32),
    )


def retargeted_rotation(changes: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(T, 3) float32 MotionSequence rotations (yaw, pitch, roll in the face's own frame,
    face.rotation.rotation_matrix) that change a face resting at `rest` by the upright angle
    `changes` ((T, 3) degrees).

    rest: (3, 3) the face's rest orientation in the camera (its FaceFrame's rotation).
    """
    rest_t = torch.as_tensor(rest, dtype=torch.float64)
    target = upright_matrix(upright_angles(rest_t) + torch.as_tensor(changes, dtype=torch.float64))
    return euler_angles(rest_t.T @ target).numpy().astype(np.float32)


def upright_changes(rotation: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Inverse of `retargeted_rotation`: (T, 3) float64 upright angle changes of a face resting
    at `rest` ((3, 3)) and turned by the MotionSequence rotations `rotation` ((T, 3) degrees)."""
    rest_t = torch.as_tensor(rest, dtype=torch.float64)
    posed = rest_t @ rotation_matrix(torch.as_tensor(rotation, dtype=torch.float64))
    return (upright_angles(posed) - upright_angles(rest_t)).numpy()


def controlled_pose(
    num_frames: int,
    fps: float,
    *,
    video: PoseCurves | None = None,
    curves: PoseCurves | None = None,
    video_scale: float = 1.0,
    name: str = "pose",
) -> PoseCurves:
    """The pose for `num_frames` at `fps`: the reference video's motion times `video_scale`
    (looped mirrored when shorter, cut when longer) plus the explicit curves (held on their
    last pose when shorter). Either may be None (none at all: the rest pose)."""
    pose = PoseCurves.rest(num_frames, fps)
    if video is not None:
        video = video.resampled(fps)
        if len(video) < num_frames:
            log.info("%s: the pose video lasts %.2f s, the audio %.2f s: its motion is looped (played back and forth)",
                     name, len(video) / fps, num_frames / fps)  # fmt: skip
        pose = pose.plus(video.looped(num_frames).scaled(video_scale))
    if curves is not None:
        curves = curves.resampled(fps)
        if len(curves) < num_frames - 1 and video is None:
            log.info("%s: the pose curves end at %.2f s, the audio at %.2f s: the last pose is held",
                     name, len(curves) / fps, num_frames / fps)  # fmt: skip
        pose = pose.plus(curves.held(num_frames))
    return pose
