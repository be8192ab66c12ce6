"""Tests of talkinghead.eval: metrics with known answers, and dlib's models when installed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from talkinghead.eval import metrics
from talkinghead.types import AudioClip

# ---------------------------------------------------------------- helpers


def frontal_shape(gap: float = 0.0, eye_distance: float = 100.0, angle_deg: float = 0.0) -> np.ndarray:
    """(68, 2) float64 pixels: a made-up face, outer eye corners `eye_distance` apart, inner
    lips `gap` pixels apart (measured across the face), turned `angle_deg` clockwise about
    the nose tip. Only the points the metrics use are meaningful; the rest sit at the nose."""
    points = np.zeros((68, 2))
    half = eye_distance / 2
    points[36], points[39], points[42], points[45] = (-half, -40), (-16, -40), (16, -40), (half, -40)
    upper = {61: -8.0, 62: 0.0, 63: 8.0}
    lower = {67: -8.0, 66: 0.0, 65: 8.0}
    for index, x in upper.items():
        points[index] = (x, 30.0)
    for index, x in lower.items():
        points[index] = (x, 30.0 + gap)
    angle = np.radians(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T + np.array([256.0, 256.0])


def projected_model(yaw: float, pitch: float, roll: float, size: int = 512, distance: float = 600.0) -> np.ndarray:
    """(68, 2) landmarks: the pose model seen by the camera head_pose assumes, after turning it
    by yaw (towards the viewer's right), pitch (chin down) and roll (clockwise), in degrees."""
    yaw_r, pitch_r, roll_r = np.radians([yaw, pitch, roll])
    # Camera axes: x right, y down, z away. Turning the face's forward axis (-z) towards +x is
    # a rotation about y by -yaw; towards +y (down) is about x by +pitch; clockwise in the image
    # is about z by +roll.
    about_y = cv2.Rodrigues(np.array([0.0, -yaw_r, 0.0]))[0]
    about_x = cv2.Rodrigues(np.array([pitch_r, 0.0, 0.0]))[0]
    about_z = cv2.Rodrigues(np.array([0.0, 0.0, roll_r]))[0]
    rotation = about_z @ about_y @ about_x
    model = np.array(list(metrics.FACE_MODEL_MM.values()))
    camera = model @ rotation.T + np.array([0.0, 0.0, distance])
    landmarks = np.zeros((68, 2))
    landmarks[list(metrics.FACE_MODEL_MM)] = camera[:, :2] / camera[:, 2:] * size + size / 2
    return landmarks


# ---------------------------------------------------------------- mouth


def test_mouth_opening_is_gap_over_eye_distance():
    assert metrics.mouth_opening(frontal_shape(gap=0.0)) == pytest.approx(0.0, abs=1e-9)
    assert metrics.mouth_opening(frontal_shape(gap=12.0, eye_distance=100.0)) == pytest.approx(0.12)
    assert metrics.mouth_opening(frontal_shape(gap=12.0, eye_distance=80.0)) == pytest.approx(0.15)


def test_mouth_opening_ignores_head_tilt_and_never_goes_negative():
    tilted = frontal_shape(gap=12.0, angle_deg=25.0)
    assert metrics.mouth_opening(tilted) == pytest.approx(0.12)
    # Lower lip predicted above the upper one: a closed mouth, not a negative opening.
    assert metrics.mouth_opening(frontal_shape(gap=-3.0)) == 0.0


# ---------------------------------------------------------------- head pose


@pytest.mark.parametrize("angles", [(0, 0, 0), (12, 0, 0), (0, -9, 0), (0, 0, 7), (-8, 6, -4)])
def test_head_pose_recovers_angles_and_signs(angles):
    yaw, pitch, roll = metrics.head_pose(projected_model(*angles), (512, 512))
    assert (yaw, pitch, roll) == pytest.approx(angles, abs=0.5)


def test_head_pose_sign_conventions_in_the_image():
    """yaw > 0: nose right of the eyes; pitch > 0: nose lower; roll > 0: right eye corner lower."""
    frontal = projected_model(0, 0, 0)

    def nose_offset(landmarks):
        eyes = landmarks[[36, 39, 42, 45]].mean(axis=0)
        return landmarks[30] - eyes

    assert nose_offset(projected_model(10, 0, 0))[0] > nose_offset(frontal)[0]
    assert nose_offset(projected_model(0, 10, 0))[1] > nose_offset(frontal)[1]
    tilted = projected_model(0, 0, 10)
    assert tilted[45, 1] > tilted[36, 1]


def test_pose_stats_of_constant_series_is_zero():
    poses = np.tile([3.0, -2.0, 1.0], (50, 1))
    stats = metrics.pose_stats(poses)
    for key in ("yaw_std", "pitch_std", "roll_std", "yaw_speed", "pitch_speed", "roll_speed", "speed"):
        assert stats[key] == pytest.approx(0.0, abs=1e-12)


def test_pose_stats_of_sine():
    # 10 whole periods of 40 frames: std = A / sqrt(2), mean |step| = 2 sin(w/2) * 2/pi * A.
    amplitude, period = 4.0, 40
    t = np.arange(10 * period)
    sine = amplitude * np.sin(2 * np.pi * t / period)
    poses = np.stack([sine, 0 * sine, 2 * sine], axis=1)
    stats = metrics.pose_stats(poses)
    step = 2 * np.sin(np.pi / period) * 2 / np.pi * amplitude
    assert stats["yaw_std"] == pytest.approx(amplitude / np.sqrt(2), rel=1e-6)
    assert stats["roll_std"] == pytest.approx(2 * amplitude / np.sqrt(2), rel=1e-6)
    assert stats["pitch_std"] == pytest.approx(0.0, abs=1e-12)
    assert stats["yaw_speed"] == pytest.approx(step, rel=0.01)
    assert stats["speed"] == pytest.approx(step, rel=0.01)  # (step + 0 + 2 step) / 3


def test_pose_stats_skips_frames_without_a_face():
    poses = np.array([[0.0, 0, 0], [1.0, 0, 0], [np.nan] * 3, [5.0, 0, 0], [6.0, 0, 0]])
    stats = metrics.pose_stats(poses)
    assert stats["yaw_speed"] == pytest.approx(1.0)  # the 1 -> 5 jump spans the gap: not counted
    assert stats["yaw_std"] == pytest.approx(np.std([0, 1, 5, 6]))


# ---------------------------------------------------------------- jitter


def test_jitter_is_zero_for_still_and_steady_motion_and_grows_with_noise():
    rng = np.random.default_rng(0)
    face = frontal_shape(gap=5.0)
    t = np.arange(100)[:, None, None]
    still = np.repeat(face[None], 100, axis=0)
    steady = still + t * np.array([1.5, -0.5])  # constant speed
    smooth = still + 3.0 * np.sin(2 * np.pi * t / 50)
    noisy = smooth + rng.normal(0, 1.0, still.shape)
    assert metrics.jitter(still, 100.0) == pytest.approx(0.0, abs=1e-12)
    assert metrics.jitter(steady, 100.0) == pytest.approx(0.0, abs=1e-9)
    assert metrics.jitter(smooth, 100.0) < 0.001
    assert metrics.jitter(noisy, 100.0) > 10 * metrics.jitter(smooth, 100.0)


def test_jitter_scales_with_face_size_and_skips_missing_frames():
    rng = np.random.default_rng(1)
    series = rng.normal(0, 1.0, (40, 68, 2))
    assert metrics.jitter(series, 50.0) == pytest.approx(2 * metrics.jitter(series, 100.0))
    series[10] = np.nan
    assert np.isfinite(metrics.jitter(series, np.full(40, 100.0)))


# ---------------------------------------------------------------- sharpness and identity


def test_sharpness_drops_with_blur():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    box = (50, 50, 150, 150)
    sharp = metrics.sharpness(image, box)
    blurred = metrics.sharpness(cv2.GaussianBlur(image, (0, 0), 2.0), box)
    assert blurred < 0.1 * sharp
    assert metrics.sharpness(np.full((100, 100, 3), 128, np.uint8), (10, 10, 90, 90)) == 0.0
    assert metrics.sharpness_ratio(np.array([blurred, blurred, np.nan]), sharp) == pytest.approx(blurred / sharp)


def test_sharpness_width_resizes_the_region():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    # Shrinking averages neighbouring pixels, so white noise gets smoother.
    assert metrics.sharpness(image, (0, 0, 200, 200), width=50) < metrics.sharpness(image, (0, 0, 200, 200))
    assert np.isnan(metrics.sharpness(image, (300, 300, 400, 400)))


def test_identity_distance_is_euclidean():
    a = np.zeros(128, np.float32)
    b = np.zeros(128, np.float32)
    b[:4] = 0.3  # sqrt(4 * 0.09) = 0.6
    assert metrics.identity_distance(a, a) == 0.0
    assert metrics.identity_distance(a, b) == pytest.approx(0.6, rel=1e-6)


# ---------------------------------------------------------------- audio


def test_lagged_correlation_recovers_a_known_shift():
    rng = np.random.default_rng(4)
    a = rng.normal(size=300)
    for shift in (-2, 0, 1, 2):
        b = np.roll(a, shift)  # b[t + shift] = a[t]
        r, lag = metrics.lagged_correlation(a, b, max_lag=3)
        assert lag == shift
        assert r == pytest.approx(1.0, abs=1e-9)


def test_lagged_correlation_edge_cases():
    a = np.sin(np.arange(50) / 3.0)
    r, lag = metrics.lagged_correlation(a, -a, max_lag=0)
    assert (r, lag) == (pytest.approx(-1.0), 0)
    assert np.isnan(metrics.lagged_correlation(a, np.ones(50), max_lag=2)[0])
    with_gaps = a.copy()
    with_gaps[::7] = np.nan
    assert metrics.lagged_correlation(a, with_gaps, max_lag=1) == (pytest.approx(1.0), 0)


def test_audio_log_energy_and_silence():
    rate, fps = 16000, 25.0
    t = np.arange(2 * rate) / rate
    samples = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    samples[rate:] = 0.0  # the second second is digital silence
    clip = AudioClip(samples=samples, sample_rate=rate)
    energy = metrics.audio_log_energy(clip, fps, 50)
    assert energy.shape == (50,)
    # A sine of amplitude 0.5 has RMS 0.5 / sqrt(2): -9.03 dBFS.
    assert energy[5:20] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)
    assert np.all(energy[30:] == -100.0)
    silent = metrics.silent_frames(clip, fps, 50)
    assert not silent[:24].any() and silent[26:].all()


