"""FONT motion: the head-pose CVAE (forward/backward, training steps, seeded sampling of any
length, save/load), the structural-similarity loss, the keypoint predictor, the training
commands' flags, the shipped checkpoints and the `font` pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.errors import InputError
from talkinghead.motion.font_keypoints import FontKeypoints, FontKeypointsConfig
from talkinghead.motion.font_pose import FontPose, FontPoseConfig, kl_divergence, ssim_1d
from talkinghead.types import AudioClip

from .conftest import syllables

TINY = FontPoseConfig(hidden=8, latent=3, face_dims=2)
NAMES = ("mouth_a", "mouth_b", "mouth_c")


@pytest.fixture(scope="module")
def pose_net():
    torch.manual_seed(0)
    return FontPose(TINY).eval()


def batch(b: int = 4, w: int = 50):
    g = torch.Generator().manual_seed(1)
    t = torch.arange(w) / 25.0
    pose = torch.sin(2 * torch.pi * torch.rand(b, 1, 5, generator=g) * t[None, :, None]) * 1.5
    return pose, torch.randn(b, w, TINY.mel.n_mels, generator=g), torch.randn(b, TINY.face_dims, generator=g)


def test_cvae_forward_backward_shapes():
    model = FontPose(TINY)
    pose, audio, face = batch()
    recon, mu, logvar = model(pose, audio, face)
    assert recon.shape == pose.shape and mu.shape == logvar.shape == (4, TINY.latent)
    loss = (recon - pose).abs().mean() + kl_divergence(mu, logvar) + (1 - ssim_1d(recon, pose))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_ssim_is_one_for_identical_sequences_and_lower_otherwise():
    pose, _, _ = batch()
    assert ssim_1d(pose, pose).item() == pytest.approx(1.0, abs=1e-5)
    assert ssim_1d(pose, pose.flip(1)).item() < 0.9


def test_a_few_training_steps_lower_the_loss():
    from talkinghead.train.font_pose_recipe import losses

    torch.manual_seed(0)
    model = FontPose(TINY)
    pose, audio, face = batch()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    values = []
    for _ in range(60):
        parts = losses(model, pose, audio, face, kl_weight=0.001, ssim_weight=0.5)
        optimiser.zero_grad()
        parts["loss"].backward()
        optimiser.step()
        values.append(parts["loss"].item())
    assert values[-1] < 0.7 * values[0]


def test_sampling_is_seeded_diverse_and_any_length(pose_net):
    clip = AudioClip(syllables(3.0), 16000)
    a, ta = pose_net.sample(clip, 25.0, None, seed=0, diversity=1.0)
    b, _ = pose_net.sample(clip, 25.0, None, seed=0, diversity=1.0)
    c, _ = pose_net.sample(clip, 25.0, None, seed=1, diversity=1.0)
    assert a.shape == (75, 3) and ta.shape == (75, 2) and np.array_equal(a, b)
    assert not np.array_equal(a, c)
    m0, _ = pose_net.sample(clip, 25.0, None, seed=0, diversity=0.0)
    m1, _ = pose_net.sample(clip, 25.0, None, seed=1, diversity=0.0)
    assert np.array_equal(m0, m1)  # diversity 0: the mean motion
    short, _ = pose_net.sample(AudioClip(syllables(0.3), 16000), 30.0, None, seed=0, diversity=1.0)
    assert short.shape == (9, 3)
    long, _ = pose_net.sample(AudioClip(syllables(7.0), 16000), 25.0, None, seed=0, diversity=1.0)
    assert long.shape == (175, 3)
    steps = np.abs(np.diff(long, axis=0)).max(axis=1)
    joins = np.isin(np.arange(len(steps)) % TINY.windows.hop_frames, (0, TINY.windows.hop_frames - 1))
    assert steps[joins].max() <= 1.5 * steps[~joins].max()  # windows are cross-faded, not cut


def test_face_embedding_and_save_load_round_trip(pose_net, tmp_path):
    shapes = np.random.default_rng(0).standard_normal((5, TINY.face_points, 3))
    pose_net.set_face_space(shapes)
    assert pose_net.face_embedding(shapes[0]).shape == (TINY.face_dims,)
    assert torch.all(pose_net.face_embedding(np.zeros((68, 3))) == 0)  # another layout: the mean face
    pose_net.save(tmp_path / "font_pose")
    again = FontPose.load(tmp_path / "font_pose")
    clip = AudioClip(syllables(2.0), 16000)
    assert np.array_equal(again.sample(clip, 25.0, shapes[1], seed=3, diversity=1.0)[0], pose_net.sample(clip, 25.0, shapes[1], seed=3, diversity=1.0)[0])


def test_keypoint_predictor_starts_at_the_content_mouth_and_round_trips(tmp_path):
    model = FontKeypoints(FontKeypointsConfig(expression_names=NAMES))
    content = np.random.default_rng(0).random((40, 3)).astype(np.float32)
    rotation, translation = np.zeros((40, 3), np.float32), np.zeros((40, 2), np.float32)
    out = model.predict(content, rotation, translation, np.zeros(3, np.float32))
    assert out.shape == (40, 3) and np.allclose(out, content)  # zero-initialised residual
    torch.nn.init.normal_(model.head.weight)
    model.set_residual_scale(0.5)
    model.save(tmp_path / "kp")
    again = FontKeypoints.load(tmp_path / "kp")
    assert again.config.residual_scale == 0.5
    assert np.array_equal(again.predict(content, rotation + 1, translation, content[0]), model.predict(content, rotation + 1, translation, content[0]))
    model.set_residual_scale(0.0)
    assert np.allclose(model.predict(content, rotation, translation, content[0]), content)


def test_training_commands_take_the_common_flags():
    from talkinghead.cli import build_parser

    for name in ("font-pose", "font-keypoints"):
        args = build_parser().parse_args(["train", name, "--videos", "v", "--out", "o", "--hold-out", "a", "b", "--steps", "5", "--cache", "c"])
        assert args.hold_out == ["a", "b"] and args.steps == 5 and args.cache == "c"


def test_shipped_checkpoints_load():
    pose = FontPose.load()
    assert pose.channel_scale.min() > 0 and pose.face_std.min() > 0
    keypoints = FontKeypoints.load()
    assert len(keypoints.config.expression_names) > 0


def test_font_pipeline_generates_and_checks_diversity(source_face):
    from talkinghead.api import load_pipeline

    pipeline = load_pipeline("font")
    assert pipeline.config.renderer == "font"
    clip = AudioClip(syllables(1.0), 16000)
    a = pipeline.generate(source_face, clip, seed=0, fps=10)
    b = pipeline.generate(source_face, clip, seed=1, fps=10)
    again = pipeline.generate(source_face, clip, seed=0, fps=10)
    assert len(a.motion) == 10 and a.motion.meta["pipeline"] == "font" and a.frames.shape[0] == 10
    assert not np.array_equal(a.motion.rotation, b.motion.rotation)
    assert np.array_equal(a.motion.rotation, again.motion.rotation) and np.array_equal(a.frames, again.frames)
    still = pipeline.generate(source_face, clip, seed=0, fps=10, still=True)
    assert np.abs(still.motion.rotation).max() == 0
    with pytest.raises(InputError, match="diversity"):
        pipeline.generate(source_face, clip, seed=0, diversity=5.0)


def test_variation_gain_spreads_seeds_around_the_mean_motion(source_face):
    from talkinghead.api import load_pipeline

    clip = AudioClip(syllables(3.0), 16000)
    plain = load_pipeline("font", overrides={"renderer": "warp", "motion": {"variation_gain": 1.0}})
    wide = load_pipeline("font", overrides={"renderer": "warp", "motion": {"variation_gain": 2.0}})
    mean = plain.sample_pose(source_face, clip, 25, 0, 0.0)[0]
    a, b = (plain.sample_pose(source_face, clip, 25, s, 1.0)[0] for s in (0, 1))
    wide_a, wide_b = (wide.sample_pose(source_face, clip, 25, s, 1.0)[0] for s in (0, 1))
    assert np.abs(a - b).mean() > 0.1  # the seeds differ at all
    np.testing.assert_allclose(wide_a - mean, 2 * (a - mean), atol=1e-4)  # twice as far from the mean motion
    np.testing.assert_allclose(wide_b - wide_a, 2 * (b - a), atol=1e-4)
