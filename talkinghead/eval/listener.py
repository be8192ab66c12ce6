"""Measures of a listening-head video: does the listener respond to the speaker without talking?

    report = evaluate_listener("listener.mp4", "listener.jpg", "speaker.mp4")
    report.nods, report.smile_mean, report.mouth_audio_r, report.response_ratio
    pose_rmse(report, other_seed_report)          # how different two seeds move, degrees
    compare_attitudes(positive_report, negative_report)

The pure functions take dlib 68-point landmarks ((T, 68, 2) float pixels, iBUG order, NaN
rows for frames without a face), head-pose curves ((T, 3) yaw, pitch, roll degrees,
metrics.head_pose) and per-frame audio series at the video's frame rate. Only
evaluate_listener reads files (and needs dlib, the `eval` extra).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import find_peaks

from ..errors import InputError, NoFaceError
from ..io.audio import load_video_audio
from ..io.video import probe_video
from ..types import AudioClip
from . import metrics
from .evaluate import analyse_source
from .tracking import VideoTrack, track_video
from .voice import voice_activity

# Inner-lip pairs (upper, lower) whose gap is the mouth opening, as in metrics.mouth_opening.
_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
_MOUTH_CORNERS = (48, 54)
_EYE_CORNERS = (36, 45)


# ---------------------------------------------------------------- face shape per frame


def _eye_vector(landmarks: np.ndarray) -> np.ndarray:
    """(..., 2) from the outer eye corner on the image's left (36) to the other one (45)."""
    return landmarks[..., _EYE_CORNERS[1], :] - landmarks[..., _EYE_CORNERS[0], :]


def mouth_gap_ratio(landmarks: np.ndarray) -> np.ndarray:
    """How open the mouth is in each frame: mean inner-lip gap / outer eye-corner distance.

    The gaps 61-67, 62-66 and 63-65 are measured along the face's vertical (the normal of the
    eye line, so a tilted head does not open the mouth) and never count as negative: the same
    figure as metrics.mouth_opening, for a whole series at once. 0 closed; real talking clips
    average 0.05-0.14, a listener with a closed mouth stays near 0-0.03.
    landmarks: (T, 68, 2) or (68, 2) pixels. Returns (T,) or () float64 >= 0, NaN where the
    frame has no face (NaN landmarks) or the eye corners coincide.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    eyes = _eye_vector(landmarks)
    scale = np.linalg.norm(eyes, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        down = np.stack([-eyes[..., 1], eyes[..., 0]], axis=-1) / scale[..., None]
        gaps = [np.maximum(np.sum((landmarks[..., lower, :] - landmarks[..., upper, :]) * down, axis=-1), 0.0)
                for upper, lower in _LIP_PAIRS]  # fmt: skip
        ratio = np.mean(gaps, axis=0) / scale
    return np.where(scale > 0, ratio, np.nan)


def smile_ratio(landmarks: np.ndarray) -> np.ndarray:
    """Mouth width relative to the face: mouth-corner distance (48-54) / eye-corner distance (36-45).

    A smile pulls the corners out, so the ratio grows with it (on the same face; people
    differ by more than a smile, so compare videos of one listener). About 0.5-0.6 for a
    relaxed mouth in real clips.
    landmarks: (T, 68, 2) or (68, 2) pixels. Returns (T,) or () float64 >= 0, NaN without a face.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    scale = np.linalg.norm(_eye_vector(landmarks), axis=-1)
    width = np.linalg.norm(landmarks[..., _MOUTH_CORNERS[1], :] - landmarks[..., _MOUTH_CORNERS[0], :], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, width / scale, np.nan)


# ---------------------------------------------------------------- nods


@dataclass(frozen=True)
class Nods:
    """Nod events found in a pitch curve.

    times_s: (N,) float64 seconds of each nod's lowest head position (its pitch peak), ascending.
    depths_deg: (N,) float64 how far the head went down and back up (peak prominence), degrees.
    durations_s: (N,) float64 length of the whole down-and-up movement (twice the width at
        half depth, which it is for a smooth raised-cosine nod), seconds.
    per_minute: N per minute of frames with a face; NaN with under one second of them.
    """

    times_s: np.ndarray
    depths_deg: np.ndarray
    durations_s: np.ndarray
    per_minute: float

    @property
    def count(self) -> int:
        return len(self.times_s)


