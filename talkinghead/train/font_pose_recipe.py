"""Recipe: FONT's head-pose CVAE from talking videos.

Every clip with audio gives (its tracked head pose, mean removed; its per-frame mel stream; its
face's canonical shape). Whole people are held out. Training draws random pose windows; the
loss is L1 reconstruction + an annealed KL weight * KL(q(z | pose, audio) || N(0, I)) + a
weight * (1 - SSIM) of the reconstructed pose sequence. After training the output gain is
calibrated so that sampling at diversity 1 spreads as far as the training clips' real motion.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..face.layout import get_layout
from ..facemodel.frame import canonical_shape
from ..motion.audio2exp_v2 import mel_stream
from ..motion.font_pose import FontPose, FontPoseConfig, kl_divergence, ssim_1d
from .articulation_recipe import person_of
from .osm_recipe import clip_pose
from .videos import TalkingClip

log = logging.getLogger("talkinghead")

HELD_OUT_PEOPLE = ("news_anchor_de", "studio_man_a", "hdtf_markey")
"""The people every FONT model (renderer, pose, keypoints) is validated on."""


@dataclass(frozen=True)
class FontPoseTrainConfig:
    steps: int = 2000
    batch_size: int = 16
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    kl_weight: float = 0.001
    """Small on purpose: at 0.005 the latent carried little (held-out seeds 0-1 rotation RMSE
    0.9-1.3 deg); at 0.001 2.1-2.5 deg (2000 steps, the shipped data)."""
    kl_anneal: float = 0.3
    """Share of the steps over which the KL weight rises linearly from 0."""
    ssim_weight: float = 0.5
    hold_out: tuple[str, ...] = HELD_OUT_PEOPLE
    seed: int = 0
    device: str = "cpu"


@dataclass
class PoseExample:
    """pose (T, 5) deg / IOD, mean removed; audio (T, n_mels); face (N, 3) canonical shape."""

    name: str
    clip: object
    pose: np.ndarray
    audio: np.ndarray
    face: np.ndarray


def face_shape(clip: TalkingClip) -> np.ndarray:
    """(N, 3) canonical landmarks of the clip's first frame with a face."""
    track = clip.track
    return canonical_shape(track.landmarks[int(np.argmax(track.found))].astype(np.float64), get_layout(track.layout))[1]


def pose_examples(clips: list[TalkingClip], config: FontPoseConfig) -> list[PoseExample]:
    out = []
    for c in clips:
        if c.audio is None:
            continue
        pose = clip_pose(c, config.windows.fps)
        t = min(len(pose), c.audio.num_frames(config.windows.fps))
        out.append(PoseExample(c.name, c.audio, pose[:t], mel_stream(c.audio, config.windows.fps, t, config.mel), face_shape(c)))
    return out


def split(examples: list, hold_out) -> tuple[list, list]:
    people = {person_of(h) for h in hold_out}
    return [e for e in examples if person_of(e.name) not in people], [e for e in examples if person_of(e.name) in people]


def sample_windows(examples: list[PoseExample], model: FontPose, batch: int, rng, faces: dict) -> tuple[torch.Tensor, ...]:
    """(B, W, 5) normalised pose, (B, W, n_mels) audio, (B, face_dims) face of random windows."""
    w = model.config.windows.window_frames
    usable = [e for e in examples if len(e.pose) > w]
    scale = model.channel_scale.cpu().numpy()
    poses, audios, face = [], [], []
    for i in rng.integers(len(usable), size=batch):
        e = usable[i]
        s = int(rng.integers(0, len(e.pose) - w))
        poses.append(e.pose[s : s + w] / scale)
        audios.append(e.audio[s : s + w])
        face.append(faces[e.name])
    return torch.tensor(np.stack(poses), dtype=torch.float32), torch.tensor(np.stack(audios)), torch.stack(face)


def losses(model: FontPose, pose, audio, face, kl_weight: float, ssim_weight: float) -> dict[str, torch.Tensor]:
    recon, mu, logvar = model(pose, audio, face)
    parts = {"l1": (recon - pose).abs().mean(), "kl": kl_divergence(mu, logvar), "ssim": 1.0 - ssim_1d(recon, pose)}
    parts["loss"] = parts["l1"] + kl_weight * parts["kl"] + ssim_weight * parts["ssim"]
    return parts


def train_font_pose(clips: list[TalkingClip], cfg: FontPoseTrainConfig, config: FontPoseConfig | None = None) -> tuple[FontPose, dict]:
    started = time.time()
    config = config or FontPoseConfig()
    train, val = split(pose_examples(clips, config), cfg.hold_out)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = FontPose(config)
    model.channel_scale.copy_(torch.tensor(np.concatenate([e.pose for e in train]).std(0), dtype=torch.float32))
    model.set_face_space(np.stack([e.face for e in train]))
    model.to(cfg.device)
    faces = {e.name: model.face_embedding(e.face) for e in train + val}
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    history = []
    for n in range(1, cfg.steps + 1):
        kl_weight = cfg.kl_weight * min(1.0, n / max(1.0, cfg.kl_anneal * cfg.steps))
        batch = [t.to(cfg.device) for t in sample_windows(train, model, cfg.batch_size, rng, faces)]
        parts = losses(model, *batch, kl_weight, cfg.ssim_weight)
        optimiser.zero_grad()
        parts["loss"].backward()
        optimiser.step()
        if n % 100 == 0 or n == cfg.steps:
            history.append({"step": n, **{k: round(v.item(), 4) for k, v in parts.items()}})
            log.info("step %d loss %.4f (%.0f s)", n, parts["loss"].item(), time.time() - started)
    model = model.cpu().eval()
    model.calibrate([e.clip for e in train], np.concatenate([e.pose for e in train]).std(0), [e.face for e in train])
    report = {
        "train_clips": [e.name for e in train],
        "held_out_clips": [e.name for e in val],
        "channel_scale": model.channel_scale.tolist(),
        "out_gain": model.out_gain.tolist(),
        "held_out": {e.name: validation(model, e) for e in val},
        "history": history,
        "train_config": asdict(cfg),
        "seconds": time.time() - started,
    }
    return model, report


