"""Quality measures of a talking-head video, as plain numpy functions of landmarks and audio.

Landmarks are (68, 2) float (x, y) pixels in the iBUG 300-W order (0-based: 8 chin, 27-35
nose, 36-41 the eye on the image's left, 42-47 the other, 48-59 outer lips, 60-67 inner lips),
or (T, 68, 2) series of them with NaN rows for frames without a face. None of these need dlib.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..audio.loudness import frame_rms_db
from ..types import AudioClip

# A generic adult face in millimetres, our own round numbers from typical anthropometric
# distances (outer eye corners ~90 mm apart, inner ~32 mm, nose tip ~30 mm in front of the
# inner eye corners). Axes as in the camera: x to the viewer's right, y down, z away from the
# viewer; origin at the nose tip. Only points that stay put while talking: the chin, jaw line
# and lips move with speech and would turn mouth opening into pitch. The nose bridge (27-29)
# is left out too: dlib places it poorly along its length and 27 follows the eyebrows; with it,
# pitch changed 2-3 times faster from frame to frame on real clips and was twice as noisy on
# still frames.
FACE_MODEL_MM = {
    30: (0.0, 0.0, 0.0),  # nose tip
    31: (-14.0, 8.0, 18.0),  # nostril edges, from the image's left to its right
    32: (-7.0, 10.0, 16.0),
    33: (0.0, 11.0, 16.0),  # below the nose tip
    34: (7.0, 10.0, 16.0),
    35: (14.0, 8.0, 18.0),
    36: (-45.0, -40.0, 48.0),  # outer corner of the eye on the image's left
    39: (-16.0, -40.0, 30.0),  # its inner corner
    42: (16.0, -40.0, 30.0),
    45: (45.0, -40.0, 48.0),
}
_MODEL_INDICES = list(FACE_MODEL_MM)
_MODEL_POINTS = np.array([FACE_MODEL_MM[i] for i in _MODEL_INDICES], dtype=np.float64)

# Inner-lip pairs (upper, lower) whose gap is the mouth opening.
_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))


def eye_distance(landmarks: np.ndarray) -> np.ndarray:
    """Distance between the outer eye corners (36-45) in pixels: () for (68, 2), (T,) for (T, 68, 2)."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    return np.linalg.norm(landmarks[..., 45, :] - landmarks[..., 36, :], axis=-1)