def detrended(curve: np.ndarray, fps: float, trend_s: float = 3.0, outlier: float = 1.0) -> np.ndarray:
    """(T,) float64 curve minus its slow trend, a running median over `trend_s` seconds.

    A median ignores an excursion shorter than half its window (a 3 s window leaves nods up to
    1.5 s whole) and keeps steps sharp, but on a drifting curve an excursion still drags it
    along the slope. So the median is taken twice: the second time over the curve with the
    frames more than `outlier` away from the first trend replaced by interpolation from the
    others, so a nod does not lift its own baseline.
    curve: (T,) values (e.g. pitch in degrees); NaN entries are filled by linear interpolation
    from their neighbours first (and stay filled in the result).
    """
    curve = np.asarray(curve, dtype=np.float64).ravel()
    finite = np.isfinite(curve)
    if finite.sum() < 2:
        return np.zeros_like(curve) if finite.any() else curve.copy()
    index = np.arange(len(curve))
    filled = np.interp(index, index[finite], curve[finite])
    size = max(1, round(trend_s * fps) // 2 * 2 + 1)  # odd, so the window is centred
    first = median_filter(filled, size=size, mode="nearest")
    calm = np.abs(filled - first) <= outlier
    if calm.sum() < 2:
        return filled - first
    return filled - median_filter(np.interp(index, index[calm], filled[calm]), size=size, mode="nearest")


def detect_nods(
    pitch: np.ndarray,
    fps: float,
    min_depth_deg: float = 2.0,
    min_s: float = 0.2,
    max_s: float = 1.5,
    trend_s: float = 3.0,
) -> Nods:
    """Nods: the head goes down (pitch up, chin down) by at least `min_depth_deg` and comes back.

    After removing the slow trend (detrended), a nod is a pitch peak whose prominence (the
    drop to the higher of the two valleys beside it) is >= min_depth_deg, so both the down
    and the up movement must reach it, and whose whole movement lasts min_s..max_s seconds
    (shorter is landmark jitter, longer is a change of posture). A nod must be seen whole:
    one with a frame without a face within its half-depth width does not count, since the
    interpolation over the gap may have made or shaped it.
    pitch: (T,) degrees at `fps` frames per second, NaN without a face.
    """
    pitch = np.asarray(pitch, dtype=np.float64).ravel()
    finite = np.isfinite(pitch)
    if finite.sum() < 3:
        return Nods(np.zeros(0), np.zeros(0), np.zeros(0), float("nan"))
    residual = detrended(pitch, fps, trend_s, outlier=min_depth_deg / 2)
    # find_peaks measures width at half the prominence: half of a smooth nod's whole length.
    peaks, props = find_peaks(residual, prominence=min_depth_deg, width=(min_s * fps / 2, max_s * fps / 2), rel_height=0.5)
    gaps = np.concatenate([[0], np.cumsum(~finite)])  # gaps[j] - gaps[i]: missing frames in i..j-1
    first, last = np.floor(props["left_ips"]).astype(int), np.ceil(props["right_ips"]).astype(int) + 1
    keep = (gaps[np.minimum(last, len(pitch))] - gaps[first]) == 0
    seconds = finite.sum() / fps
    return Nods(
        times_s=peaks[keep] / fps,
        depths_deg=props["prominences"][keep],
        durations_s=2 * props["widths"][keep] / fps,
        per_minute=float(keep.sum() * 60.0 / seconds) if seconds >= 1.0 else float("nan"),
    )


# ---------------------------------------------------------------- response timing


@dataclass(frozen=True)
class ResponseTiming:
    """How the listener's head moves right after the speaker pauses vs while the speaker talks.

    after_pause_deg_s: mean head speed (head_speed, deg/s >= 0) in the response windows after
        pause starts; speech_deg_s: mean over the other voiced frames; NaN for a side with too
        few frames. ratio: after / speech (> 1: the listener responds to pauses), NaN when a
        side is NaN or the head never moves during speech. pauses: how many pauses counted.
    """

    after_pause_deg_s: float
    speech_deg_s: float
    ratio: float
    pauses: int


def head_speed(poses: np.ndarray, fps: float) -> np.ndarray:
    """(T,) float64 head speed in deg/s: the mean absolute change of yaw, pitch and roll from the
    previous frame, times fps (as metrics.speed_by_voice, so the figures compare with
    `talkinghead eval`'s pose speeds). NaN for frame 0 and next to frames without a face.
    poses: (T, 3) degrees."""
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    speed = np.full(len(poses), np.nan)
    speed[1:] = np.abs(np.diff(poses, axis=0)).mean(axis=1) * fps
    return speed


def pause_starts(voiced: np.ndarray, fps: float, min_pause_s: float = 0.3) -> np.ndarray:
    """(P,) int64 first frames of the speaker's pauses: silent runs of at least `min_pause_s`
    that follow speech (silence before the first word is not a pause). voiced: (T,) bool."""
    voiced = np.asarray(voiced, dtype=bool).ravel()
    edges = np.diff(np.concatenate([[1], voiced.astype(np.int8), [1]]))
    starts, ends = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    long_enough = (ends - starts) >= min_pause_s * fps
    return starts[long_enough & (starts > 0)].astype(np.int64)


def response_timing(
    poses: np.ndarray,
    voiced: np.ndarray,
    fps: float,
    window_s: tuple[float, float] = (0.3, 2.0),
    min_pause_s: float = 0.3,
    min_frames: int = 5,
) -> ResponseTiming:
    """Head speed after the speaker's pauses start vs during speech (ResponseTiming).

    The response window of a pause runs from window_s[0] to window_s[1] seconds after its
    first silent frame, whether or not the speaker has started again (a nod that answers a
    pause can outlast it). Voiced frames inside any response window are left out of the
    speech side, so the two sides never share a frame.
    poses: (T, 3) listener yaw, pitch, roll degrees (NaN without a face); voiced: (T,) bool
    speaker voice activity at the same frame rate (cut to the shorter of the two).
    """
    speed = head_speed(poses, fps)
    voiced = np.asarray(voiced, dtype=bool).ravel()[: len(speed)]
    speed = speed[: len(voiced)]
    starts = pause_starts(voiced, fps, min_pause_s)
    after = np.zeros(len(speed), dtype=bool)
    for start in starts:
        after[start + round(window_s[0] * fps) : start + round(window_s[1] * fps)] = True
    found = np.isfinite(speed)
    after_speed = _mean_of(speed, after & found, min_frames)
    speech_speed = _mean_of(speed, voiced & ~after & found, min_frames)
    ratio = after_speed / speech_speed if speech_speed > 0 else float("nan")
    return ResponseTiming(after_speed, speech_speed, float(ratio), len(starts))


def _mean_of(values: np.ndarray, keep: np.ndarray, min_count: int) -> float:
    """Mean of values[keep]; NaN when fewer than min_count are kept."""
    return float(values[keep].mean()) if keep.sum() >= min_count else float("nan")


# ---------------------------------------------------------------- mouth vs the speaker's audio


def mouth_audio_correlation(mouth_gap: np.ndarray, energy_db: np.ndarray, fps: float, max_lag_s: float = 0.2) -> float:
    """Does the listener's mouth follow the speaker's voice? The highest Pearson r in [-1, 1]
    between the speaker's audio log-energy and the listener's mouth gap over lags of
    -max_lag_s..+max_lag_s (0: plain Pearson r). A lagged search, as evaluate's sync_r does,
    so a listener who talks along slightly late is still caught. A listener should stay
    <= 0.4, but real talking clips against their own audio measured only 0.05-0.5 too (eval's
    reference_real.json sync_r), so a low r alone does not prove a still mouth: read it
    together with mouth_gap_ratio.
    mouth_gap: (T,) mouth_gap_ratio (NaN without a face); energy_db: (T,) dBFS per frame
    (metrics.audio_log_energy). NaN when a series is constant or under 3 pairs overlap."""
    lag = max(0, round(max_lag_s * fps))
    r, _ = metrics.lagged_correlation(np.asarray(energy_db, np.float64), np.asarray(mouth_gap, np.float64), lag)
    return float(r)


# ---------------------------------------------------------------- report of one video


@dataclass(frozen=True)
class ListenerSeries:
    """Per-frame curves behind a ListenerReport (T frames at fps).

    poses: (T, 3) yaw, pitch, roll degrees, NaN without a face; mouth_gap: (T,) mouth_gap_ratio
    >= 0; smile: (T,) smile_ratio >= 0; energy_db: (T,) audio dBFS (floor -100) and voiced: (T,)
    bool speaker voice activity, both None without audio; voice_method: which rule decided
    voiced (voice.VoiceActivity.method), None without audio.
    """

    fps: float
    poses: np.ndarray
    mouth_gap: np.ndarray
    smile: np.ndarray
    energy_db: np.ndarray | None
    voiced: np.ndarray | None
    voice_method: str | None


@dataclass(frozen=True)
class ListenerReport:
    """What evaluate_listener measured; None where a figure cannot be computed.

    duration_s: decoded frames / fps; speaker_duration_s: the speaker video's length (ffmpeg).
    yaw/pitch/roll_std: degrees (real talking clips 0.5-3.6). mouth_gap_mean, smile_mean: means
    of mouth_gap_ratio and smile_ratio over frames with a face. nods, nods_per_minute:
    detect_nods on the pitch curve. mouth_audio_r: mouth_audio_correlation with the audio.
    response_ratio, response_after_pause_deg_s, response_speech_deg_s: response_timing.
    identity_distance: mean dlib descriptor distance between the listener photo and evenly
    spaced frames (same person below ~0.6). has_audio, audio_duration_s: the video's own audio
    track. audio_source: "video", "speaker" (the video has none, so the speaker video's audio
    was used for the audio measures) or None. voice_method: voice.VoiceActivity.method.
    series: the per-frame curves (left out of repr and summary()).
    """

    video: str
    duration_s: float
    frames: int
    fps: float
    face_found_rate: float
    yaw_std: float | None
    pitch_std: float | None
    roll_std: float | None
    mouth_gap_mean: float | None
    smile_mean: float | None
    nods: int
    nods_per_minute: float | None
    mouth_audio_r: float | None
    response_ratio: float | None
    response_after_pause_deg_s: float | None
    response_speech_deg_s: float | None
    pauses: int
    identity_distance: float | None
    has_audio: bool
    audio_duration_s: float | None
    speaker_duration_s: float
    audio_source: str | None
    voice_method: str | None
    series: ListenerSeries = field(repr=False, compare=False)

    def summary(self) -> dict:
        """Every figure except the series, JSON-ready (numbers, strings, bools, None)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "series"}


def evaluate_listener(video: str, listener_image: str | None, speaker_video: str, identity_frames: int = 20) -> ListenerReport:
    """Track a listener video with dlib and measure it (ListenerReport).

    video: the generated listener mp4, which should carry the speaker's audio; when it has no
    audio track, the speaker video's audio is used for the audio measures instead (both start
    at time 0). listener_image: the photo the video was made from (identity; None in the
    report when dlib finds no face in it). speaker_video: the video the listener responds to.
    identity_frames: at most this many evenly spaced frames get a dlib descriptor (~0.1 s each).
    """
    # Inputs are read or checked before the long tracking pass, so a bad one fails at once.
    speaker_duration = probe_video(speaker_video).duration
    source = _listener_face(listener_image)
    own_audio = load_video_audio(video)
    clip = own_audio if own_audio is not None else load_video_audio(speaker_video)
    track = track_video(video, embeddings=identity_frames if source is not None else 0)
    if track.num_frames == 0:
        raise InputError(f"{video}: no frames decoded")
    if not track.found.any():
        raise NoFaceError(f"{video}: dlib finds no face in any frame")
    series = _series(track, clip)
    figures = {
        **_face_figures(track, series),
        **_audio_figures(series),
        "identity_distance": _identity(track, source),
        "has_audio": own_audio is not None,
        "audio_duration_s": own_audio.duration if own_audio is not None else None,
        "speaker_duration_s": float(speaker_duration),
        "audio_source": None if clip is None else ("video" if own_audio is not None else "speaker"),
    }
    return ListenerReport(**{key: _finite(value) for key, value in figures.items()}, series=series)


def _listener_face(path: str | None):
    """evaluate.SourceFace of the listener photo, or None when none is given or dlib finds no face in it."""
    if path is None:
        return None
    try:
        return analyse_source(path)
    except NoFaceError:
        return None


def _series(track: VideoTrack, clip: AudioClip | None) -> ListenerSeries:
    """The per-frame curves of a tracked video and the audio it is measured against."""
    energy = activity = None
    if clip is not None:
        energy = metrics.audio_log_energy(clip, track.fps, track.num_frames)
        activity = voice_activity(clip, track.fps, track.num_frames)
    return ListenerSeries(
        fps=track.fps,
        poses=track.poses,
        mouth_gap=mouth_gap_ratio(track.landmarks),
        smile=smile_ratio(track.landmarks),
        energy_db=energy,
        voiced=None if activity is None else activity.voiced,
        voice_method=None if activity is None else activity.method,
    )


def _face_figures(track: VideoTrack, series: ListenerSeries) -> dict:
    """Length, face rate, pose spread, mouth, smile and nods of a tracked video."""
    stats = metrics.pose_stats(track.poses)
    nods = detect_nods(track.poses[:, 1], track.fps)
    return {
        "video": track.path,
        "duration_s": track.num_frames / track.fps if track.fps > 0 else 0.0,
        "frames": track.num_frames,
        "fps": track.fps,
        "face_found_rate": float(np.mean(track.found)),
        "yaw_std": stats["yaw_std"],
        "pitch_std": stats["pitch_std"],
        "roll_std": stats["roll_std"],
        "mouth_gap_mean": float(np.nanmean(series.mouth_gap)),
        "smile_mean": float(np.nanmean(series.smile)),
        "nods": nods.count,
        "nods_per_minute": nods.per_minute,
    }


def _audio_figures(series: ListenerSeries) -> dict:
    """Mouth-audio correlation and response timing (None without audio)."""
    if series.energy_db is None or series.voiced is None:
        empty = ("mouth_audio_r", "response_ratio", "response_after_pause_deg_s", "response_speech_deg_s", "voice_method")
        return {**dict.fromkeys(empty), "pauses": 0}
    timing = response_timing(series.poses, series.voiced, series.fps)
    return {
        "mouth_audio_r": mouth_audio_correlation(series.mouth_gap, series.energy_db, series.fps),
        "response_ratio": timing.ratio,
        "response_after_pause_deg_s": timing.after_pause_deg_s,
        "response_speech_deg_s": timing.speech_deg_s,
        "pauses": timing.pauses,
        "voice_method": series.voice_method,
    }


def _identity(track: VideoTrack, source) -> float | None:
    """Mean descriptor distance from the listener photo to the tracked frames, or None."""
    if source is None or len(track.embeddings) == 0:
        return None
    return float(np.mean([metrics.identity_distance(e, source.descriptor) for e in track.embeddings]))


def _finite(value):
    """NaN / inf as None (not a number a report can print or JSON can hold), numpy scalars as Python."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# ---------------------------------------------------------------- several videos


