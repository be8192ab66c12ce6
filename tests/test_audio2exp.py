"""The learned expression basis and the audio-to-expression model: fitting, save/load round
trips, a few training steps on tiny data, and the shipped checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.errors import MissingWeightsError
from talkinghead.face.layout import MEDIAPIPE_478
from talkinghead.motion.audio2exp import Audio2Exp, Audio2ExpConfig
from talkinghead.facemodel.learned_basis import LearnedBasis, fit_learned_basis, region_points
from talkinghead.eval.metrics import pearson
from talkinghead.train.audio2exp_recipe import Audio2ExpTrainConfig, MouthGeometry, losses
from talkinghead.types import AudioClip

from .conftest import syllables


def synthetic_deformations(neutral: np.ndarray, frames: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(T, N, 3) deformations made of two known mouth fields, and their (T, 2) amounts."""
    mouth = region_points(neutral, MEDIAPIPE_478)["mouth"]
    rng = np.random.default_rng(0)
    fields = np.zeros((2, MEDIAPIPE_478.num_points, 3))
    fields[0, mouth, 1] = 0.1  # everything below the nose moves down
    fields[1, mouth, 0] = 0.05 * np.sign(neutral[mouth, 0])  # and outwards
    amounts = rng.standard_normal((frames, 2)) * [1.0, 0.3]
    return np.einsum("tk,knj->tnj", amounts, fields), amounts


@pytest.fixture(scope="module")
def neutral(source_face):
    from talkinghead.facemodel.frame import canonical_shape

    return canonical_shape(source_face.landmarks, MEDIAPIPE_478)[1]


def test_fitted_basis_explains_known_deformations_and_round_trips(neutral, tmp_path):
    deformations, _ = synthetic_deformations(neutral)
    basis = fit_learned_basis(deformations, neutral, MEDIAPIPE_478, {"mouth": 2, "brows": 1}, tmp_path / "pca", card="# test\n")
    assert basis.names == ("mouth_1", "mouth_2", "brows_1")
    assert sum(basis.config.explained_variance[:2]) == pytest.approx(1.0, abs=1e-6)
    coefficients = basis.project(deformations, neutral, MEDIAPIPE_478)
    rebuilt = np.einsum("te,enj->tnj", coefficients, basis.deltas(neutral, MEDIAPIPE_478))
    assert np.allclose(rebuilt, deformations, atol=1e-5)
    assert np.percentile(np.abs(coefficients[:, 0]), 95) < 1.2  # scaled to 2 std
    again = LearnedBasis(tmp_path / "pca")
    assert np.array_equal(again.components, basis.components)
    assert (tmp_path / "pca" / "CARD.md").read_text() == "# test\n"


def test_missing_checkpoint_says_how_to_get_one(tmp_path):
    with pytest.raises(MissingWeightsError, match="talkinghead train"):
        LearnedBasis(tmp_path / "nothing")
    with pytest.raises(MissingWeightsError, match="config.json"):
        Audio2Exp.load(tmp_path / "nothing")


def test_audio2exp_round_trip_and_prediction_shape(tmp_path):
    model = Audio2Exp(Audio2ExpConfig(expression_names=("mouth_1", "mouth_2")))
    model.save(tmp_path / "a2e")
    loaded = Audio2Exp.load(tmp_path / "a2e")
    clip = AudioClip(syllables(1.0), 16000)
    out = loaded.predict(clip, 25.0)
    assert out.shape == (25, 2) and out.dtype == np.float32
    assert np.allclose(out, model.predict(clip, 25.0), atol=1e-6)


def test_a_few_training_steps_lower_the_loss():
    """Tiny data: the target is the audio's syllable envelope; 60 steps must cut the loss."""
    from talkinghead.audio.mel import audio_windows

    torch.manual_seed(0)
    cfg = Audio2ExpTrainConfig(gap_weight=1.0, velocity_weight=0.1)
    audio = syllables(4.0)
    windows = audio_windows(AudioClip(audio, 16000), 25.0)[None]
    envelope = np.clip(np.sin(2 * np.pi * 4.0 * (np.arange(100) + 0.5) / 25.0), 0, None)
    target = torch.tensor(np.stack([envelope, -envelope], axis=1), dtype=torch.float32)[None]
    model = Audio2Exp(Audio2ExpConfig(expression_names=("a", "b"), members=1))
    model.members[0].encoder.set_normalisation(windows)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    geometry = MouthGeometry(gap=torch.tensor([1.0, 0.0]), landmarks=torch.tensor([[1.0, 0.0, 0.5], [0.0, 0.3, 0.0]]))
    first = None
    for _ in range(60):
        loss = losses(model(windows), target, geometry, cfg)["total"]
        first = first if first is not None else loss.item()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.3 * first
    model.eval()
    assert pearson(model(windows)[0, :, 0].detach().numpy(), envelope) > 0.8


def test_shipped_checkpoints_load_offline():
    basis = LearnedBasis()
    model = Audio2Exp.load()
    assert set(model.config.expression_names) <= set(basis.names)
    assert basis.config.layout == "mediapipe478"


def test_baseline_mouth_follows_speech_and_closes_in_silence(source_face):
    from talkinghead.motion.baseline import BaselineMotion, BaselineMotionConfig

    clip = AudioClip(syllables(3.0, pause=(1.0, 2.0)), 16000)
    basis = LearnedBasis()
    targets, columns, _ = BaselineMotion(BaselineMotionConfig(mouth="audio2exp")).mouth_targets(clip, 25.0, basis)
    gap_per_unit = np.array([basis.opening[c] for c in columns])
    opening = targets @ gap_per_unit / (gap_per_unit @ gap_per_unit)  # along the opening direction
    speech, pause = opening[:25], opening[30:45]
    assert speech.max() > pause.max() + 0.02


@pytest.mark.parametrize("model", ["audio2exp", "expression-basis"])
def test_training_on_a_folder_without_usable_videos_is_a_clean_error(tmp_path, capsys, model):
    from talkinghead.cli import main

    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "broken.mp4").write_bytes(b"not a video")
    assert main(["train", model, "--videos", str(videos), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("talkinghead: error:") and "Traceback" not in "\n".join(err)
    assert not (tmp_path / "out").exists()


def test_loss_is_measured_on_the_landmarks_of_the_shipped_basis():
    """The same coefficient error costs more on a large component (the jaw) than on a tiny
    one, in proportion to the landmark displacement it causes."""
    basis = LearnedBasis()
    names = tuple(n for n in basis.names if n.startswith("mouth"))
    geometry = MouthGeometry.of(basis, names)
    cfg = Audio2ExpTrainConfig(gap_weight=0.0, velocity_weight=0.0)
    target = torch.zeros(1, 3, len(names))
    big, small = target.clone(), target.clone()
    big[..., 0], small[..., -1] = 0.1, 0.1
    norms = np.linalg.norm(basis.components[[0, len(names) - 1]].reshape(2, -1), axis=1)
    ratio = losses(big, target, geometry, cfg)["landmarks"] / losses(small, target, geometry, cfg)["landmarks"]
    assert ratio.item() == pytest.approx((norms[0] / norms[1]) ** 2, rel=1e-3)
