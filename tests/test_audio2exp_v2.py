"""audio2exp v2: the content mouth's per-frame gain from the mel stream, its training and use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.motion.audio2exp_v2 import Audio2ExpV2, Audio2ExpV2Config, delayed
from talkinghead.types import AudioClip

from .conftest import DEMO_SPEECH, syllables

FPS = 25.0
TINY = Audio2ExpV2Config(hidden=8, members=2, dropout=0.0)


def speech_clip(seconds: float = 2.0) -> AudioClip:
    return AudioClip(syllables(seconds, pause=(0.8, 1.2)), 16000)


def test_untrained_gain_is_one_and_silence_stays_closed():
    model = Audio2ExpV2(TINY)
    clip = speech_clip()
    gains = model.gains(clip, FPS, 50)
    assert gains.shape == (50,) and gains.dtype == np.float32
    np.testing.assert_allclose(gains, 1.0)  # zero-initialised heads: the articulation as is
    with torch.no_grad():
        for member in model.members:
            member.head.bias.fill_(0.7)
    shapes = np.zeros((50, 8), np.float32)
    shapes[10:20] = 0.3  # a syllable; frames 0-9 and 20-49 are closed (a bilabial, a pause)
    refined = model.refine(shapes, clip, FPS)
    assert np.array_equal(refined[shapes == 0], shapes[shapes == 0])  # closed stays closed
    np.testing.assert_allclose(refined[10:20], 0.3 * np.exp(0.7), rtol=1e-5)
    assert model.gains(clip, FPS, 0).shape == (0,)


def test_delay_repeats_the_edges():
    stream = np.arange(5, dtype=np.float32)[:, None]
    assert delayed(stream, 2)[:, 0].tolist() == [0, 0, 0, 1, 2]
    assert delayed(stream, -1)[:, 0].tolist() == [1, 2, 3, 4, 4]
    assert delayed(stream, 0) is stream


def test_checkpoint_round_trip(tmp_path):
    model = Audio2ExpV2(TINY)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
        model.log_scale.fill_(0.25)
    model.save(tmp_path / "v2")
    loaded = Audio2ExpV2.load(tmp_path / "v2")
    clip = speech_clip()
    assert loaded.config == TINY
    np.testing.assert_array_equal(loaded.gains(clip, FPS, 50), model.gains(clip, FPS, 50))


def test_shipped_model_loads_offline():
    model = Audio2ExpV2.load()
    gains = model.gains(speech_clip(), FPS, 50)
    assert np.all(np.isfinite(gains)) and np.all(gains > 0)


def test_training_learns_a_gain_that_follows_the_sound():
    """Targets are the articulation shapes twice as large where the sound is loud: a few steps
    must learn gains that are larger on loud frames than on quiet ones."""
    from talkinghead.facemodel.learned_basis import LearnedBasis
    from talkinghead.motion.audio2exp_v2 import mel_stream
    from talkinghead.train.articulation_recipe import mouth_names
    from talkinghead.train.audio2exp_recipe import MouthGeometry
    from talkinghead.train.audio2exp_v2_recipe import Audio2ExpV2TrainConfig, GainExample, fit_audio2exp_v2

    basis = LearnedBasis()
    geometry = MouthGeometry.of(basis, mouth_names(basis))
    rng = np.random.default_rng(0)
    clip = AudioClip(syllables(8.0, rate_hz=1.5), 16000)
    streams = mel_stream(clip, FPS, 200, TINY.mel)
    loud = streams.mean(1) > np.median(streams.mean(1))
    shapes = np.abs(rng.normal(0, 0.3, (200, len(geometry.gap)))).astype(np.float32)
    targets = shapes * np.where(loud, 2.0, 1.0)[:, None].astype(np.float32)
    gaps = targets @ geometry.gap.numpy()
    example = GainExample("synthetic", torch.from_numpy(streams), torch.from_numpy(shapes), torch.from_numpy(targets), gaps, 0.0)
    model, history = fit_audio2exp_v2([example], geometry, TINY, Audio2ExpV2TrainConfig(steps=150, batch_size=8, segment_frames=50))
    gains = model.gains(clip, FPS, 200)
    assert gains[loud].mean() > 1.5 * gains[~loud].mean()
    assert len([h for h in history if h["step"] == 150]) == TINY.members


def test_recipe_refuses_an_articulation_table_fitted_on_held_out_people(monkeypatch):
    from talkinghead.errors import InputError
    from talkinghead.facemodel.learned_basis import LearnedBasis
    from talkinghead.motion.articulation import Articulation, ArticulationExample
    from talkinghead.train import audio2exp_v2_recipe

    examples = [ArticulationExample(n, [], np.zeros((3, 8)), np.zeros(3), FPS) for n in ("vox_rdj", "hdtf_markey")]
    monkeypatch.setattr(audio2exp_v2_recipe, "prepare_examples", lambda *a, **k: examples)
    articulation = Articulation.load()
    assert "vox_rdj" in articulation.info["train_clips"]
    with pytest.raises(InputError, match="held-out people \\['vox_rdj'\\]"):
        audio2exp_v2_recipe.train_audio2exp_v2([], LearnedBasis(), articulation, hold_out=["vox_rdj"])


def test_the_v2_mouth_is_the_content_mouth_sized_by_the_gain():
    pytest.importorskip("pocketsphinx")
    from talkinghead.facemodel.learned_basis import LearnedBasis
    from talkinghead.io.audio import load_audio
    from talkinghead.motion.baseline import BaselineMotion, BaselineMotionConfig

    clip = load_audio(DEMO_SPEECH, 16000)
    clip = type(clip)(clip.samples[: 16000 * 4], 16000)
    basis = LearnedBasis()
    content = BaselineMotion(BaselineMotionConfig(mouth="audio2exp-v2"))
    sized, columns, _ = content.mouth_targets(clip, FPS, basis)
    alone, alone_columns, _ = content.mouth_targets(clip, FPS, basis, mouth="content")
    assert columns == alone_columns and sized.shape == alone.shape == (100, 8)
    gains = content.audio2exp_v2.gains(clip, FPS, 100, int(round(content.articulation.offset * FPS)))
    np.testing.assert_allclose(sized, alone * gains[:, None], rtol=1e-5, atol=1e-7)
    assert set(content.checkpoints()) == {"articulation", "audio2exp_v2"}
    assert set(content.checkpoints("content")) == {"articulation"}