def test_silent_frames_absolute_floor():
    rate = 16000
    quiet = np.full(rate, 10 ** (-60 / 20), np.float32)  # a steady -60 dBFS hum
    clip = AudioClip(samples=quiet, sample_rate=rate)
    assert metrics.silent_frames(clip, 25.0, 25).all()


# ---------------------------------------------------------------- dlib (needs the eval extra)


@pytest.fixture(scope="module")
def astronaut():
    data = pytest.importorskip("skimage.data")
    return data.astronaut()


@pytest.fixture(scope="module")
def dlib_models():
    pytest.importorskip("dlib")
    pytest.importorskip("face_recognition_models")
    from talkinghead.eval import dlib_models

    return dlib_models


def test_landmarks_on_the_astronaut(dlib_models, astronaut):
    landmarks = dlib_models.landmarks68(astronaut)
    assert landmarks is not None and landmarks.shape == (68, 2) and landmarks.dtype == np.float32
    # Her face is in the upper middle of the 512 x 512 picture; the eyes above the mouth.
    assert 150 < landmarks[:, 0].mean() < 300 and 50 < landmarks[:, 1].mean() < 200
    assert landmarks[36, 0] < landmarks[45, 0]
    assert landmarks[[36, 45], 1].mean() < landmarks[[48, 54], 1].mean()
    assert 0.0 <= metrics.mouth_opening(landmarks) < 0.3  # a smile that shows the teeth


