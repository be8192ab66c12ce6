"""Recipe: FONT's renderer, self-supervised on real talking videos.

A training example is two frames of one clip: the source frame and a driving frame. The driving
frame's tracked keypoints move the source's keypoints; the mesh flow, the dense motion network
and the generator must turn the source crop into the driving crop. Whole people are held out
(train/articulation_recipe.person_of); the held-out pairs give the validation PSNR, on the face,
against the mesh flow alone (the warp renderer's motion, without its painting).

Frames are cut to the face crop once per clip and cached (the decoded crops of 25 clips fit in
a few GB); the run folder gets the configs at the start and a resumable state every
`checkpoint_every` steps, so a stopped run continues where it stopped.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import InputError
from ..face.layout import get_layout
from ..io.video import read_video
from ..render.flow import FlowGridConfig
from ..render.font.crop import CropConfig, FaceCrop
from ..render.font.generator import FontGenerator, FontGeneratorConfig
from ..render.font.losses import FontBatch, FontTraining, LossWeights
from ..render.font.mesh_flow import MeshFlow
from ..render.font.perceptual import PerceptualLoss
from ..render.font.renderer import to_unit
from ..render.font.sketch import draw_sketch
from ..types import FaceTrack
from .articulation_recipe import person_of
from .distributed import Distributed
from .videos import Tracker, cached_track, video_files

log = logging.getLogger("talkinghead")
STATE_FILE = "last_state.pt"
CONFIG_FILE = "train_config.json"
RUN_FILES = (STATE_FILE, CONFIG_FILE)


@dataclass(frozen=True)
class FontRendererTrainConfig:
    steps: int = 6000
    batch_size: int = 6
    learning_rate: float = 4e-4
    minutes: float | None = None
    """Stop (and save) after this much wall time, whatever `steps` says: the CPU budget."""
    frames_per_clip: int = 300
    """Frames cut from each clip, evenly spaced (longer clips would otherwise dominate)."""
    sources_per_clip: int = 6
    """Source frames per clip (each needs its mesh weights, computed once)."""
    face_weight: float = 3.0
    """Extra loss weight on the face (inside the keypoints' hull)."""
    val_pairs: int = 48
    checkpoint_every: int = 200
    log_every: int = 50
    seed: int = 0
    device: str = "cpu"
    losses: LossWeights = field(default_factory=LossWeights)
    perceptual_weights: str | None = None
    """VGG-19 weights (torchvision's state dict) for the optional perceptual loss; None = without."""
    crop: CropConfig = field(default_factory=CropConfig)
    flow: FlowGridConfig = field(default_factory=FlowGridConfig)


@dataclass
class ClipFrames:
    """frames: (T, S, S, 3) uint8 face crops of one clip; keypoints: (T, N, 2) float32 tracked
    landmarks in crop pixels."""

    name: str
    frames: np.ndarray
    keypoints: np.ndarray


def crop_clip(video: Path, track: FaceTrack, crop: CropConfig, count: int) -> ClipFrames:
    """`count` evenly spaced tracked frames of a clip, cut to the clip's face crop."""
    found = np.flatnonzero(track.found)
    if len(found) < 2:
        raise InputError(f"{video.name}: fewer than 2 frames with a face")
    pick = np.unique(found[np.linspace(0, len(found) - 1, min(count, len(found))).round().astype(int)])
    box = FaceCrop.around(np.median(track.landmarks[found], axis=0), track.layout, crop)
    frames = []
    wanted = set(pick.tolist())
    # Tracks of large videos are made on frames shrunk to the tracker's size: read them alike.
    for i, frame in enumerate(read_video(video, max_size=max(track.image_size))):
        if i in wanted:
            if frame.shape[:2] != tuple(track.image_size):
                raise InputError(f"{video.name}: frames are {frame.shape[:2]}, the track is of {track.image_size}")
            frames.append(box.cut(frame))
    pick = pick[: len(frames)]
    return ClipFrames(video.stem, np.stack(frames), box.to_crop(track.landmarks[pick]).astype(np.float32))


def load_font_clips(folder: str | Path, cache: str | Path | None, crop: CropConfig, count: int) -> list[ClipFrames]:
    """Every talking video in `folder`, tracked (cached) and cut (cached) to face crops."""
    cache = Path(cache) if cache else Path(folder) / ".talkinghead-cache"
    cache.mkdir(parents=True, exist_ok=True)
    tracker, clips = Tracker(), []
    try:
        for video in video_files(folder):
            track = cached_track(video, cache, tracker)
            stored = cache / f"{video.stem}-font-{crop.size}-{crop.side_iod}-{crop.lift_iod}-{count}.npz"
            if stored.exists():
                data = np.load(stored)
                clips.append(ClipFrames(video.stem, data["frames"], data["keypoints"]))
                continue
            try:
                clip = crop_clip(video, track, crop, count)
            except InputError as exc:
                log.info("skipping %s: %s", video.name, exc)
                continue
            np.savez(stored, frames=clip.frames, keypoints=clip.keypoints)
            clips.append(clip)
    finally:
        tracker.close()
    return clips


def split_clips(clips: list[ClipFrames], hold_out: list[str]) -> tuple[list[ClipFrames], list[ClipFrames]]:
    people = {person_of(h) for h in hold_out}
    unknown = people - {person_of(c.name) for c in clips}
    if unknown:
        raise InputError(f"--hold-out names no clip: {', '.join(sorted(unknown))}")
    return [c for c in clips if person_of(c.name) not in people], [c for c in clips if person_of(c.name) in people]


class PairSampler:
    """Random (source, driving) frame pairs of one clip, made into batches."""

    def __init__(self, clips: list[ClipFrames], cfg: FontRendererTrainConfig, layout: str = "mediapipe478"):
        self.clips, self.cfg, self.layout = clips, cfg, get_layout(layout)
        self.sources = [np.unique(np.linspace(0, len(c.frames) - 1, cfg.sources_per_clip).round().astype(int)) for c in clips]
        self.meshes = [
            {int(s): MeshFlow(c.keypoints[s], self.layout, cfg.crop.size, cfg.flow) for s in sources}
            for c, sources in zip(clips, self.sources)
        ]

    def draw(self, rng: np.random.Generator, count: int) -> list[tuple[int, int, int]]:
        pairs = []
        for _ in range(count):
            c = int(rng.integers(len(self.clips)))
            pairs.append((c, int(rng.choice(self.sources[c])), int(rng.integers(len(self.clips[c].frames)))))
        return pairs

    def batch(self, pairs: list[tuple[int, int, int]]) -> FontBatch:
        size = self.cfg.crop.size
        source = np.stack([self.clips[c].frames[s] for c, s, _ in pairs])
        target = np.stack([self.clips[c].frames[d] for c, _, d in pairs])
        keypoints = np.stack([self.clips[c].keypoints[d] for c, _, d in pairs])
        mesh = torch.cat([self.meshes[c][s].backward(torch.from_numpy(self.clips[c].keypoints[d][None])) for c, s, d in pairs])
        return FontBatch(
            source=to_unit(source),
            target=to_unit(target),
            mesh_flow=mesh,
            sketch_quarter=torch.from_numpy(draw_sketch(keypoints, self.layout, size, size // 4)),
            sketch_half=torch.from_numpy(draw_sketch(keypoints, self.layout, size, size // 2)),
            weight=torch.from_numpy(face_weights(keypoints, size, self.cfg.face_weight)),
        )


def face_masks(keypoints: np.ndarray, size: int) -> np.ndarray:
    """(B, N, 2) crop pixels -> (B, S, S) float32 in {0, 1}: inside the keypoints' hull."""
    masks = np.zeros((len(keypoints), size, size), np.uint8)
    for mask, points in zip(masks, keypoints):
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return masks.astype(np.float32)


def face_weights(keypoints: np.ndarray, size: int, face_weight: float) -> np.ndarray:
    """(B, 1, S, S) loss weights: 1 + face_weight inside the face hull."""
    return (1.0 + face_weight * face_masks(keypoints, size))[:, None]


def face_psnr(output: torch.Tensor, target: torch.Tensor, masks: np.ndarray) -> np.ndarray:
    """(B,) PSNR in dB over the face hull; images (B, 3, S, S) in [-0.5, 0.5]."""
    m = torch.from_numpy(masks)[:, None]
    err = (((output.clamp(-0.5, 0.5) - target) * 255.0) ** 2 * m).sum(dim=(1, 2, 3)) / (3 * m.sum(dim=(1, 2, 3))).clamp(min=1)
    return (10 * torch.log10(255.0**2 / err.clamp(min=1e-6))).numpy()


@torch.no_grad()
def validate(generator: FontGenerator, sampler: PairSampler, pairs: list[tuple[int, int, int]], device: str) -> dict[str, float]:
    """Face PSNR of the generator and of the mesh flow alone on fixed held-out pairs."""
    from ..render.font.warping import resize, warp

    ours, mesh_only = [], []
    for i in range(0, len(pairs), 8):
        chunk = pairs[i : i + 8]
        batch = sampler.batch(chunk).to(device)
        out = generator(generator.encode(batch.source), batch.mesh_flow, batch.sketch_quarter, batch.sketch_half)
        plain = warp(batch.source, resize(batch.mesh_flow, generator.config.crop_size), generator.config.crop_size)
        masks = face_masks(np.stack([sampler.clips[c].keypoints[d] for c, _, d in chunk]), generator.config.crop_size)
        ours.append(face_psnr(out.image.cpu(), batch.target.cpu(), masks))
        mesh_only.append(face_psnr(plain.cpu(), batch.target.cpu(), masks))
    return {"val_face_psnr": float(np.mean(np.concatenate(ours))), "val_face_psnr_mesh_only": float(np.mean(np.concatenate(mesh_only)))}


def train_font_renderer(
    train: list[ClipFrames], val: list[ClipFrames], cfg: FontRendererTrainConfig, out: Path,
    generator_config: FontGeneratorConfig | None = None, dist: Distributed | None = None,
) -> tuple[FontGenerator, dict]:  # fmt: skip
    dist = dist or Distributed(device=cfg.device)
    gen_cfg = replace(generator_config or FontGeneratorConfig(), crop_size=cfg.crop.size)
    out.mkdir(parents=True, exist_ok=True)
    if dist.is_main:
        (out / CONFIG_FILE).write_text(json.dumps({"train": asdict(cfg), "generator": asdict(gen_cfg)}, indent=1) + "\n")
    torch.manual_seed(cfg.seed)
    generator = FontGenerator(gen_cfg).to(dist.device)
    optimiser = torch.optim.Adam(generator.parameters(), lr=cfg.learning_rate)
    report = {"curve": [], "train_clips": [c.name for c in train], "val_clips": [c.name for c in val], "steps_done": 0}
    step = resume(out / STATE_FILE, generator, optimiser, report)
    rng = np.random.default_rng([cfg.seed, dist.rank, step])
    sampler = PairSampler(train, cfg)
    val_sampler = PairSampler(val, cfg) if val else None
    val_pairs = val_sampler.draw(np.random.default_rng(cfg.seed + 1), cfg.val_pairs) if val_sampler else []
    perceptual = PerceptualLoss(cfg.perceptual_weights).to(dist.device) if cfg.perceptual_weights else None
    model = dist.wrap(FontTraining(generator, cfg.losses, perceptual))
    started, running = time.time(), []
    while step < cfg.steps and (cfg.minutes is None or time.time() - started < 60 * cfg.minutes):
        losses = model(sampler.batch(sampler.draw(rng, cfg.batch_size)).to(dist.device))
        optimiser.zero_grad()
        losses["total"].backward()
        optimiser.step()
        running.append({k: float(v.detach()) for k, v in losses.items()})
        step += 1
        if step % cfg.log_every == 0:
            entry = {"step": step, **{k: float(np.mean([r[k] for r in running])) for k in running[0]}}
            running = []
            report["curve"].append(entry)
            log.info("step %d: %s", step, ", ".join(f"{k} {v:.4f}" for k, v in entry.items() if k != "step"))
        if dist.is_main and step % cfg.checkpoint_every == 0:
            report["steps_done"] = step
            save_state(out / STATE_FILE, generator, optimiser, report, step)
    report["steps_done"] = step
    report["train_seconds"] = time.time() - started
    generator.eval()
    if val_sampler:
        report.update(validate(generator, val_sampler, val_pairs, dist.device))
    if dist.is_main:
        save_state(out / STATE_FILE, generator, optimiser, report, step)
    return generator.cpu(), report


def save_state(path: Path, generator, optimiser, report: dict, step: int) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"generator": generator.state_dict(), "optimiser": optimiser.state_dict(), "step": step, "report": report}, tmp)
    tmp.replace(path)


def resume(path: Path, generator, optimiser, report: dict) -> int:
    """Load the run folder's last state, if there is one; the step to continue from."""
    if not path.exists():
        return 0
    state = torch.load(path, map_location="cpu", weights_only=True)
    generator.load_state_dict(state["generator"])
    optimiser.load_state_dict(state["optimiser"])
    report.update(state["report"])
    log.info("resuming %s at step %d", path.parent, state["step"])
    return int(state["step"])


def font_renderer_card(report: dict) -> str:
    last = report["curve"][-1] if report["curve"] else {}
    held = (
        f"{report['val_face_psnr']:.2f} dB against {report['val_face_psnr_mesh_only']:.2f} dB for the mesh flow alone "
        f"(no painting), on {len(report.get('val_clips', []))} held-out clips"
        if "val_face_psnr" in report
        else "not measured (nothing held out)"
    )
    return f"""# FONT renderer (dense motion, occlusion, generator)

- Data: real talking clips, self-supervised (source and driving frame of one clip, the driving
  frame's tracked MediaPipe landmarks as keypoints). Trained on: {', '.join(report['train_clips'])}.
  Held out (whole people): {', '.join(report.get('val_clips', [])) or 'none'}.
- Command: `{report.get('command', '')}` on {report.get('machine', '')}:
  {report['steps_done']} steps in {report.get('train_seconds', 0):.0f} s of training
  ({report.get('total_seconds', 0):.0f} s in all, with cutting the crops).
- Losses: L1 and image-gradient L1 weighted up on the face, and 1 - SSIM{'; perceptual (VGG-19, user weights)' if 'perceptual' in last else '; no perceptual loss'}.
  Last logged: {', '.join(f'{k} {v:.4f}' for k, v in last.items() if k != 'step')}.
- Held-out face PSNR of the crop (256 px, inside the landmark hull): {held}.
- Replay of real clips against the warp renderer: see the README (`benchmarks/font_replay.py`).
"""
