"""FONT's neural renderer: the generator, its training recipe and the `font` renderer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from talkinghead.errors import MissingWeightsError
from talkinghead.render.font.crop import CropConfig, FaceCrop
from talkinghead.render.font.dense_motion import DenseMotionConfig
from talkinghead.render.font.generator import FontGenerator, FontGeneratorConfig
from talkinghead.render.font.losses import FontTraining
from talkinghead.render.font.warping import resize, warp
from talkinghead.train.font_renderer_recipe import ClipFrames, FontRendererTrainConfig, PairSampler, train_font_renderer
from talkinghead.types import MotionSequence

from .conftest import warp_renderer

TINY = FontGeneratorConfig(crop_size=64, channels=8, motion=DenseMotionConfig(resolution=16, channels=8))
TINY_CROP = CropConfig(size=64)


def moving_motion(renderer, frames: int, seed: int = 0) -> MotionSequence:
    rng = np.random.default_rng(seed)
    motion = MotionSequence.rest(frames, 25.0, renderer.expression_names)
    motion.rotation[:] = rng.uniform(-8, 8, (frames, 3)).astype(np.float32)
    motion.expression[:] = rng.uniform(0, 0.8, motion.expression.shape).astype(np.float32)
    motion.eyelids[:] = rng.uniform(0, 1, (frames, 1)).astype(np.float32)
    return motion


@pytest.fixture(scope="module")
def tiny_clip(source_face) -> ClipFrames:
    """A synthetic talking clip: the portrait moved by the warp renderer, its keypoints known."""
    renderer = warp_renderer()
    prep = renderer.prepare(source_face)
    motion = moving_motion(renderer, 10)
    frames = renderer.render(prep, motion).frames
    keypoints = renderer.posed(prep, motion, renderer.canonical_targets(prep, motion))[..., :2].numpy()
    crop = FaceCrop.around(source_face.landmarks, source_face.layout, TINY_CROP)
    return ClipFrames("synthetic", np.stack([crop.cut(f) for f in frames]), crop.to_crop(keypoints).astype(np.float32))


def tiny_config(**changes) -> FontRendererTrainConfig:
    return replace(FontRendererTrainConfig(crop=TINY_CROP, batch_size=2, sources_per_clip=2, log_every=1, val_pairs=4), **changes)


def test_generator_forward_backward_shapes_and_range(tiny_clip):
    torch.manual_seed(0)
    generator = FontGenerator(TINY)
    batch = PairSampler([tiny_clip], tiny_config()).batch([(0, 0, 3), (0, 9, 5)])
    out = generator(generator.encode(batch.source), batch.mesh_flow, batch.sketch_quarter, batch.sketch_half)
    assert out.image.shape == (2, 3, 64, 64) and out.flow.shape == (2, 2, 16, 16)
    assert out.occlusion.shape == (2, 1, 16, 16) and out.blend.shape == (2, 1, 64, 64)
    image = out.image.detach()
    assert float(image.min()) >= -0.5 - 1e-5 and float(image.max()) <= 0.5 + 1e-5
    losses = FontTraining(generator)(batch)
    assert set(losses) == {"total", "l1", "ssim", "gradient", "blend"}
    losses["total"].backward()
    assert all(p.grad is not None for p in generator.parameters())
    assert float(generator.to_pixels.weight.grad.abs().sum()) > 0


def test_untrained_generator_is_the_mesh_warp(tiny_clip):
    """The start of training is the warp renderer's motion: no correction, nothing painted."""
    generator = FontGenerator(TINY)
    batch = PairSampler([tiny_clip], tiny_config()).batch([(0, 0, 4)])
    with torch.no_grad():
        out = generator(generator.encode(batch.source), batch.mesh_flow, batch.sketch_quarter, batch.sketch_half)
    plain = warp(batch.source, resize(batch.mesh_flow, 64), 64)
    assert float(out.blend.max()) < 0.02
    assert float((out.image - plain).abs().max()) < 0.02


def test_a_few_training_steps_lower_the_loss_and_training_resumes(tiny_clip, tmp_path):
    sampler = PairSampler([tiny_clip], tiny_config())
    fixed = sampler.batch([(0, 0, 3), (0, 9, 5), (0, 0, 7)])

    def loss(generator) -> float:
        with torch.no_grad():
            return float(FontTraining(generator)(fixed)["total"])

    before = loss(FontGenerator(TINY))
    cfg = tiny_config(steps=30, learning_rate=3e-3, checkpoint_every=10)
    generator, report = train_font_renderer([tiny_clip], [tiny_clip], cfg, tmp_path, TINY)
    assert loss(generator) < before
    assert report["steps_done"] == 30 and len(report["curve"]) == 30
    assert {"val_face_psnr", "val_face_psnr_mesh_only"} <= set(report)
    assert (tmp_path / "train_config.json").is_file()
    # A longer run in the same folder continues from step 30.
    _, more = train_font_renderer([tiny_clip], [tiny_clip], replace(cfg, steps=32), tmp_path, TINY)
    assert more["steps_done"] == 32 and len(more["curve"]) == 32