def mouth_opening(landmarks: np.ndarray) -> float:
    """Gap between the inner lips relative to the face size: 0 closed, 0.1-0.3 open.

    The mean of the gaps 61-67, 62-66 and 63-65, each measured along the face's vertical (the
    normal of the eye line, so a tilted head does not open the mouth) and never negative,
    divided by the outer eye-corner distance 36-45. Five real talking-head clips averaged
    0.05-0.14 with a std of 0.04-0.08 over their frames.
    landmarks: (68, 2) pixels. Returns NaN for a degenerate shape (eye corners on one point).
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    eyes = landmarks[45] - landmarks[36]
    scale = np.linalg.norm(eyes)
    if not scale > 0:
        return float("nan")
    down = np.array([-eyes[1], eyes[0]]) / scale  # the eye line turned 90 deg: down the face
    gaps = [max(0.0, float((landmarks[lower] - landmarks[upper]) @ down)) for upper, lower in _LIP_PAIRS]
    return float(np.mean(gaps) / scale)


def head_pose(landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float, float]:
    """Head rotation (yaw, pitch, roll) in degrees from 68 landmarks, via cv2.solvePnP.

    Fits FACE_MODEL_MM to the eye-corner and lower-nose landmarks with a pinhole camera whose
    focal length is the image width and whose centre is the image centre: a closed-form EPnP
    start refined by Levenberg-Marquardt (starting from the previous frame's answer instead
    changed nothing by more than 1e-5 deg on real clips, so every frame is fitted on its own).
    yaw > 0: the face turns towards the viewer's right; pitch > 0: chin down (the face looks
    down); roll > 0: the face turns clockwise in the image. A frontal face is about (0, 0, 0),
    but a generic model puts an offset of a few degrees on every face, so use the changes.
    The measurement noise on a still face 130-160 px between the eye corners is about
    0.15 deg per angle (with dlib_models.steady_landmarks).
    landmarks: (68, 2) pixels; image_size: (height, width) pixels.
    """
    height, width = image_size
    camera = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], dtype=np.float64)
    points = np.asarray(landmarks, dtype=np.float64)[_MODEL_INDICES]
    ok, rvec, tvec = cv2.solvePnP(_MODEL_POINTS, points, camera, None, flags=cv2.SOLVEPNP_EPNP)
    if not ok:
        # A frontal face half a metre away: a start the refinement can work from.
        rvec, tvec = np.zeros((3, 1)), np.array([[0.0], [0.0], [500.0]])
    ok, rvec, tvec = cv2.solvePnP(
        _MODEL_POINTS, points, camera, None, rvec, tvec, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
    )
    return _angles(cv2.Rodrigues(rvec)[0])


def _angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a (3, 3) model-to-camera rotation (camera axes x right, y down).

    Euler angles of rotation = Rz(roll) @ Ry(-yaw) @ Rx(pitch): the head nods (pitch) and turns
    (yaw) in its own upright frame, and the result is then tilted in the image plane (roll),
    so a tilted head that turns changes yaw only.
    """
    yaw = np.degrees(np.arcsin(np.clip(rotation[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(rotation[2, 1], rotation[2, 2]))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return float(yaw), float(pitch), float(roll)


def pose_stats(poses: np.ndarray) -> dict[str, float]:
    """How much and how fast a head moves.

    poses: (T, 3) (yaw, pitch, roll) degrees per frame; rows with NaN (no face) are skipped,
        and frame-to-frame changes are taken only between neighbouring frames that both have one.
    Returns {"yaw_std", "pitch_std", "roll_std"} in degrees (>= 0; five real clips measured
    with dlib and head_pose: yaw 1.1-3.4, pitch 2.6-3.6, roll 0.5-2.8),
    {"yaw_speed", "pitch_speed", "roll_speed"}: the mean absolute change per frame in
    degrees/frame (0.15-1.9 on the same clips), and "speed": the mean of the three.
    NaN where there are too few frames.
    """
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    valid = poses[np.all(np.isfinite(poses), axis=1)]
    changes = np.abs(np.diff(poses, axis=0))
    changes = changes[np.all(np.isfinite(changes), axis=1)]
    stats = {}
    for axis, name in enumerate(("yaw", "pitch", "roll")):
        stats[f"{name}_std"] = float(np.std(valid[:, axis])) if len(valid) >= 2 else float("nan")
        stats[f"{name}_speed"] = float(np.mean(changes[:, axis])) if len(changes) else float("nan")
    stats["speed"] = float(np.mean([stats["yaw_speed"], stats["pitch_speed"], stats["roll_speed"]]))
    return stats


def jitter(landmarks: np.ndarray, face_scale: float | np.ndarray) -> float:
    """High-frequency landmark motion: mean |second difference| over face size, >= 0.

    The second difference x[t+1] - 2 x[t] + x[t-1] of each landmark is its acceleration in
    pixels/frame^2; a still face or one moving at a steady speed scores 0, shaking or
    flickering landmarks score high. Its length, averaged over landmarks and frames, is
    divided by the face scale.
    landmarks: (T, 68, 2) pixels (any number of points works), NaN for frames without a face
        (triples of frames that touch one are skipped).
    face_scale: outer eye-corner distance in pixels, a number or (T,) per frame.
    Five real 25-30 fps talking-head clips (512 px) scored 0.007-0.029, most of it the real
    motion of speaking lips and jaw plus the predictor's own noise, and 0.146 for one with
    fast head motion and glasses.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if len(landmarks) < 3:
        return float("nan")
    second = landmarks[2:] - 2 * landmarks[1:-1] + landmarks[:-2]
    size = np.linalg.norm(second, axis=-1)  # (T-2, N)
    scale = np.broadcast_to(np.asarray(face_scale, dtype=np.float64), (len(landmarks),))[1:-1]
    per_frame = np.mean(size, axis=-1) / scale
    per_frame = per_frame[np.isfinite(per_frame)]
    return float(np.mean(per_frame)) if len(per_frame) else float("nan")


def face_box(landmarks: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) integer pixel bounds of (68, 2) landmarks: jaw, brows, nose, eyes and lips."""
    x0, y0 = np.floor(np.min(landmarks, axis=0)).astype(int)
    x1, y1 = np.ceil(np.max(landmarks, axis=0)).astype(int)
    return int(x0), int(y0), int(x1) + 1, int(y1) + 1


def sharpness(image: np.ndarray, box: tuple[int, int, int, int], width: int | None = None) -> float:
    """Variance of the Laplacian of the grayscale face region: >= 0, higher is sharper.

    image: (H, W, 3) uint8 RGB (or (H, W) uint8 gray); box: (x0, y0, x1, y1) pixels, clipped
    to the image. width: if given, the region is first resized to this many pixels wide
    (height in proportion), so that faces at different resolutions compare on one scale;
    the number depends on that scale, so only compare values measured at the same width.
    Returns NaN for an empty region.
    """
    height, full_width = image.shape[:2]
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(full_width, int(box[2])), min(height, int(box[3]))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return float("nan")
    region = image[y0:y1, x0:x1]
    gray = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY) if region.ndim == 3 else region
    if width is not None and width != gray.shape[1]:
        size = (int(width), max(3, round(gray.shape[0] * width / gray.shape[1])))
        shrinking = width < gray.shape[1]
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    return float(cv2.Laplacian(gray.astype(np.float64), cv2.CV_64F).var())


def sharpness_ratio(video_values: np.ndarray, source_value: float) -> float:
    """Mean sharpness of the video's face over the source photo's face: 1 = as sharp, < 1 blurrier.

    video_values: (T,) sharpness per frame (NaN frames skipped); source_value: sharpness of
    the source, measured at the same width.
    """
    values = np.asarray(video_values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values) or not source_value > 0:
        return float("nan")
    return float(np.mean(values) / source_value)


def identity_distance(embedding_a: np.ndarray, embedding_b: np.ndarray) -> float:
    """Euclidean distance of two (128,) dlib face descriptors, >= 0 (in practice below ~1.2).

    The same person usually scores below 0.6, the same photo 0; the acceptance criterion
    asks for at most 0.45 on average between the source photo and the video's frames.
    """
    return float(np.linalg.norm(np.asarray(embedding_a, np.float64) - np.asarray(embedding_b, np.float64)))


def audio_log_energy(clip: AudioClip, fps: float, num_frames: int, window: float = 0.04) -> np.ndarray:
    """(T,) float64 loudness per video frame in dBFS (0 = full-scale square wave, floor -100).

    The RMS of the samples in a `window`-second window (40 ms) centred on the middle of each
    frame's display time, (i + 0.5) / fps seconds; windows past the end of the audio count
    the missing samples as silence.
    """
    return frame_rms_db(clip, fps, num_frames, window, floor_db=-100.0)


def silent_frames(
    clip: AudioClip,
    fps: float,
    num_frames: int,
    below_loud_db: float = 35.0,
    floor_dbfs: float = -55.0,
) -> np.ndarray:
    """(T,) bool: True where a video frame's audio is silent.

    Silent means a log-energy (audio_log_energy) more than `below_loud_db` dB under the clip's
    90th percentile (its loud speech), or under `floor_dbfs` dBFS whatever the clip's level.
    """
    energy = audio_log_energy(clip, fps, num_frames)
    loud = np.percentile(energy, 90) if len(energy) else 0.0
    return (energy < loud - below_loud_db) | (energy < floor_dbfs)


def lagged_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[float, int]:
    """The highest Pearson r between a[t] and b[t + lag] for lag in -max_lag..max_lag.

    a, b: (T,) series (NaN entries are skipped pair by pair). A positive best lag means b
    follows a that many frames later (e.g. a = audio energy, b = mouth opening: the mouth
    lags the sound). Returns (r in [-1, 1], lag in frames); (NaN, 0) when no lag has three
    valid pairs or a series is constant.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    best_r, best_lag = float("nan"), 0
    for lag in range(-max_lag, max_lag + 1):
        r = _pearson(*_overlap(a, b, lag))
        # Ties keep the lag found first; NaN (too few pairs, constant) never wins.
        if np.isfinite(r) and (np.isnan(best_r) or r > best_r):
            best_r, best_lag = r, lag
    return best_r, best_lag


def _overlap(a: np.ndarray, b: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """The parts of a and b that pair a[t] with b[t + lag]."""
    length = min(len(a), len(b))
    if lag >= 0:
        return a[: max(0, length - lag)], b[lag:length]
    return a[-lag:length], b[: max(0, length + lag)]


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r of the finite pairs of x and y; NaN with fewer than 3 pairs or no variance."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / denominator) if denominator > 0 else float("nan")
