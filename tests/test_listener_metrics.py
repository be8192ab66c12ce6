"""Tests of talkinghead.eval.listener's pure functions on synthetic curves with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.eval import listener, metrics

FPS = 25.0


def face(gap: float = 0.0, mouth_width: float = 55.0, eye_distance: float = 100.0, angle_deg: float = 0.0) -> np.ndarray:
    """(68, 2) float64 pixels: outer eye corners `eye_distance` apart, inner lips `gap` px apart
    across the face, mouth corners `mouth_width` apart, turned `angle_deg` about the nose tip.
    Points the listener measures are placed; the rest sit at the nose tip."""
    points = np.zeros((68, 2))
    points[36], points[45] = (-eye_distance / 2, -40), (eye_distance / 2, -40)
    points[48], points[54] = (-mouth_width / 2, 32), (mouth_width / 2, 32)
    for upper, lower, x in ((61, 67, -8.0), (62, 66, 0.0), (63, 65, 8.0)):
        points[upper], points[lower] = (x, 30.0), (x, 30.0 + gap)
    angle = np.radians(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T + 256.0


def nod(t: np.ndarray, centre: float, length: float, depth: float) -> np.ndarray:
    """(T,) a raised-cosine down-and-up of `depth` degrees lasting `length` s centred at `centre` s."""
    phase = (t - centre) / length
    return np.where(np.abs(phase) < 0.5, depth * 0.5 * (1 + np.cos(2 * np.pi * phase)), 0.0)


def pitch_curve(nods=(), seconds: float = 12.0, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(t, pitch): a slow 3-degree drift plus dlib-like noise plus the given (centre, length, depth) nods."""
    t = np.arange(int(seconds * FPS)) / FPS
    pitch = 3.0 * np.sin(2 * np.pi * t / 20.0 + 1.0) + np.random.default_rng(seed).normal(0, noise, len(t))
    for centre, length, depth in nods:
        pitch += nod(t, centre, length, depth)
    return t, pitch


# ---------------------------------------------------------------- face shape


def test_mouth_gap_ratio_matches_metrics_and_ignores_tilt():
    shapes = np.stack([face(gap=g, angle_deg=a) for g, a in ((0, 0), (10, 0), (10, 25), (20, -10))])
    ratios = listener.mouth_gap_ratio(shapes)
    assert ratios.shape == (4,)
    np.testing.assert_allclose(ratios, [0.0, 0.1, 0.1, 0.2], atol=1e-9)
    np.testing.assert_allclose(ratios, [metrics.mouth_opening(s) for s in shapes], atol=1e-12)


def test_mouth_gap_ratio_is_nan_without_a_face_and_never_negative():
    shapes = np.stack([face(gap=-5), np.full((68, 2), np.nan)])
    ratios = listener.mouth_gap_ratio(shapes)
    assert ratios[0] == 0.0 and np.isnan(ratios[1])


def test_smile_ratio_grows_when_the_corners_move_out():
    widths = [50.0, 55.0, 62.0]
    ratios = listener.smile_ratio(np.stack([face(mouth_width=w, eye_distance=80.0, angle_deg=15) for w in widths]))
    np.testing.assert_allclose(ratios, np.array(widths) / 80.0)
    assert np.all(np.diff(ratios) > 0)


# ---------------------------------------------------------------- nods


def test_three_nods_are_counted_at_their_times():
    _, pitch = pitch_curve([(2.0, 0.5, 4.0), (5.5, 0.8, 3.0), (9.0, 1.2, 2.5)])
    nods = listener.detect_nods(pitch, FPS)
    assert nods.count == 3
    np.testing.assert_allclose(nods.times_s, [2.0, 5.5, 9.0], atol=0.12)
    np.testing.assert_allclose(nods.durations_s, [0.5, 0.8, 1.2], rtol=0.3)
    assert nods.per_minute == pytest.approx(3 * 60 / 12.0)


def test_a_flat_or_drifting_pitch_has_no_nods():
    _, drifting = pitch_curve([])
    assert listener.detect_nods(drifting, FPS).count == 0
    assert listener.detect_nods(np.zeros(300), FPS).count == 0


def test_too_small_too_slow_or_too_quick_excursions_are_not_nods():
    _, small = pitch_curve([(3.0, 0.6, 1.0)])
    _, slow = pitch_curve([(6.0, 3.0, 6.0)])
    spike = np.zeros(300)
    spike[150] = 5.0  # one frame of landmark jitter
    for pitch in (small, slow, spike):
        assert listener.detect_nods(pitch, FPS).count == 0


def test_nods_survive_missing_frames_but_not_at_their_peak():
    t, pitch = pitch_curve([(3.0, 0.6, 4.0), (8.0, 0.6, 4.0)])
    pitch[np.abs(t - 5.5) < 0.3] = np.nan  # a gap away from both nods
    pitch[np.abs(t - 8.0) < 0.05] = np.nan  # the second nod's lowest point unseen
    nods = listener.detect_nods(pitch, FPS)
    assert nods.count == 1 and nods.times_s[0] == pytest.approx(3.0, abs=0.12)