def _poses_of(item) -> np.ndarray:
    """(T, 3) degrees from a ListenerReport, a VideoTrack or an array of poses."""
    if isinstance(item, ListenerReport):
        return item.series.poses
    if isinstance(item, VideoTrack):
        return item.poses
    return np.asarray(item, dtype=np.float64).reshape(-1, 3)


def pose_rmse(a: ListenerReport | VideoTrack | np.ndarray, b: ListenerReport | VideoTrack | np.ndarray) -> float:
    """RMS difference in degrees (>= 0) between two listener videos' head-pose curves over
    frames and angles: how different two seeds move. Both curves are cut to the shorter and
    have their own mean removed (a constant offset is not motion; metrics.pose_distances).
    a, b: ListenerReport, VideoTrack or (T, 3) yaw/pitch/roll degrees. NaN without common frames."""
    a, b = _poses_of(a), _poses_of(b)
    # Cut first, so that each mean is taken over the frames that are compared.
    length = min(len(a), len(b))
    return float(metrics.pose_distances([a[:length], b[:length]])[0])


def compare_attitudes(positive: ListenerReport, negative: ListenerReport) -> dict:
    """Figures that tell a positive listener from a negative one (same listener, same speaker).

    Returns {"smile_difference": positive minus negative smile_mean (None when either is
    missing; a positive attitude should smile more, >= 0.02), "nods_positive",
    "nods_negative", "nod_difference": positive minus negative nod count (should be >= 0)}.
    """
    smiles = (positive.smile_mean, negative.smile_mean)
    return {
        "smile_difference": None if None in smiles else smiles[0] - smiles[1],
        "nods_positive": positive.nods,
        "nods_negative": negative.nods,
        "nod_difference": positive.nods - negative.nods,
    }