def test_save_load_round_trip(tiny_clip, tmp_path):
    torch.manual_seed(1)
    generator = FontGenerator(TINY).eval()
    generator.save(tmp_path / "ck", card="test")
    loaded = FontGenerator.load(tmp_path / "ck")
    batch = PairSampler([tiny_clip], tiny_config()).batch([(0, 0, 2)])
    with torch.no_grad():
        a = generator(generator.encode(batch.source), batch.mesh_flow, batch.sketch_quarter, batch.sketch_half).image
        b = loaded(loaded.encode(batch.source), batch.mesh_flow, batch.sketch_quarter, batch.sketch_half).image
    assert loaded.config == TINY
    assert torch.equal(a, b)


def test_crop_cut_and_paste_back_agree(portrait, source_face):
    crop = FaceCrop.around(source_face.landmarks, source_face.layout, CropConfig())
    cut = crop.cut(portrait)
    weight, box = crop.paste_weight(portrait.shape[:2], 0.04)
    back = crop.uncut(cut, box)
    inside = weight[..., 0] > 0.99
    error = np.abs(back - portrait[box].astype(np.float32))[inside]
    assert cut.shape == (256, 256, 3)
    assert np.median(error) < 6  # resampled twice (down to the crop and up again)


def font_pipeline(tmp_path, checkpoint=True):
    from talkinghead.api import load_pipeline

    folder = tmp_path / "font_renderer"
    if checkpoint:
        torch.manual_seed(0)
        FontGenerator(replace(TINY, crop_size=64)).save(folder, card="test")
    return load_pipeline("baseline", overrides={"renderer": "font", "renderer_config": {"checkpoint": str(folder), "crop": {"size": 64}}})


def test_font_renderer_renders_frames_and_masks_and_leaves_the_rest_of_the_photo(tmp_path, source_face):
    pipe = font_pipeline(tmp_path)
    prep = pipe.renderer.prepare(source_face)
    motion = moving_motion(pipe.renderer, 4)
    chunk = pipe.renderer.render(prep, motion, start=7)
    again = pipe.renderer.render(prep, motion, start=7)
    h, w = source_face.size
    assert chunk.frames.shape == (4, h, w, 3) and chunk.masks.shape == (4, h, w) and chunk.start == 7
    assert np.array_equal(chunk.frames, again.frames)
    outside = np.ones((h, w), bool)
    outside[prep.box] = False
    assert np.array_equal(chunk.frames[:, outside], np.repeat(source_face.image[None], 4, 0)[:, outside])
    assert chunk.masks.max() == 255 and (chunk.masks[:, outside] == 0).all()


def test_font_renderer_without_weights_says_how_to_get_them(tmp_path):
    with pytest.raises(MissingWeightsError, match="train"):
        font_pipeline(tmp_path, checkpoint=False)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_and_gpu_agree(tiny_clip):
    generator = FontGenerator(TINY).eval()
    batch = PairSampler([tiny_clip], tiny_config()).batch([(0, 0, 2)])
    with torch.no_grad():
        cpu = generator(generator.encode(batch.source), batch.mesh_flow, batch.sketch_quarter, batch.sketch_half).image
        gpu_gen, gpu_batch = generator.to("cuda"), batch.to("cuda")
        gpu = gpu_gen(gpu_gen.encode(gpu_batch.source), gpu_batch.mesh_flow, gpu_batch.sketch_quarter, gpu_batch.sketch_half).image
    assert float((cpu - gpu.cpu()).abs().max()) < 1e-3



def test_perceptual_loss_loads_user_weights_and_trains_with_them(tiny_clip, tmp_path):
    from talkinghead.render.font.perceptual import PerceptualLoss, vgg_features

    features, _ = vgg_features()
    path = tmp_path / "vgg19.pth"
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    losses = FontTraining(FontGenerator(TINY), perceptual=PerceptualLoss(path))(PairSampler([tiny_clip], tiny_config()).batch([(0, 0, 3)]))
    assert float(losses["perceptual"]) > 0
    losses["total"].backward()


def test_perceptual_loss_without_weights_says_how_to_provide_them(tmp_path):
    from talkinghead.render.font.perceptual import PerceptualLoss

    with pytest.raises(MissingWeightsError, match="--perceptual-weights"):
        PerceptualLoss(tmp_path / "absent.pth")


def test_train_font_renderer_command_writes_a_checkpoint_the_renderer_loads(tmp_path, capsys):
    from talkinghead.cli import main

    from .test_mfr import write_speaker_video

    videos = tmp_path / "videos"
    videos.mkdir()
    write_speaker_video(videos / "a.mp4", seconds=1.0)
    write_speaker_video(videos / "b.mp4", seconds=1.0)
    out = tmp_path / "run"
    code = main(["train", "font-renderer", "--videos", str(videos), "--out", str(out), "--hold-out", "b", "--steps", "2", "--frames-per-clip", "4"])
    assert code == 0, capsys.readouterr().err
    assert {"config.json", "model.safetensors", "CARD.md", "training_report.json", "train_config.json", "last_state.pt"} <= {p.name for p in out.iterdir()}
    assert FontGenerator.load(out).config.crop_size == 256
    assert "held-out face PSNR" in capsys.readouterr().out