def test_no_face_in_a_blank_image(dlib_models):
    assert dlib_models.landmarks68(np.full((120, 160, 3), 200, np.uint8)) is None


def test_identity_distance_of_the_astronaut(dlib_models, astronaut):
    landmarks = dlib_models.landmarks68(astronaut)
    embedding = dlib_models.face_embedding(astronaut, landmarks)
    assert embedding.shape == (128,) and embedding.dtype == np.float32
    again = dlib_models.face_embedding(astronaut, landmarks)
    assert metrics.identity_distance(embedding, again) < 1e-5
    flipped = np.ascontiguousarray(astronaut[:, ::-1])
    flipped_landmarks = dlib_models.landmarks68(flipped)
    assert flipped_landmarks is not None
    assert metrics.identity_distance(embedding, dlib_models.face_embedding(flipped, flipped_landmarks)) < 0.45


def test_tracker_follows_a_moving_face(dlib_models, astronaut):
    tracker = dlib_models.FaceTracker()
    first = dlib_models.landmarks68(astronaut)
    for shift in (0, 4, 8, 12):
        moved = np.roll(astronaut, shift, axis=1)
        landmarks = tracker.update(moved)
        assert landmarks is not None
        assert np.median(landmarks[:, 0] - first[:, 0]) == pytest.approx(shift, abs=2.0)
    assert tracker.update(np.full_like(astronaut, 200)) is None


