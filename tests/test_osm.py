"""OSM-Net: the clip-level motion space, sampling around the audio's point, continuity across
windows, training steps, the shipped checkpoint and the `osm` pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.errors import InputError
from talkinghead.motion.motion_space import MotionSpace, MotionSpaceConfig, cut_windows, overlap_add
from talkinghead.motion.osm import OSMNet, OSMNetConfig, correlated_noise
from talkinghead.types import AudioClip

from .conftest import syllables

SPACE = MotionSpaceConfig(bases=12)


def synthetic_poses(count: int = 6, frames: int = 200) -> list[np.ndarray]:
    """Smooth nods and turns of different speeds: (T, 5) each."""
    rng = np.random.default_rng(0)
    t = np.arange(frames) / 25.0
    out = []
    for _ in range(count):
        f = rng.uniform(0.2, 0.8, 5)
        a = rng.uniform(0.5, 4.0, 5) * [1, 1, 1, 0.02, 0.02]
        out.append(a * np.sin(2 * np.pi * f * t[:, None] + rng.uniform(0, 6, 5)))
    return out


@pytest.fixture(scope="module")
def space():
    return MotionSpace.fit(synthetic_poses(), SPACE)


@pytest.fixture(scope="module")
def net(space):
    model = OSMNet(OSMNetConfig(space=SPACE))
    model.set_space(space)
    return model.eval()


def test_space_explains_smooth_motion_and_round_trips(space):
    assert 0.9 < space.explained.sum() <= 1.0 + 1e-9
    pose = synthetic_poses(1, 150)[0]
    rebuilt = space.decode(space.encode(pose), len(pose))
    assert rebuilt.shape == pose.shape
    assert np.sqrt(np.mean((rebuilt[:, :3] - pose[:, :3]) ** 2)) < 0.35 * pose[:, :3].std()


def test_windows_join_without_jumps():
    cfg = MotionSpaceConfig()
    rng = np.random.default_rng(1)
    segments = np.cumsum(rng.standard_normal((9, cfg.window_frames, 5)) * 0.1, axis=1) + rng.standard_normal((9, 1, 5))
    pose = overlap_add(segments, 120, cfg)
    assert pose.shape == (120, 5)
    steps = np.abs(np.diff(pose, axis=0)).max(axis=1)
    inside = np.abs(np.diff(segments, axis=1)).max()
    assert steps.max() < 1.5 * inside + 0.25  # independent window offsets are cross-faded, not cut
    assert cut_windows(pose, cfg).shape[1:] == (cfg.window_frames, 5)


def test_sampling_is_seeded_diverse_and_any_length(net):
    clip = AudioClip(syllables(3.0), 16000)
    a, _ = net.sample(clip, 25.0, seed=0, diversity=1.0)
    b, _ = net.sample(clip, 25.0, seed=0, diversity=1.0)
    c, _ = net.sample(clip, 25.0, seed=1, diversity=1.0)
    assert a.shape == (75, 3) and np.array_equal(a, b)
    assert np.sqrt(np.mean((a - c) ** 2)) > 0.3
    mean0, _ = net.sample(clip, 25.0, seed=0, diversity=0.0)
    mean1, _ = net.sample(clip, 25.0, seed=1, diversity=0.0)
    assert np.array_equal(mean0, mean1)  # diversity 0: the audio's mean motion only
    short, _ = net.sample(AudioClip(syllables(0.3), 16000), 30.0, seed=0, diversity=1.0)
    assert short.shape == (9, 3)


def test_noise_is_correlated_and_truncated():
    noise = correlated_noise(np.random.default_rng(0), (4000, 2), 0.6)
    assert np.abs(noise).max() <= 2.5
    assert np.corrcoef(noise[1:, 0], noise[:-1, 0])[0, 1] == pytest.approx(0.6, abs=0.05)


def test_a_few_training_steps_learn_point_and_spread(net, space):
    """Tiny data: the point follows the syllable rate of the audio, and the spread is learnt
    where the real points scatter (slow syllables) and kept small where they do not."""
    from talkinghead.audio.mel import audio_windows
    from talkinghead.train.osm_recipe import gaussian_nll

    torch.manual_seed(0)
    model = OSMNet(OSMNetConfig(space=SPACE))
    model.set_space(space)
    frames = torch.stack([audio_windows(AudioClip(syllables(4.0, rate_hz=r), 16000), 25.0) for r in (2.0, 6.0)])
    n = model(frames)[0].shape[1]
    target = torch.zeros(2, n, SPACE.bases)
    target[0, :, 0], target[1, :, 0] = 1.0, -1.0
    scatter = torch.Generator().manual_seed(0)
    model.encoder.set_normalisation(frames)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        target[0, :, 1] = 1.5 * torch.randn(n, generator=scatter)  # a fresh draw each step
        loss = gaussian_nll(*model(frames), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.5
    mu, log_sigma = model(frames)
    assert mu[0, :, 0].mean() > 0.5 and mu[1, :, 0].mean() < -0.5
    assert log_sigma[0, :, 1].mean() > log_sigma[1, :, 1].mean() + 0.5


def test_checkpoint_round_trip_and_shipped_weights(net, tmp_path):
    net.save(tmp_path / "osm")
    again = OSMNet.load(tmp_path / "osm")
    clip = AudioClip(syllables(2.0), 16000)
    assert np.array_equal(again.sample(clip, 25.0, seed=3, diversity=1.0)[0], net.sample(clip, 25.0, seed=3, diversity=1.0)[0])
    shipped = OSMNet.load()
    assert shipped.space.explained.sum() > 0.5


def test_osm_pipeline_generates_and_checks_diversity(source_face):
    from talkinghead.api import load_pipeline

    pipeline = load_pipeline("osm")
    clip = AudioClip(syllables(1.0), 16000)
    a = pipeline.generate(source_face, clip, seed=0, fps=10)
    b = pipeline.generate(source_face, clip, seed=1, fps=10)
    assert len(a.motion) == 10 and a.motion.meta["pipeline"] == "osm"
    assert not np.array_equal(a.motion.rotation, b.motion.rotation)
    still = pipeline.generate(source_face, clip, seed=0, fps=10, still=True)
    assert np.abs(still.motion.rotation).max() == 0
    with pytest.raises(InputError, match="diversity"):
        pipeline.generate(source_face, clip, seed=0, diversity=5.0)
    assert a.frames.shape[0] == 10


def test_training_refuses_clips_too_short_for_a_run():
    from talkinghead.train.osm_recipe import MotionExamples, OSMTrainConfig, sample_runs

    short = MotionExamples("short", torch.zeros(40, 53, 80), torch.zeros(2, SPACE.bases))
    with pytest.raises(InputError, match="shorter than"):
        sample_runs([short], OSMTrainConfig(), SPACE, np.random.default_rng(0))