@torch.no_grad()
def validation(model: FontPose, e: PoseExample) -> dict[str, float]:
    """Held-out figures of one clip, degrees: the real and sampled (seed 0, diversity 1)
    yaw/pitch/roll std, the mean motion's (diversity 0) L1 from the real pose against a still
    head's, the rotation RMSE between seeds 0 and 1, and the posterior reconstruction's L1
    and SSIM over whole windows (how much of real motion the latent can carry)."""
    fps = model.config.windows.fps
    a = np.concatenate(model.sample(e.clip, fps, e.face, seed=0, diversity=1.0), 1)[: len(e.pose)]
    b = np.concatenate(model.sample(e.clip, fps, e.face, seed=1, diversity=1.0), 1)[: len(e.pose)]
    mean = np.concatenate(model.sample(e.clip, fps, e.face, seed=0, diversity=0.0), 1)[: len(e.pose)]
    real = e.pose[: len(a)]
    w = model.config.windows.window_frames
    starts = np.arange(0, max(len(real) - w, 1), w)
    scale = model.channel_scale.numpy()
    pose = torch.tensor(np.stack([real[s : s + w] / scale for s in starts]), dtype=torch.float32)
    audio = torch.tensor(np.stack([e.audio[s : s + w] for s in starts]))
    face = model.face_embedding(e.face)[None].expand(len(starts), -1)
    feats = model.audio_features(audio)
    mu, _ = model.encode(pose, feats)
    recon = model.decode(mu, feats, face)
    return {
        "real_std_deg": real[:, :3].std(0).round(3).tolist(),
        "sampled_std_deg": a[:, :3].std(0).round(3).tolist(),
        "mean_motion_l1_deg": float(np.abs(mean[:, :3] - real[:, :3]).mean()),
        "still_head_l1_deg": float(np.abs(real[:, :3]).mean()),
        "seed_rmse_deg": float(np.sqrt(np.mean((a[:, :3] - b[:, :3]) ** 2))),
        "posterior_l1_deg": float(((recon - pose).abs() * torch.tensor(scale)).mean(dim=(0, 1))[:3].mean()),
        "posterior_ssim": float(ssim_1d(recon, pose)),
    }


def font_pose_card(report: dict, videos: str) -> str:
    rows = "\n".join(
        f"| {name} | {' / '.join(f'{v:.2f}' for v in r['real_std_deg'])} | {' / '.join(f'{v:.2f}' for v in r['sampled_std_deg'])} "
        f"| {r['mean_motion_l1_deg']:.2f} ({r['still_head_l1_deg']:.2f}) | {r['seed_rmse_deg']:.2f} | {r['posterior_l1_deg']:.2f} / {r['posterior_ssim']:.2f} |"
        for name, r in report["held_out"].items()
    )
    cfg = report["train_config"]
    return f"""# font_pose: FONT's head-pose CVAE

- **What**: `talkinghead.motion.font_pose.FontPose`, a conditional VAE over 2 s pose windows
  (yaw, pitch, roll, x, y at 25 fps, hop 1 s): encoder q(z | pose, audio), prior N(0, I), decoder
  from (z, per-frame audio features, source-face embedding). Audio: audio2exp v2's per-frame
  log-mel stream (standardised per clip). Face: 4 principal components of the canonical
  landmarks of the training people's faces. Sampling: z = diversity * eps per window (eps
  correlated {0.5} between windows, truncated at 2.5), windows joined by Hann overlap-add, any
  length; output gain calibrated so diversity 1 spreads like the training clips' real motion
  (gain {', '.join(f'{g:.2f}' for g in report['out_gain'])}).
- **Data**: `{videos}`, {len(report['train_clips'])} training clips: {', '.join(report['train_clips'])}.
  **Held out whole** (people): {', '.join(cfg['hold_out'])} -> clips {', '.join(report['held_out_clips'])}.
  Poses from the MediaPipe tracker (`talkinghead train` track cache).
- **Loss**: L1 + KL (weight {cfg['kl_weight']}, annealed over the first {cfg['kl_anneal']:.0%} of the steps)
  + {cfg['ssim_weight']} * (1 - SSIM over 9-frame windows per channel); {cfg['steps']} AdamW steps,
  batches of {cfg['batch_size']} windows, seed {cfg['seed']}.
- **Command**: `{report.get('command', '')}`
  ({report.get('total_seconds', 0):.0f} s on {report.get('machine', '')}, OMP_NUM_THREADS=1).

## Held-out people (`training_report.json`)

| clip | real yaw/pitch/roll std, deg | sampled (seed 0) | mean motion L1 (still head), deg | seeds 0-1 RMSE, deg | posterior L1 deg / SSIM |
| --- | --- | --- | --- | --- | --- |
{rows}

Reading: the sampled spread is what the calibration sets; whether the mean motion beats a
still head (L1 smaller than the still head's) says whether the audio predicts the held-out
people's pose; the posterior figures say how much of real motion the latent can carry.
"""
