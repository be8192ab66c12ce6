"""Evaluate one video: identity, reconstruction, lip sync, head motion, blinks, stability.

    evaluation = evaluate_video("out.mp4", source="face.jpg", reference="real.mp4")
    evaluation.summary   # flat dict of figures, None where an input was missing (JSON-ready)
    evaluation.series    # per-frame curves for plots

Landmarks come from dlib (dlib_models), never from the generator's own face analysis.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, NoFaceError
from ..io.audio import load_audio
from ..io.image import load_image
from ..io.video import probe_video
from ..types import AudioClip
from . import metrics
from .dlib_models import face_embedding, landmarks68
from .tracking import VideoTrack, track_video
from .voice import voice_activity


@dataclass(frozen=True)
class EvalConfig:
    identity_frames: int = 20
    """At most this many evenly spaced frames get a dlib face descriptor (0.1-0.2 s each, a
    third of the evaluation time at 50); the identity distance is their mean."""
    sync_window_s: float = 0.2
    """Lip-sync lags searched: -window..+window seconds, rounded to frames."""
    min_silent_frames: int = 5
    """Mouth-in-silence is reported only over at least this many silent frames with a face."""
    lmd_face_scale: float = 100.0
    """LMD is expressed at this face size: pixels of the reference scaled so its median outer
    eye-corner distance is this many pixels (about a face in a 256 px crop)."""
    silent_audio_dbfs: float = -70.0
    """Audio whose loudest 40 ms stays below this level counts as silent (no sync measures)."""


@dataclass(frozen=True)
class FrameSeries:
    """Per-frame curves of an evaluated video (T frames, NaN without a face / audio).

    mouth: (T,) metrics.mouth_opening; energy: (T,) audio log-energy in dBFS (None without
    audio); voiced: (T,) bool voice activity (None without audio); poses: (T, 3) yaw, pitch,
    roll degrees; eye_ratio: (T,) metrics.eye_aspect_ratio.
    """

    fps: float
    mouth: np.ndarray
    energy: np.ndarray | None
    voiced: np.ndarray | None
    poses: np.ndarray
    eye_ratio: np.ndarray


@dataclass(frozen=True)
class Evaluation:
    """summary: name -> number, dict of numbers, string or None (JSON-ready); series: curves."""

    summary: dict
    series: FrameSeries


def evaluate_video(
    video: str,
    source: str | None = None,
    reference: str | None = None,
    audio: str | None = None,
    config: EvalConfig = EvalConfig(),
) -> Evaluation:
    """Measure a video; figures that need a missing input (source, reference, audio) are None.

    audio: the speech the video should follow (default: the video's own audio track).
    """
    start = time.perf_counter()
    # Every input is read or checked before the long part, so a bad one fails at once.
    source_face = analyse_source(source) if source is not None else None
    clip = _audio(video, audio)
    if reference is not None:
        probe_video(reference)
    track = track_video(video, crops=reference is not None, embeddings=config.identity_frames if source else 0)
    if track.num_frames == 0:
        raise InputError(f"{video}: no frames decoded")
    if not track.found.any():
        raise NoFaceError(f"{video}: dlib finds no face in any frame")
    summary: dict = {"video": str(video), "frames": track.num_frames, "fps": track.fps,
                     "face_found_rate": float(np.mean(track.found))}  # fmt: skip
    summary.update(source_measures(track, source_face))
    summary.update(reference_measures(track, reference, video, config))
    mouth = track.mouth
    audio_summary, energy, voiced = audio_measures(clip, track.fps, mouth, config)
    summary.update(audio_summary)
    summary.update(motion_measures(track, mouth, voiced))
    summary["seconds"] = time.perf_counter() - start
    series = FrameSeries(track.fps, mouth, energy, voiced, track.poses, metrics.eye_aspect_ratio(track.landmarks))
    return Evaluation(summary=_clean(summary), series=series)


@dataclass(frozen=True)
class SourceFace:
    """The source photo as dlib sees it: image (H, W, 3) uint8, landmarks (68, 2) pixels,
    descriptor (128,) float32."""

    image: np.ndarray
    landmarks: np.ndarray
    descriptor: np.ndarray


def analyse_source(path: str) -> SourceFace:
    """Load the source photo and find its face with dlib (NoFaceError if there is none)."""
    image = load_image(path)
    landmarks = landmarks68(image)
    if landmarks is None:
        raise NoFaceError(f"{path}: dlib finds no face in the source image")
    return SourceFace(image, landmarks, face_embedding(image, landmarks))


def source_measures(track: VideoTrack, source: SourceFace | None) -> dict:
    """Identity distance to the source photo and sharpness relative to it (None without one)."""
    if source is None:
        return {"identity_distance": None, "identity_distance_max": None, "sharpness_ratio": None}
    distances = np.array([metrics.identity_distance(e, source.descriptor) for e in track.embeddings])
    source_sharpness = metrics.sharpness(source.image, metrics.face_box(source.landmarks), track.sharpness_width)
    return {
        "identity_distance": _mean(distances),
        "identity_distance_max": float(distances.max()) if len(distances) else None,
        "identity_frames": len(distances),
        "sharpness_ratio": metrics.sharpness_ratio(track.sharpness, source_sharpness),
    }


def reference_measures(track: VideoTrack, reference: str | None, video: str, config: EvalConfig) -> dict:
    """PSNR / SSIM of aligned face crops and LMD against a reference video (None without one).

    Frames are paired by time; the video's landmarks are scaled to the reference's resolution.
    """
    if reference is None:
        return {"psnr": None, "ssim": None, "lmd": None, "lmd_mouth": None, "lmd_face_scale_px": None}
    same_file = os.path.exists(reference) and os.path.samefile(reference, video)
    ref = track if same_file else track_video(reference, crops=True, embeddings=0)
    pairs = _paired_frames(track, ref)
    both = track.found[pairs[:, 0]] & ref.found[pairs[:, 1]]
    if not both.any():
        raise InputError(f"{reference}: no frame where both videos show a face")
    pairs = pairs[both]
    crops_a, crops_b = track.crops[pairs[:, 0]], ref.crops[pairs[:, 1]]
    landmarks = track.landmarks[pairs[:, 0]] * (ref.size[1] / track.size[1])
    ref_landmarks = ref.landmarks[pairs[:, 1]]
    scale = config.lmd_face_scale / float(np.median(metrics.eye_distance(ref_landmarks)))
    return {
        "psnr": float(np.mean([metrics.psnr(a, b) for a, b in zip(crops_a, crops_b)])),
        "ssim": float(np.mean([metrics.ssim(a, b) for a, b in zip(crops_a, crops_b)])),
        "lmd": metrics.landmark_distance(landmarks, ref_landmarks, scale),
        "lmd_mouth": metrics.landmark_distance(landmarks, ref_landmarks, scale, metrics.MOUTH_POINTS),
        "lmd_face_scale_px": config.lmd_face_scale,
        "lmd_native_px": metrics.landmark_distance(landmarks, ref_landmarks),
        "reference_frames_compared": int(len(pairs)),
    }


def _paired_frames(track: VideoTrack, ref: VideoTrack) -> np.ndarray:
    """(P, 2) int (video frame, reference frame) shown at the same time, while both last."""
    times = np.arange(track.num_frames) / track.fps
    ref_index = np.round(times * ref.fps).astype(np.int64)
    keep = ref_index < ref.num_frames
    return np.stack([np.arange(track.num_frames)[keep], ref_index[keep]], axis=1)


def audio_measures(clip: AudioClip | None, fps: float, mouth: np.ndarray, config: EvalConfig):
    """(summary, energy (T,) or None, voiced (T,) or None): lip sync and mouth in silence.

    sync_r: the best Pearson r between the audio's log-energy and the mouth opening over lags
    of -window..+window frames; sync_lag: that lag in frames (> 0: the mouth follows the sound).
    """
    empty = {"sync_r": None, "sync_lag": None, "sync_window_frames": None, "vad": None,
             "mouth_silent": None, "mouth_voiced": None, "silent_frames": None}  # fmt: skip
    if clip is None:
        return {**empty, "audio_note": "no audio: sync measures are null"}, None, None
    num_frames = len(mouth)
    energy = metrics.audio_log_energy(clip, fps, num_frames)
    if not np.any(energy > config.silent_audio_dbfs):
        return {**empty, "audio_note": "silent audio track: sync measures are null"}, energy, None
    window = max(1, int(round(config.sync_window_s * fps)))
    r, lag = metrics.lagged_correlation(energy, mouth, window)
    activity = voice_activity(clip, fps, num_frames)
    found = np.isfinite(mouth)
    quiet, spoken = ~activity.voiced & found, activity.voiced & found
    summary = {
        "sync_r": r,
        "sync_lag": lag if np.isfinite(r) else None,
        "sync_window_frames": window,
        "vad": activity.method,
        "mouth_silent": _mean(mouth[quiet]) if quiet.sum() >= config.min_silent_frames else None,
        "mouth_voiced": _mean(mouth[spoken]),
        "silent_frames": int(quiet.sum()),
    }
    return summary, energy, activity.voiced


def motion_measures(track: VideoTrack, mouth: np.ndarray, voiced: np.ndarray | None = None) -> dict:
    """Head pose spread (deg) and speed (deg/s; also while speaking and in pauses when the
    voice activity, (T,) bool, is known), blinks, jitter, mouth spread, background."""
    stats = metrics.pose_stats(track.poses)
    axes = ("yaw", "pitch", "roll")
    speed = {axis: stats[f"{axis}_speed"] * track.fps for axis in axes}
    speaking, pauses = metrics.speed_by_voice(track.poses, voiced) if voiced is not None else (None, None)
    return {
        "pose_std": {axis: stats[f"{axis}_std"] for axis in axes},
        "pose_speed": {**speed, "mean": float(np.mean(list(speed.values())))},
        "pose_speed_speaking": None if speaking is None else speaking * track.fps,
        "pose_speed_pauses": None if pauses is None else pauses * track.fps,
        "blinks_per_min": metrics.blinks_per_minute(metrics.eye_aspect_ratio(track.landmarks), track.fps),
        "jitter": metrics.jitter(track.landmarks, metrics.eye_distance(track.landmarks)),
        "mouth_std": float(np.nanstd(mouth)),
        "mouth_mean": float(np.nanmean(mouth)),
        "background_change": _mean(track.background[np.isfinite(track.background)]),
    }


def _audio(video: str, audio: str | None) -> AudioClip | None:
    """--audio, else the video's own track, else None."""
    if audio is not None:
        return load_audio(audio)
    return load_audio(video) if probe_video(video).has_audio else None


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _clean(value):
    """NaN / inf (not valid JSON) as None, numpy scalars as Python numbers, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def flat_summary(summary: dict) -> dict:
    """The summary with nested dicts spread out: {"pose_std": {"yaw": 1}} -> {"pose_std_yaw": 1}."""
    flat = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{inner}": v for inner, v in value.items()})
        else:
            flat[key] = value
    return flat
