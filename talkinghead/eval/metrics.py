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


def speed_by_voice(poses: np.ndarray, voiced: np.ndarray, min_frames: int = 10) -> tuple[float, float]:
    """(while speaking, in pauses): mean absolute head-pose change per frame in degrees (over
    yaw, pitch, roll), counting a change when both its frames have a face and are voiced
    (resp. both silent). poses: (T, 3) degrees, NaN where no face; voiced: (T,) bool.
    NaN for a side with fewer than `min_frames` changes."""
    changes = np.abs(np.diff(np.asarray(poses, dtype=np.float64).reshape(-1, 3), axis=0)).mean(axis=1)
    voiced = np.asarray(voiced, dtype=bool)[: len(changes) + 1]
    changes = changes[: len(voiced) - 1]
    found = np.isfinite(changes)
    both_voiced, both_silent = voiced[1:] & voiced[:-1] & found, ~voiced[1:] & ~voiced[:-1] & found
    side = lambda keep: float(changes[keep].mean()) if keep.sum() >= min_frames else float("nan")  # noqa: E731
    return side(both_voiced), side(both_silent)


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


def bilabial_closures(mouth: np.ndarray, segments, fps: float, window: int = 1, closed_share: float = 0.35) -> tuple[int, int]:
    """(closed, counted): of the P/B/M phone segments whose middle falls on a frame with a
    measured mouth, how many show the lips closed: the smallest opening within +-`window`
    frames of the middle is at most `closed_share` of the median opening over the other
    frames with a mouth (so a photo's own lip shape sets the scale).

    mouth: (T,) mouth opening per frame (NaN where no face); segments: objects with .phone,
    .start, .end in seconds (audio.phones.PhoneSegment)."""
    mouth = np.asarray(mouth, np.float64)
    middles = [int((s.start + s.end) / 2 * fps) for s in segments if s.phone in ("P", "B", "M")]
    middles = [m for m in middles if m < len(mouth) and np.isfinite(mouth[m])]
    if not middles:
        return 0, 0
    near = np.zeros(len(mouth), bool)
    for m in middles:
        near[max(0, m - window) : m + window + 1] = True
    scale = np.nanmedian(np.where(near, np.nan, mouth)) if (~near & np.isfinite(mouth)).any() else np.nanmedian(mouth)
    closed = sum(np.nanmin(mouth[max(0, m - window) : m + window + 1]) <= closed_share * scale for m in middles)
    return int(closed), len(middles)


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
        r = pearson(*_overlap(a, b, lag))
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


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r of the finite pairs of x and y; NaN with fewer than 3 pairs or no variance."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / denominator) if denominator > 0 else float("nan")


def std_ratio(predicted: np.ndarray, real: np.ndarray) -> float:
    """std(predicted) / std(real) over the frames both have (NaN where real has no spread):
    1 = as much motion as the real one."""
    n = min(len(predicted), len(real))
    real_std = float(np.nanstd(real[:n]))
    return float(np.nanstd(predicted[:n])) / real_std if real_std > 0 else float("nan")


# ---------------------------------------------------------------- reconstruction


# Identical images have an infinite PSNR; this is what psnr() reports for them instead, so the
# figure stays a number (JSON has no infinity). Any real difference of one grey level on 1 %
# of the pixels already reads about 68 dB.
PSNR_IDENTICAL_DB = 100.0

# The aligned face crop that psnr/ssim compare: the pose model's stable points (eye corners and
# lower nose, FACE_MODEL_MM) seen from the front are placed at these positions in a
# CROP_SIZE-pixel square: outer eye corners CROP_EYE_SPAN of the side apart, nose tip at
# (0.5, CROP_NOSE_Y) of the side. The crop then spans the brows to the chin.
CROP_SIZE = 128
CROP_EYE_SPAN = 0.40
CROP_NOSE_Y = 0.52

MOUTH_POINTS = slice(48, 68)  # outer and inner lips in the 68-point order