def test_head_pose_of_a_mirrored_face_mirrors_yaw_and_roll(dlib_models, astronaut):
    size = astronaut.shape[:2]
    yaw, pitch, roll = metrics.head_pose(dlib_models.landmarks68(astronaut), size)
    flipped = np.ascontiguousarray(astronaut[:, ::-1])
    yaw_f, pitch_f, roll_f = metrics.head_pose(dlib_models.landmarks68(flipped), size)
    # She faces slightly to the viewer's right (more of her cheek on the image's left shows).
    assert yaw > 0 > yaw_f
    assert yaw + yaw_f == pytest.approx(0.0, abs=1.5)
    assert roll + roll_f == pytest.approx(0.0, abs=1.0)
    assert pitch == pytest.approx(pitch_f, abs=1.0)


# ---------------------------------------------------------------- reconstruction


def test_psnr_known_values():
    a = np.full((8, 8, 3), 100, np.uint8)
    assert metrics.psnr(a, a) == metrics.PSNR_IDENTICAL_DB
    # A difference of 1 everywhere: MSE 1, PSNR = 20 log10(255) = 48.13 dB.
    assert metrics.psnr(a, a + 1) == pytest.approx(20 * np.log10(255), abs=1e-9)
    assert metrics.psnr(a, a + 10) == pytest.approx(20 * np.log10(25.5), abs=1e-9)


def test_ssim_identical_noisy_and_inverted():
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (64, 64, 3)).astype(np.uint8), (5, 5), 2)
    assert metrics.ssim(image, image) == pytest.approx(1.0)
    noisy = np.clip(image + rng.normal(0, 20, image.shape), 0, 255).astype(np.uint8)
    assert 0.0 < metrics.ssim(image, noisy) < 0.9
    assert metrics.ssim(image, 255 - image) < 0.0  # anti-correlated structure


def test_similarity_transform_recovers_a_known_one():
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 100, (10, 2))
    angle, scale, shift = np.radians(20), 1.7, np.array([5.0, -3.0])
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = metrics.similarity_transform(points, points @ linear.T + shift)
    assert matrix[:, :2] == pytest.approx(linear)
    assert matrix[:, 2] == pytest.approx(shift)


