"""Recipe: OSM-Net's motion space and its audio-to-motion-space model, from talking videos.

The motion space is learned from every tracked clip (audio not needed). The audio-to-point
model is trained on the clips with audio, whole clips held out for validation, on random runs
of consecutive windows. Its loss is the Gaussian negative log-likelihood of the real window's
motion-space point under the predicted point and spread, in units of each basis' spread, so the
spread it learns is the range real heads keep to for such audio.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..audio.mel import audio_windows
from ..errors import InputError
from ..motion.motion_space import MotionSpace, pose_channels
from ..motion.osm import OSMNet, OSMNetConfig
from ..facemodel.face_model import FaceModelConfig
from ..motion.tracked import analyse_track, tracked_pose
from .audio2exp_recipe import split_examples
from .distributed import Distributed
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
    """Number of whole clips held out (every len/val_clips-th clip by name)."""
    val_names: tuple[str, ...] = ()
    """Hold out exactly these clips (file names without suffix) instead."""
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
    rotation, translation, _ = tracked_pose(analyse_track(clip.track), FaceModelConfig().pivot)
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
    if not usable:
        raise InputError(f"every training clip is shorter than {span / space_cfg.fps:.1f} s; OSM-Net trains on runs of {s} motion windows")
    xs, ys = [], []
    for i in rng.integers(len(usable), size=cfg.batch_size):
        e = usable[i]
        start = int(rng.integers(0, len(e.z) - s + 1))
        first = start * space_cfg.hop_frames
        xs.append(e.frames[first : first + span])
        ys.append(e.z[start : start + s])
    length = min(len(x) for x in xs)
    return torch.stack([x[:length] for x in xs]), torch.stack(ys)


def train_osm(
    clips: list[TalkingClip], cfg: OSMTrainConfig, config: OSMNetConfig | None = None, dist: Distributed | None = None
) -> tuple[OSMNet, dict]:
    """Fit the motion space on every clip and the audio-to-point model on those with audio
    (whole clips held out); returns the model (on the CPU) and a report with the space's explained
    variance and the held-out figures. Under torchrun (`dist`) each process draws its own batches."""
    started = time.time()
    config = config or OSMNetConfig()
    dist = dist or Distributed(device=cfg.device)
    poses = {c.name: clip_pose(c, config.space.fps) for c in clips}
    space = MotionSpace.fit(list(poses.values()), config.space)
    examples = [examples_of(c, poses[c.name], space, config) for c in clips if c.audio is not None]
    train, val = split_examples(examples, cfg)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed + dist.rank)
    model = OSMNet(config).to(dist.device)
    model.set_space(space)
    model.encoder.set_normalisation(torch.cat([e.frames for e in train]).to(dist.device))
    trained = dist.wrap(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    history = []
    for n in range(1, cfg.steps + 1):
        x, y = sample_runs(train, cfg, config.space, rng)
        mu, log_sigma = trained(x.to(dist.device))
        loss = gaussian_nll(mu[:, : y.shape[1]], log_sigma[:, : y.shape[1]], y.to(dist.device))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if n % 100 == 0 or n == cfg.steps:
            history.append({"step": n, "loss": loss.item()})
            log.info("step %d loss %.4f (%.0f s)", n, loss.item(), time.time() - started)
    model = model.cpu().eval()
    model.calibrate([e.frames for e in train])
    report = {
        "explained_variance": space.explained.tolist(),
        "explained_total": float(space.explained.sum()),
        "train_clips": [e.name for e in train],
        "val_clips": [e.name for e in val],
        "val": validation(model, val),
        "history": history,
        "seconds": time.time() - started,
        "train_config": asdict(cfg),
        "processes": dist.world_size,
    }
    return model, report


def gaussian_nll(mu: torch.Tensor, log_sigma: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood (without the constant) of points z under N(mu, sigma^2);
    all (..., K) in units of each basis' spread."""
    return torch.mean(0.5 * ((z - mu) / log_sigma.exp()) ** 2 + log_sigma)


@torch.no_grad()
def validation(model: OSMNet, examples: list[MotionExamples]) -> dict[str, dict[str, float]]:
    """Per held-out clip, in units of each basis' spread: the squared error of the predicted
    point and of the space's centre (0); the negative log-likelihood of the real points under the
    model (spread as calibrated for sampling) and under the data's own spread around the centre, N(0, 1)."""
    out = {}
    for e in examples:
        mu, log_sigma = (t[0, : len(e.z)] for t in model(e.frames[None]))
        log_sigma = log_sigma + model.spread_scale.log()
        zero = torch.zeros_like(mu)
        out[e.name] = {
            "mse": float(torch.mean((mu - e.z) ** 2)),
            "mse_of_zero": float(torch.mean(e.z**2)),
            "nll": float(gaussian_nll(mu, log_sigma, e.z)),
            "nll_of_unit_gaussian": float(gaussian_nll(zero, zero, e.z)),
            "mean_sigma": float(log_sigma.exp().mean()),
        }
    return out
