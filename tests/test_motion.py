import numpy as np

from talkinghead.audio.loudness import loudness_features
from talkinghead.motion.baseline import BaselineMotion
from talkinghead.motion.blinks import blinks
from talkinghead.facemodel.geometric_basis import GeometricBasis
from talkinghead.motion.head import head_motion
from talkinghead.types import AudioClip

from .conftest import syllables

BASIS = GeometricBasis()  # the loudness mouth drives its jaw_open
OWN = np.zeros(4, np.float32)


def speech(seconds=6.0, pause=None) -> AudioClip:
    return AudioClip(syllables(seconds, pause=pause), 16000)


def test_same_seed_same_motion_other_seed_other_motion():
    model, clip = BaselineMotion(), speech()
    a, b = model(clip, 25, BASIS, OWN, seed=3), model(clip, 25, BASIS, OWN, seed=3)
    c = model(clip, 25, BASIS, OWN, seed=4)
    np.testing.assert_array_equal(a.rotation, b.rotation)
    np.testing.assert_array_equal(a.eyelids, b.eyelids)
    assert np.sqrt(np.mean((a.rotation - c.rotation) ** 2)) > 1.0


def test_length_matches_the_audio():
    motion = BaselineMotion()(speech(4.02), 25, BASIS, OWN, seed=0)
    assert len(motion) == 100 and motion.fps == 25


def test_mouth_opens_with_speech_and_closes_in_pauses():
    motion = BaselineMotion()(speech(6.0, pause=(2.0, 4.0)), 25, BASIS, OWN, seed=0)
    jaw = motion.expression[:, 0]
    assert jaw[:50].std() > 0.05 and jaw[:50].max() > 0.2
    assert np.abs(jaw[55:95]).max() < 1e-3  # silent 2.2-3.8 s: closed


def test_silent_audio_gives_a_closed_mouth_of_the_right_length():
    clip = AudioClip(np.zeros(16000 * 3, np.float32), 16000)
    own = np.array([0.2, 0, 0, 0], np.float32)  # the photo shows an open mouth
    motion = BaselineMotion()(clip, 25, BASIS, own, seed=0)
    assert len(motion) == 75
    np.testing.assert_allclose(motion.expression[:, 0], -0.2)  # closed: the photo's opening undone


def test_loudness_does_not_depend_on_recording_level():
    loud = AudioClip(syllables(3.0), 16000)
    quiet = AudioClip(loud.samples * 0.3, 16000)  # 10 dB quieter
    np.testing.assert_allclose(loudness_features(loud, 25).values, loudness_features(quiet, 25).values, atol=0.01)


def test_still_keeps_the_head_still_but_blinks():
    motion = BaselineMotion()(speech(8.0), 25, BASIS, OWN, seed=1, still=True)
    assert not motion.rotation.any() and not motion.translation.any()
    assert motion.eyelids.max() > 0.9


def test_head_motion_has_real_talking_head_statistics():
    fps, seconds = 25, 120
    loud = np.full(fps * seconds, 0.6)
    stds, speeds = [], []
    for seed in range(5):
        rotation, _ = head_motion(np.random.default_rng(seed), fps * seconds, fps, loud)
        stds.append(rotation.std(0))
        speeds.append(np.abs(np.diff(rotation, axis=0)).mean(0))
    yaw, pitch, roll = np.mean(stds, 0)
    assert 1 <= yaw <= 12 and 3 <= pitch <= 10 and 0.5 <= roll <= 4
    assert 0.1 <= np.mean(speeds) <= 1.5


def test_blinks_at_human_rate_and_duration():
    fps, seconds = 25, 300
    closure = blinks(np.random.default_rng(0), fps * seconds, fps)[:, 0]
    shut = closure > 0.5
    starts = np.flatnonzero(shut[1:] & ~shut[:-1])
    per_minute = len(starts) / (seconds / 60)
    assert 10 <= per_minute <= 30
    lengths = np.diff(np.flatnonzero(np.diff(np.r_[0, shut.astype(int), 0])))[::2] / fps
    assert 0.04 <= lengths.mean() <= 0.4
