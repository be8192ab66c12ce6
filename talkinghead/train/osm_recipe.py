"""Recipe: OSM-Net's motion space and its audio-to-motion-space model, from talking videos.

The motion space is learned from every tracked clip (audio not needed). The audio-to-point
model is trained on the clips with audio, whole clips held out for validation, on random runs
of consecutive windows; its loss is the squared error of the motion-space point, in units of
each basis' spread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..audio.mel import audio_windows
from ..motion.motion_space import MotionSpace, pose_channels
from ..motion.osm import OSMNet, OSMNetConfig
from ..motion.tracked import analyse_track, tracked_pose
from .videos import TalkingClip

log = logging.getLogger("talkinghead")


@dataclass(frozen=True)
class OSMTrainConfig:
    steps: int = 100
    """Few on purpose: on the 10 reference clips longer training only fits the training clips
    (held-out error of the point: 0.95 / 1.08 after 400 steps, 0.99 / 1.09 after 100)."""
    batch_size: int = 8
    segment_windows: int = 6
    learning_rate: float = 2e-3
    weight_decay: float = 0.1
    val_clips: int = 2
    seed: int = 0
    device: str = "cpu"


@dataclass
class MotionExamples:
    """frames: (T, W, n_mels) audio windows at the space's fps; z: (N, K) motion-space points."""

    name: str
    frames: torch.Tensor
    z: torch.Tensor


def clip_pose(clip: TalkingClip, fps: float) -> np.ndarray:
    """(T, 5) mean-removed head pose of a tracked clip at `fps`."""
    rotation, translation, _ = tracked_pose(analyse_track(clip.track))
    return pose_channels(rotation, translation, clip.track.fps, fps)


def examples_of(clip: TalkingClip, pose: np.ndarray, space: MotionSpace, config: OSMNetConfig) -> MotionExamples:
    frames = audio_windows(clip.audio, config.space.fps, config.mel)
    t = min(len(frames), len(pose))
    z = space.encode(pose[:t])
    return MotionExamples(clip.name, frames[:t], torch.tensor(z, dtype=torch.float32))


def sample_runs(examples: list[MotionExamples], cfg: OSMTrainConfig, space_cfg, rng) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, frames, W, n_mels) audio and (B, S, K) points of runs of S consecutive windows."""
    s = cfg.segment_windows
    span = (s - 1) * space_cfg.hop_frames + space_cfg.window_frames
    usable = [e for e in examples if len(e.z) >= s and len(e.frames) >= span]
    xs, ys = [], []
    for i in rng.integers(len(usable), size=cfg.batch_size):
        e = usable[i]
        start = int(rng.integers(0, len(e.z) - s + 1))
        first = start * space_cfg.hop_frames
        xs.append(e.frames[first : first + span])
        ys.append(e.z[start : start + s])
    length = min(len(x) for x in xs)
    return torch.stack([x[:length] for x in xs]), torch.stack(ys)


def train_osm(clips: list[TalkingClip], cfg: OSMTrainConfig, config: OSMNetConfig | None = None) -> tuple[OSMNet, dict]:
    started = time.time()
    config = config or OSMNetConfig()
    poses = {c.name: clip_pose(c, config.space.fps) for c in clips}
    space = MotionSpace.fit(list(poses.values()), config.space)
    audible = sorted((c for c in clips if c.audio is not None), key=lambda c: c.name)
    if len(audible) < cfg.val_clips + 1:
        raise ValueError(f"need at least {cfg.val_clips + 1} clips with audio, found {len(audible)}")
    step = len(audible) / cfg.val_clips if cfg.val_clips else 0
    held = {int(step * i + step / 2) for i in range(cfg.val_clips)}
    examples = [examples_of(c, poses[c.name], space, config) for c in audible]
    train = [e for i, e in enumerate(examples) if i not in held]
    val = [e for i, e in enumerate(examples) if i in held]
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = OSMNet(config).to(cfg.device)
    model.set_space(space)
    model.encoder.set_normalisation(torch.cat([e.frames for e in train]).to(cfg.device))
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    history = []
    for n in range(1, cfg.steps + 1):
        x, y = sample_runs(train, cfg, config.space, rng)
        pred = model(x.to(cfg.device))[:, : y.shape[1]]
        loss = torch.mean((pred - y.to(cfg.device)) ** 2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if n % 100 == 0 or n == cfg.steps:
            history.append({"step": n, "loss": loss.item()})
            log.info("step %d loss %.4f (%.0f s)", n, loss.item(), time.time() - started)
    model = model.cpu().eval()
    report = {
        "explained_variance": space.explained.tolist(),
        "explained_total": float(space.explained.sum()),
        "train_clips": [e.name for e in train],
        "val_clips": [e.name for e in val],
        "val": validation(model, val),
        "history": history,
        "seconds": time.time() - started,
        "train_config": asdict(cfg),
    }
    return model, report


@torch.no_grad()
def validation(model: OSMNet, examples: list[MotionExamples]) -> dict[str, dict[str, float]]:
    """Per held-out clip: mean squared error of the predicted point and of predicting 0 (the
    motion space's centre), in units of each basis' spread."""
    out = {}
    for e in examples:
        pred = model(e.frames[None])[0, : len(e.z)]
        out[e.name] = {"mse": float(torch.mean((pred - e.z) ** 2)), "mse_of_zero": float(torch.mean(e.z**2))}
    return out