# ---------------------------------------------------------------- response timing


def speech_with_pauses(seconds: float = 19.0) -> tuple[np.ndarray, np.ndarray]:
    """(t, voiced): speech with a 2 s pause every 5 s (starting at 3 s, 8 s, 13 s, 18 s)."""
    t = np.arange(int(seconds * FPS)) / FPS
    return t, (t % 5.0) < 3.0


def test_pause_starts_skip_opening_silence_and_short_gaps():
    voiced = np.array([0] * 10 + [1] * 20 + [0] * 3 + [1] * 20 + [0] * 10 + [1] * 5, dtype=bool)
    np.testing.assert_array_equal(listener.pause_starts(voiced, FPS, min_pause_s=0.3), [53])


def test_response_ratio_above_one_when_motion_follows_pauses():
    t, voiced = speech_with_pauses()
    starts = listener.pause_starts(voiced, FPS)
    rng = np.random.default_rng(1)
    poses = rng.normal(0, 0.05, (len(t), 3))
    for start in starts:
        poses[:, 1] += nod(t, start / FPS + 0.8, 0.6, 4.0)
    timing = listener.response_timing(poses, voiced, FPS)
    assert timing.pauses == len(starts) == 4
    assert timing.ratio > 1.5  # nod speed averaged over the 1.7 s windows and three angles, on top of noise
    assert timing.after_pause_deg_s > timing.speech_deg_s > 0


def test_response_ratio_below_one_when_motion_is_during_speech_only():
    t, voiced = speech_with_pauses()
    poses = np.random.default_rng(2).normal(0, 0.05, (len(t), 3))
    poses[:, 0] += np.where(voiced, 3.0 * np.sin(2 * np.pi * 1.0 * t), 0.0)
    assert listener.response_timing(poses, voiced, FPS).ratio < 0.5


def test_response_ratio_is_nan_without_pauses():
    timing = listener.response_timing(np.zeros((100, 3)), np.ones(100, bool), FPS)
    assert timing.pauses == 0 and np.isnan(timing.ratio)


# ---------------------------------------------------------------- mouth vs audio, diversity


def test_mouth_following_the_audio_correlates_and_a_still_one_does_not():
    t = np.arange(250) / FPS
    rng = np.random.default_rng(3)
    energy = -30 + 15 * np.sin(2 * np.pi * 3.0 * t) + rng.normal(0, 2, len(t))
    talking = 0.08 + 0.004 * (energy + 30) + rng.normal(0, 0.005, len(t))
    late = np.roll(talking, 3)  # talking along 0.12 s behind the voice
    listening = 0.01 + rng.normal(0, 0.003, len(t))
    assert listener.mouth_audio_correlation(talking, energy, FPS) > 0.9
    assert listener.mouth_audio_correlation(late, energy, FPS) > 0.9
    assert listener.mouth_audio_correlation(late, energy, FPS, max_lag_s=0.0) < 0.4
    assert abs(listener.mouth_audio_correlation(listening, energy, FPS)) < 0.4


def test_pose_rmse_measures_motion_not_offset_and_cuts_to_the_shorter():
    t = np.arange(200) / FPS
    a = np.stack([2 * np.sin(t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    assert listener.pose_rmse(a, a + 7.0) == pytest.approx(0.0, abs=1e-12)
    b = a.copy()
    b[:, 1] += 3.0 * np.sign(np.sin(3 * t))  # +-3 deg square wave on pitch
    a150, b150 = a[:150] - a[:150].mean(axis=0), b[:150] - b[:150].mean(axis=0)
    expected = np.sqrt(np.mean((a150 - b150) ** 2))
    assert listener.pose_rmse(a, b[:150]) == pytest.approx(expected, rel=1e-9)
    assert listener.pose_rmse(a, b[:150]) > 1.0


def test_compare_attitudes_reports_smile_and_nod_differences():
    base = {
        "video": "v.mp4", "duration_s": 8.0, "frames": 200, "fps": 25.0, "face_found_rate": 1.0, "yaw_std": 1.0,
        "pitch_std": 1.0, "roll_std": 0.5, "mouth_gap_mean": 0.02, "nods_per_minute": None, "mouth_audio_r": 0.1,
        "response_ratio": 1.2, "response_after_pause_deg_s": 3.0, "response_speech_deg_s": 2.5, "pauses": 3,
        "identity_distance": 0.3, "has_audio": True, "audio_duration_s": 8.0, "speaker_duration_s": 8.0,
        "audio_source": "video", "voice_method": "energy", "series": None,
    }  # fmt: skip
    positive = listener.ListenerReport(**base, smile_mean=0.60, nods=4)
    negative = listener.ListenerReport(**base, smile_mean=0.55, nods=1)
    comparison = listener.compare_attitudes(positive, negative)
    assert comparison["smile_difference"] == pytest.approx(0.05)
    assert (comparison["nods_positive"], comparison["nods_negative"], comparison["nod_difference"]) == (4, 1, 3)
    assert "series" not in positive.summary() and positive.summary()["nods"] == 4
