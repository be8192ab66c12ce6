import numpy as np
import pytest

from talkinghead.errors import InputError
from talkinghead.types import AudioClip, MotionSequence

NAMES = ("jaw_open", "mouth_wide")


def random_motion(frames: int = 12) -> MotionSequence:
    rng = np.random.default_rng(1)
    return MotionSequence(
        fps=25.0,
        rotation=rng.normal(size=(frames, 3)).astype(np.float32),
        translation=rng.normal(size=(frames, 2)).astype(np.float32),
        scale=np.ones(frames, np.float32),
        expression=rng.normal(size=(frames, 2)).astype(np.float32),
        expression_names=NAMES,
        eyelids=rng.uniform(size=(frames, 2)).astype(np.float32),
        meta={"seed": 3},
    )


def test_motion_round_trip(tmp_path):
    motion = random_motion()
    motion.save(tmp_path / "m.npz")
    loaded = MotionSequence.load(tmp_path / "m.npz")
    assert loaded.fps == motion.fps and loaded.expression_names == NAMES and loaded.meta == {"seed": 3}
    for name in ("rotation", "translation", "scale", "expression", "eyelids"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(motion, name))


def test_motion_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="expression"):
        MotionSequence(25.0, np.zeros((3, 3)), np.zeros((3, 2)), np.ones(3), np.zeros((3, 5)), NAMES, np.zeros((3, 2)))


def test_motion_load_of_a_non_motion_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a motion")
    with pytest.raises(InputError, match="bad.npz"):
        MotionSequence.load(bad)


def test_slice_and_rest():
    motion = random_motion(10)
    part = motion.slice(2, 5)
    assert len(part) == 3
    np.testing.assert_array_equal(part.rotation, motion.rotation[2:5])
    rest = MotionSequence.rest(4, 30.0, NAMES)
    assert len(rest) == 4 and rest.duration == pytest.approx(4 / 30)
    assert not rest.rotation.any() and (rest.scale == 1).all()


def test_audio_clip_frames():
    clip = AudioClip(np.zeros(16000 * 3 + 100, np.float32), 16000)
    assert clip.num_frames(25) == 75
    assert AudioClip(np.zeros(10, np.float32), 16000).num_frames(25) == 1


def test_motion_resampling_and_length():
    motion = MotionSequence.rest(50, 25.0, ("jaw_open",))  # 2 s
    motion.rotation[:, 0] = np.arange(50) / 25.0  # yaw = time in seconds
    slower = motion.resampled(10.0)
    assert slower.fps == 10.0 and len(slower) == 20
    np.testing.assert_allclose(slower.rotation[:, 0], np.arange(20) / 10.0, atol=1e-6)
    assert motion.resampled(25.0).rotation is motion.rotation
    longer = motion.with_length(60)
    assert len(longer) == 60 and np.all(longer.rotation[50:, 0] == motion.rotation[-1, 0])
    assert len(motion.with_length(10)) == 10
    empty = MotionSequence.rest(0, 25.0, ("jaw_open",)).with_length(3)
    assert len(empty) == 3 and np.all(empty.scale == 1)


def test_motion_save_is_atomic(tmp_path, monkeypatch):
    motion = MotionSequence.rest(5, 25.0, ("jaw_open",))

    def broken_savez(file, **arrays):
        file.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        motion.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []
