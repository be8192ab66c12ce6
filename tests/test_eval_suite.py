"""Known-answer tests of the evaluation suite (talkinghead eval / bench).

Every video here is made in the test from the bundled astronaut portrait, Grace Hopper's
public-domain portrait that matplotlib ships as sample data, or the project's own renderer;
nothing comes from ../shared/data.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from talkinghead.io.audio import write_wav
from talkinghead.io.image import load_image, save_image
from talkinghead.io.video import write_video
from talkinghead.types import AudioClip, RenderedChunk

from .conftest import DEMO_IMAGE, DEMO_SPEECH, syllables

pytest.importorskip("dlib")
pytest.importorskip("face_recognition_models")

from talkinghead.eval import metrics  # noqa: E402
from talkinghead.eval.evaluate import EvalConfig  # noqa: E402
from talkinghead.eval.evaluate import evaluate_video as _evaluate_video  # noqa: E402

FPS = 25.0
REQUIRED_KEYS = ("identity_distance", "psnr", "ssim", "lmd", "sync_r", "sync_lag", "pose_std",
                 "pose_speed", "blinks_per_min", "jitter")  # fmt: skip


def evaluate_video(*args, **kwargs):
    """evaluate_video with face descriptors on 5 frames only (0.1 s each), to keep tests quick."""
    return _evaluate_video(*args, config=EvalConfig(identity_frames=5), **kwargs)


def write_frames(path, frames, audio: AudioClip | None = None) -> str:
    frames = np.asarray(frames, dtype=np.uint8)
    chunk = RenderedChunk(frames=frames, masks=np.zeros(frames.shape[:3], np.uint8), start=0)
    write_video(path, [chunk], fps=FPS, audio=audio)
    return str(path)


def shifted(image: np.ndarray, dx: float, dy: float = 0.0) -> np.ndarray:
    """The image moved by (dx, dy) pixels, edges repeated."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def astronaut():
    return load_image(DEMO_IMAGE)


@pytest.fixture(scope="module")
def hopper_path():
    cbook = pytest.importorskip("matplotlib.cbook")
    return cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """2 s of syllable-like audio with a pause, as a wav."""
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    write_wav(path, AudioClip(syllables(2.0, pause=(0.8, 1.4)), 16000))
    return str(path)


@pytest.fixture(scope="module")
def moving(astronaut, speech, tmp_path_factory):
    """A 2 s video of the astronaut sliding left and right by up to 6 px, with speech."""
    from talkinghead.io.audio import load_audio

    frames = [shifted(astronaut, 6 * np.sin(i / 4)) for i in range(int(2 * FPS))]
    return write_frames(tmp_path_factory.mktemp("video") / "moving.mp4", frames, load_audio(speech))


@pytest.fixture(scope="module")
def static(astronaut, speech, tmp_path_factory):
    """A 2 s video of the unmoving astronaut photo, with the same speech."""
    from talkinghead.io.audio import load_audio

    frames = [astronaut] * int(2 * FPS)
    return write_frames(tmp_path_factory.mktemp("video") / "static.mp4", frames, load_audio(speech))


# ---------------------------------------------------------------- whole videos


def test_a_video_against_itself(moving):
    summary = evaluate_video(moving, source=str(DEMO_IMAGE), reference=moving).summary
    for key in REQUIRED_KEYS:
        assert key in summary
    assert summary["psnr"] >= 40 and summary["psnr"] == metrics.PSNR_IDENTICAL_DB
    assert summary["ssim"] == pytest.approx(1.0)
    assert summary["lmd"] == 0.0 and summary["lmd_mouth"] == 0.0
    assert summary["identity_distance"] <= 0.45
    assert summary["face_found_rate"] == 1.0


def test_a_shifted_copy_has_the_shift_as_lmd(moving, astronaut, tmp_path):
    """Every frame 4 px further right: LMD in the video's pixels is 4 (dlib's noise aside)."""
    from talkinghead.io.video import read_video

    frames = [shifted(frame, 4.0) for frame in read_video(moving)]
    copy = write_frames(tmp_path / "copy.mp4", frames)
    summary = evaluate_video(copy, reference=moving).summary
    assert summary["lmd_native_px"] == pytest.approx(4.0, abs=0.8)
    assert summary["lmd"] == pytest.approx(4.0 * summary["lmd_face_scale_px"] / _eye_distance(astronaut), rel=0.2)
    # Aligned crops take the shift out; only resampling and compression differ.
    assert summary["psnr"] > 30


def _eye_distance(image):
    from talkinghead.eval.dlib_models import landmarks68

    return float(metrics.eye_distance(landmarks68(image)))


def test_a_static_video(static, moving):
    summary = evaluate_video(static, source=str(DEMO_IMAGE), reference=moving).summary
    assert max(summary["pose_std"].values()) < 0.1
    assert summary["blinks_per_min"] == 0.0
    # What is left is dlib's own noise on this small (about 100 px) face.
    assert summary["jitter"] < 0.01
    assert summary["mouth_std"] < 2e-3
    assert summary["background_change"] < 0.5
    # The reference moves by up to 6 px, the still photo not at all.
    assert summary["lmd_native_px"] > 2.0
    assert summary["identity_distance"] < 0.1


def test_another_person_is_far_in_identity(hopper_path, tmp_path):
    frames = [load_image(hopper_path)] * 5
    video = write_frames(tmp_path / "hopper.mp4", frames)
    other = evaluate_video(video, source=str(DEMO_IMAGE)).summary
    same = evaluate_video(video, source=hopper_path).summary
    assert other["identity_distance"] > 0.6
    assert same["identity_distance"] < 0.45


def test_missing_inputs_give_null(static):
    summary = evaluate_video(static).summary
    for key in ("identity_distance", "psnr", "ssim", "lmd", "sharpness_ratio"):
        assert summary[key] is None
    assert summary["pose_std"] is not None and summary["sync_window_frames"] is not None


def test_silent_audio_gives_null_sync(astronaut, tmp_path):
    silent = AudioClip(np.zeros(32000, np.float32), 16000)
    video = write_frames(tmp_path / "silent.mp4", [astronaut] * 50, silent)
    summary = evaluate_video(video).summary
    assert summary["sync_r"] is None and summary["sync_lag"] is None and summary["mouth_silent"] is None
    assert "silent" in summary["audio_note"]


@pytest.fixture(scope="module")
def talking(tmp_path_factory):
    """The baseline pipeline's astronaut (our renderer) saying 1.5 s of the bundled speech,
    0.8 s of silence, and 1 s more speech."""
    import talkinghead
    from talkinghead.io.audio import load_audio

    folder = tmp_path_factory.mktemp("talking")
    audio = folder / "speech.wav"
    speech = load_audio(DEMO_SPEECH)
    rate = speech.sample_rate
    samples = np.concatenate([speech.samples[: int(1.5 * rate)], np.zeros(int(0.8 * rate), np.float32),
                              speech.samples[int(1.5 * rate): int(2.5 * rate)]])  # fmt: skip
    write_wav(audio, AudioClip(samples, rate))
    # The loudness mouth: these tests measure the evaluation suite's lag and pause readings,
    # which need a mouth that follows the sound's loudness exactly.
    result = talkinghead.generate(str(DEMO_IMAGE), str(audio), seed=0, still=True, mouth="loudness")
    result.save(folder / "talking.mp4")
    return str(folder / "talking.mp4"), load_audio(audio), folder


def test_audio_shifted_by_k_frames_moves_the_lag_by_k(talking):
    video, clip, folder = talking
    base = evaluate_video(video).summary
    assert base["sync_r"] > 0.5  # the loudness mouth follows loudness
    for k in (2, 3):
        delayed = np.concatenate([np.zeros(int(k * clip.sample_rate / FPS), np.float32), clip.samples])
        path = folder / f"delayed_{k}.wav"
        write_wav(path, AudioClip(delayed, clip.sample_rate))
        summary = evaluate_video(video, audio=str(path)).summary
        # The sound now comes k frames later, so the mouth leads it by k more frames.
        assert summary["sync_lag"] == base["sync_lag"] - k


def test_mouth_closed_in_the_pause(talking):
    summary = evaluate_video(talking[0]).summary
    assert summary["vad"] in ("silero-vad", "energy")
    assert summary["silent_frames"] >= 10
    assert summary["mouth_silent"] < summary["mouth_voiced"]


# ---------------------------------------------------------------- command line


def test_eval_command_prints_json(moving, capsys):
    from talkinghead.cli import main

    code = main(["eval", moving, "--source", str(DEMO_IMAGE), "--reference", moving, "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["lmd"] == 0.0 and summary["psnr"] >= 40
    assert set(summary["pose_std"]) == {"yaw", "pitch", "roll"}


def test_eval_command_table_and_errors(static, tmp_path, capsys):
    from talkinghead.cli import main

    assert main(["eval", static]) == 0
    out = capsys.readouterr().out
    assert "yaw / pitch / roll std (deg)" in out and "PSNR" in out
    assert main(["eval", str(tmp_path / "nope.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("talkinghead: error:") and len(err.splitlines()) == 1
    assert main(["eval", static, "--syncnet-weights", str(tmp_path / "syncnet.model")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["eval", static, "--source", str(DEMO_IMAGE), "--arcface-weights", str(tmp_path / "r50.pth")]) == 2
    assert "--arcface-weights" in capsys.readouterr().err


# ---------------------------------------------------------------- ArcFace with user weights


def test_arcface_loader_reads_depth_from_the_weights(static, tmp_path):
    torch = pytest.importorskip("torch")
    from talkinghead.eval import arcface

    torch.manual_seed(0)
    model = arcface.build_iresnet((1, 2, 1, 1), features=64)
    path = tmp_path / "tiny_iresnet.pth"
    torch.save(model.state_dict(), path)
    arcface.load_arcface.cache_clear()
    loaded = arcface.load_arcface(str(path))
    assert len(loaded.layer2) == 2 and loaded.fc.out_features == 64
    # The video is the source photo itself: every embedding equals the source's.
    assert arcface.arcface_csim(static, str(DEMO_IMAGE), str(path)) == pytest.approx(1.0, abs=0.02)
    torch.save({"something": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(Exception, match="fc.weight"):
        arcface.load_arcface(str(tmp_path / "bad.pth"))


def test_speed_by_voice_splits_changes_between_speech_and_pauses():
    from talkinghead.eval.metrics import speed_by_voice

    t = np.arange(100)
    poses = np.zeros((100, 3))
    poses[:50, 0] = 2.0 * t[:50]  # 2 deg/frame of yaw while speaking, still after
    poses[50:, 0] = poses[49, 0]
    voiced = t < 50
    speaking, pauses = speed_by_voice(poses, voiced)
    assert speaking == pytest.approx(2.0 / 3.0)  # mean over yaw, pitch, roll
    assert pauses == pytest.approx(0.0)
    assert np.isnan(speed_by_voice(poses, np.ones(100, bool))[1])  # no pauses at all