def _model_face(scale: float, angle_deg: float, centre=(256.0, 256.0)) -> np.ndarray:
    """(68, 2) pixels: the pose model's points seen from the front, `scale` px per mm, turned
    `angle_deg` clockwise (only the points the alignment uses are set)."""
    angle = np.radians(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = np.zeros((68, 2))
    for index, (x, y, _) in metrics.FACE_MODEL_MM.items():
        landmarks[index] = rotation @ (np.array([x, y]) * scale) + centre
    return landmarks


def test_aligned_face_puts_the_eyes_in_place_whatever_the_pose():
    half_span = metrics.CROP_EYE_SPAN * metrics.CROP_SIZE / 2
    for scale, angle in ((1.2, 0.0), (0.7, 30.0), (2.0, -15.0)):
        landmarks = _model_face(scale, angle)
        image = np.zeros((512, 512, 3), np.uint8)
        for x, y in landmarks[[36, 45]]:
            cv2.circle(image, (int(round(x)), int(round(y))), 3, (255, 255, 255), -1)
        crop = metrics.aligned_face(image, landmarks)
        assert crop.shape == (metrics.CROP_SIZE, metrics.CROP_SIZE, 3)
        ys, xs = np.nonzero(crop[..., 0] > 60)
        left, right = xs < metrics.CROP_SIZE / 2, xs >= metrics.CROP_SIZE / 2
        # Each eye corner lands where the template puts it, level with the other.
        assert xs[left].mean() == pytest.approx(metrics.CROP_SIZE / 2 - half_span, abs=1.0)
        assert xs[right].mean() == pytest.approx(metrics.CROP_SIZE / 2 + half_span, abs=1.0)
        assert ys[left].mean() == pytest.approx(ys[right].mean(), abs=1.0)


def test_landmark_distance():
    a = np.zeros((3, 68, 2))
    b = a.copy()
    b[..., 0] += 3.0
    b[:, 48:68, 1] += 4.0  # the mouth moves 5 px in all
    assert metrics.landmark_distance(a, a) == 0.0
    assert metrics.landmark_distance(a, b, points=metrics.MOUTH_POINTS) == pytest.approx(5.0)
    assert metrics.landmark_distance(a, b, scale=2.0, points=metrics.MOUTH_POINTS) == pytest.approx(10.0)
    assert metrics.landmark_distance(a, b) == pytest.approx((48 * 3 + 20 * 5) / 68)
    b[1] = np.nan  # a frame without a face is skipped
    assert metrics.landmark_distance(a, b, points=metrics.MOUTH_POINTS) == pytest.approx(5.0)


# ---------------------------------------------------------------- eyes, background, several videos


def _eye_shape(height: float) -> np.ndarray:
    """68 points with both eyes 30 px wide and `height` px open."""
    points = np.zeros((68, 2))
    for start, x0 in ((36, 100.0), (42, 200.0)):
        points[start] = (x0, 0)
        points[start + 3] = (x0 + 30, 0)
        points[start + 1], points[start + 2] = (x0 + 10, -height / 2), (x0 + 20, -height / 2)
        points[start + 5], points[start + 4] = (x0 + 10, height / 2), (x0 + 20, height / 2)
    return points


def test_eye_aspect_ratio_and_blinks():
    assert metrics.eye_aspect_ratio(_eye_shape(9.0)) == pytest.approx(0.3)
    fps = 25.0
    heights = np.full(250, 9.0)  # 10 s of open eyes
    heights[[50, 51, 52]] = 1.0  # a blink of 3 frames
    heights[120:124] = [1.0, 6.5, 1.0, 4.0]  # one blink that half-reopens in the middle
    heights[180:230] = 1.0  # 2 s closed: resting, not a blink
    ratio = metrics.eye_aspect_ratio(np.stack([_eye_shape(h) for h in heights]))
    assert metrics.blinks(ratio, fps) == [(50, 52), (120, 123)]
    assert metrics.blinks_per_minute(ratio, fps) == pytest.approx(2 * 6.0)
    assert metrics.blinks_per_minute(np.full(250, 0.3), fps) == 0.0
    ratio[124:130] = np.nan  # a blink that touches a faceless frame is not counted
    assert metrics.blinks(ratio, fps) == [(50, 52)]


def test_background_change_ignores_the_head():
    a = np.full((100, 100, 3), 50, np.uint8)
    b = a.copy()
    b[20:100, 30:70] = 200  # everything changes inside the head region only
    region = (30, 20, 70, 100)
    assert metrics.background_change(a, b, region) == 0.0
    b[0:10, :] = 60  # the top tenth of the background brightens by 10 grey levels
    outside = 100 * 100 - 40 * 80
    assert metrics.background_change(a, b, region) == pytest.approx(10 * 1000 / outside)
    shape = frontal_shape()
    x0, y0, x1, y1 = metrics.head_region(shape, (512, 512))
    assert y1 == 512 and x0 < shape[36, 0] and x1 > shape[45, 0]


def test_pose_diversity_and_range_distance():
    t = np.arange(100)[:, None]
    curve = np.hstack([np.sin(t / 5), np.cos(t / 7), 0 * t]).astype(np.float64)
    assert metrics.pose_diversity([curve, curve + 5.0]) == pytest.approx(0.0)  # offsets are not motion
    other = curve.copy()
    other[:, 2] += np.where(t[:, 0] % 2 == 0, 3.0, -3.0)  # +-3 deg on one of three angles
    assert metrics.pose_diversity([curve, other]) == pytest.approx(np.sqrt(9 / 3))
    assert np.isnan(metrics.pose_diversity([curve]))
    assert metrics.range_distance(2.0, 1.0, 3.0) == 0.0
    assert metrics.range_distance(6.0, 1.0, 3.0) == pytest.approx(1.5)
    assert metrics.range_distance(0.0, 1.0, 3.0) == pytest.approx(0.5)


# ---------------------------------------------------------------- voice activity


def test_voice_activity_on_speech_and_silence(monkeypatch):
    from talkinghead.eval import voice
    from talkinghead.io.audio import load_audio

    from .conftest import DEMO_SPEECH

    clip = load_audio(DEMO_SPEECH)
    silence = AudioClip(np.zeros(16000, np.float32), 16000)
    expected = "silero-vad" if voice.silero_model_path() else "energy"
    speech = voice.voice_activity(clip, 25.0, clip.num_frames(25.0))
    assert speech.method == expected and speech.voiced.mean() > 0.4
    quiet = voice.voice_activity(silence, 25.0, 25)
    assert not quiet.voiced.any()
    monkeypatch.setattr(voice, "silero_model_path", lambda: None)
    fallback = voice.voice_activity(clip, 25.0, clip.num_frames(25.0))
    assert fallback.method == "energy" and fallback.voiced.mean() > 0.4


def test_bilabial_closures_count_closed_lips_at_p_b_m():
    from talkinghead.audio.phones import PhoneSegment

    fps = 25.0
    mouth = np.full(50, 0.1)
    mouth[10] = 0.0  # closed at the first M's middle (frame 10: 0.40-0.44 s)
    mouth[31] = 0.02  # closed one frame beside the B's middle (frame 30)
    segments = [
        PhoneSegment("M", 0.38, 0.46),
        PhoneSegment("AA", 0.46, 0.8),
        PhoneSegment("B", 1.18, 1.26),
        PhoneSegment("P", 1.58, 1.66),  # frame 40: lips open there -> not closed
        PhoneSegment("M", 3.0, 3.1),  # past the video: not counted
    ]
    assert metrics.bilabial_closures(mouth, segments, fps) == (2, 3)
    mouth[40] = np.nan  # no face at the P: not counted
    assert metrics.bilabial_closures(mouth, segments, fps) == (2, 2)
    assert metrics.bilabial_closures(mouth, [PhoneSegment("AA", 0.0, 1.0)], fps) == (0, 0)