def similarity_transform(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity (rotation, uniform scale, shift) mapping points to targets.

    points, targets: (N, 2) matching positions, N >= 2 (Umeyama's closed form).
    """
    points = np.asarray(points, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    mean_p, mean_t = points.mean(axis=0), targets.mean(axis=0)
    p, t = points - mean_p, targets - mean_t
    # As complex numbers a similarity is one multiplication: t = z * p.
    pc, tc = p[:, 0] + 1j * p[:, 1], t[:, 0] + 1j * t[:, 1]
    z = np.sum(tc * np.conj(pc)) / max(np.sum(np.abs(pc) ** 2), 1e-12)
    linear = np.array([[z.real, -z.imag], [z.imag, z.real]])
    return np.hstack([linear, (mean_t - linear @ mean_p)[:, None]])


def _crop_template(size: int) -> np.ndarray:
    """(N, 2) pixel targets of the FACE_MODEL_MM points in the aligned crop."""
    model = _MODEL_POINTS[:, :2]
    span = model[_MODEL_INDICES.index(45), 0] - model[_MODEL_INDICES.index(36), 0]
    return model * (CROP_EYE_SPAN * size / span) + np.array([0.5 * size, CROP_NOSE_Y * size])


def aligned_face(image: np.ndarray, landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """(size, size, 3) uint8 face crop, rotated and scaled so that the eye corners and lower
    nose land on fixed positions (brows to chin, upright, the same scale for every face).

    image: (H, W, 3) uint8; landmarks: (68, 2) pixels of the face in it. Two frames with the
    same landmarks give the same crop, so a video compared with itself is identical.
    """
    points = np.asarray(landmarks, dtype=np.float64)[_MODEL_INDICES]
    matrix = similarity_transform(points, _crop_template(size))
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images of one shape, in dB (peak 255).

    Higher is closer: about 20-30 dB for different frames of one face, 40+ for near copies,
    PSNR_IDENTICAL_DB (100) for identical images.
    """
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    if mse == 0.0:
        return PSNR_IDENTICAL_DB
    return float(min(PSNR_IDENTICAL_DB, 10 * np.log10(255.0**2 / mse)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004) of two uint8 images of one shape, in [-1, 1].

    1 for identical images. Gaussian window of sigma 1.5 (11 x 11), K1 = 0.01, K2 = 0.03,
    dynamic range 255; the SSIM map is averaged over pixels and colour channels.
    """
    x = np.asarray(a, np.float64)
    y = np.asarray(b, np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(np.mean(ssim_map))


def landmark_distance(landmarks: np.ndarray, reference: np.ndarray, scale: float = 1.0, points: slice = slice(None)) -> float:
    """LMD: mean Euclidean distance between matching landmarks of two videos, in pixels * scale.

    landmarks, reference: (T, 68, 2) pixels in the same image coordinates, NaN rows where a
    frame has no face (skipped). Nothing is aligned: head motion that the reference does not
    have counts, as it should for a reconstruction. points: which landmarks (default all 68;
    metrics.MOUTH_POINTS for the lips). scale: multiplies the distances, e.g. to express them at
    a fixed face size. 0 for identical tracks; NaN when no frame has a face in both.
    """
    a = np.asarray(landmarks, dtype=np.float64)[:, points]
    b = np.asarray(reference, dtype=np.float64)[:, points]
    length = min(len(a), len(b))
    per_frame = np.mean(np.linalg.norm(a[:length] - b[:length], axis=-1), axis=-1)
    per_frame = per_frame[np.isfinite(per_frame)]
    return float(np.mean(per_frame) * scale) if len(per_frame) else float("nan")



# ---------------------------------------------------------------- eyes


# (p1, p2, p3, p4, p5, p6) of each eye for the eye aspect ratio (Soukupova and Cech 2016).
_EYES = ((36, 37, 38, 39, 40, 41), (42, 43, 44, 45, 46, 47))


def eye_aspect_ratio(landmarks: np.ndarray) -> np.ndarray:
    """How open the eyes are: (|p2-p6| + |p3-p5|) / (2 |p1-p4|), averaged over both eyes.

    landmarks: (68, 2) or (T, 68, 2) pixels. Returns () or (T,): about 0.25-0.35 open, under
    0.15 closed (it depends on the person, so blinks_per_minute compares with the clip's own).
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    ratios = []
    for p1, p2, p3, p4, p5, p6 in _EYES:
        height = np.linalg.norm(landmarks[..., p2, :] - landmarks[..., p6, :], axis=-1)
        height = height + np.linalg.norm(landmarks[..., p3, :] - landmarks[..., p5, :], axis=-1)
        ratios.append(height / (2 * np.linalg.norm(landmarks[..., p1, :] - landmarks[..., p4, :], axis=-1)))
    return np.mean(ratios, axis=0)


def blinks(eye_ratio: np.ndarray, fps: float, closed_fraction: float = 0.6, open_fraction: float = 0.8,
           max_seconds: float = 0.7) -> list[tuple[int, int]]:
    """Blinks as (first frame, last frame) runs where the eyes close and open again.

    eye_ratio: (T,) eye_aspect_ratio per frame, NaN without a face. The clip's median ratio
    stands for its open eyes. A blink starts when the ratio drops below `closed_fraction` of
    it and lasts until it is back above `open_fraction` (the gap between the two keeps a
    ratio that wobbles about one threshold from counting as several blinks). Runs longer
    than `max_seconds` (looking down, resting eyes) or touching a frame without a face do
    not count.
    """
    ratio = np.asarray(eye_ratio, dtype=np.float64)
    finite = np.isfinite(ratio)
    if finite.sum() < 3:
        return []
    open_level = np.median(ratio[finite])
    runs, start = [], None
    for index in range(len(ratio) + 1):
        value = ratio[index] if index < len(ratio) else np.inf  # the clip ends with open eyes
        if start is None:
            if value < closed_fraction * open_level:
                start = index
            continue
        if np.isfinite(value) and value <= open_fraction * open_level:
            continue
        reopened = index >= len(ratio) or finite[index]
        bounded = reopened and (start == 0 or finite[start - 1])
        if bounded and (index - start) <= max_seconds * fps:
            runs.append((start, index - 1))
        start = None
    return runs


def blinks_per_minute(eye_ratio: np.ndarray, fps: float) -> float:
    """Blink rate over the frames with a face, per minute (people blink about 10-30 times a
    minute while talking; a still photo 0). NaN with under one second of face."""
    ratio = np.asarray(eye_ratio, dtype=np.float64)
    seconds = np.isfinite(ratio).sum() / fps
    if seconds < 1.0:
        return float("nan")
    return float(len(blinks(ratio, fps)) * 60.0 / seconds)


# ---------------------------------------------------------------- background


def head_region(landmarks: np.ndarray, image_size: tuple[int, int], margin: float = 0.5) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixels that hold the head, hair and the body below it.

    The landmarks' box widened by `margin` of its width on each side, raised by its height
    (hair), and extended to the bottom of the image (neck, shoulders). landmarks: (68, 2).
    """
    height, width = image_size
    x0, y0, x1, y1 = face_box(landmarks)
    w, h = x1 - x0, y1 - y0
    return (max(0, int(x0 - margin * w)), max(0, int(y0 - h)), min(width, int(x1 + margin * w)), height)


def background_change(previous: np.ndarray, frame: np.ndarray, region: tuple[int, int, int, int]) -> float:
    """Mean absolute grey-level change (0-255) between two frames outside the head region.

    previous, frame: (H, W, 3) uint8; region: (x0, y0, x1, y1) to ignore (head_region).
    0 for a still background; camera noise and compression give about 0.5-2; a warp that
    drags the background along gives more. NaN when the region covers the whole image.
    """
    keep = np.ones(frame.shape[:2], dtype=bool)
    x0, y0, x1, y1 = region
    keep[y0:y1, x0:x1] = False
    if not keep.any():
        return float("nan")
    a = cv2.cvtColor(previous, cv2.COLOR_RGB2GRAY).astype(np.int16)
    b = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.int16)
    return float(np.mean(np.abs(a - b)[keep]))


# ---------------------------------------------------------------- several videos


def pose_diversity(pose_curves: list[np.ndarray]) -> float:
    """How different the head motions of videos made from one input are, in degrees: the mean
    of `pose_distances` (0 when every seed gives the same motion; NaN with fewer than two)."""
    distances = pose_distances(pose_curves)
    return float(np.mean(distances)) if distances else float("nan")


def pose_distances(pose_curves: list[np.ndarray]) -> list[float]:
    """RMS difference over frames and angles between every two head-pose curves, in degrees.

    pose_curves: (T, 3) yaw/pitch/roll degrees per video (NaN rows skipped); each curve has its
    own mean removed (a constant offset is not motion). One value per pair, in order (0, 1),
    (0, 2), ..., (1, 2), ...
    """
    centred = [np.asarray(c, dtype=np.float64) - np.nanmean(np.asarray(c, dtype=np.float64), axis=0) for c in pose_curves]
    distances = []
    for i in range(len(centred)):
        for j in range(i + 1, len(centred)):
            length = min(len(centred[i]), len(centred[j]))
            distances.append(float(np.sqrt(np.nanmean((centred[i][:length] - centred[j][:length]) ** 2))))
    return distances


def range_distance(value: float, low: float, high: float) -> float:
    """How far a value lies outside [low, high], in widths of that range: 0 inside.

    E.g. a yaw std of 6 against real videos' 1-3 deg gives (6 - 3) / 2 = 1.5. NaN for a NaN value.
    """
    if not np.isfinite(value):
        return float("nan")
    width = max(high - low, 1e-9)
    return float(max(0.0, low - value, value - high) / width)
