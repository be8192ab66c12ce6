"""OSM-Net's motion space: clip-level head-motion features and their bases.

A motion feature is a window of about a second of head pose (yaw, pitch, roll in degrees and
the image-plane x, y offset in inter-ocular distances, each channel divided by its spread in
the training data), flattened. The bases are the principal components of such windows cut
from real tracked talking videos, so each basis is a whole clip-level movement (a nod, a turn
with a return, a slow drift), not a single pose. Windows overlap by half; a pose sequence is
rebuilt from window coefficients by Hann-weighted overlap-add, which keeps it continuous across
window boundaries for audio of any length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS = ("yaw", "pitch", "roll", "x", "y")


@dataclass(frozen=True)
class MotionSpaceConfig:
    fps: float = 25.0
    """Frame rate the space works at; other rates are resampled."""
    window_frames: int = 25
    """Frames per motion feature (1 s at 25 fps)."""
    hop_frames: int = 12
    """Step between windows (about half a window)."""
    bases: int = 8


def pose_channels(rotation: np.ndarray, translation: np.ndarray, fps_in: float, fps: float) -> np.ndarray:
    """(T, 5) yaw, pitch, roll (deg), x, y (IOD) from (T, 3) rotation and (T, 2) translation at
    `fps_in`, resampled to `fps`, each channel's mean removed (the rest pose is not motion)."""
    pose = np.concatenate([rotation, translation], axis=1).astype(np.float64)
    if fps_in != fps:
        pose = resample(pose, fps_in, fps, int(round(len(pose) * fps / fps_in)))
    return pose - pose.mean(axis=0)


def resample(values: np.ndarray, fps_in: float, fps_out: float, num_frames: int) -> np.ndarray:
    """(T, C) values at fps_in -> (num_frames, C) at fps_out, linearly interpolated."""
    t_out, t_in = np.arange(num_frames) / fps_out, np.arange(len(values)) / fps_in
    return np.stack([np.interp(t_out, t_in, c) for c in values.T], axis=1)


def window_starts(num_frames: int, config: MotionSpaceConfig) -> np.ndarray:
    """(N,) first frame of each window covering `num_frames` (the last may run past the end)."""
    count = max(1, int(np.ceil(max(num_frames - config.window_frames, 0) / config.hop_frames)) + 1)
    return np.arange(count) * config.hop_frames


def window_index(num_frames: int, config: MotionSpaceConfig) -> np.ndarray:
    """(N, window_frames) frame index of every window; past the end the last frame is held."""
    starts = window_starts(num_frames, config)
    return np.minimum(starts[:, None] + np.arange(config.window_frames)[None], num_frames - 1)


def cut_windows(pose: np.ndarray, config: MotionSpaceConfig) -> np.ndarray:
    """(T, C) -> (N, window_frames, C) windows."""
    return pose[window_index(len(pose), config)]


def overlap_add(segments: np.ndarray, num_frames: int, config: MotionSpaceConfig) -> np.ndarray:
    """(N, window_frames, C) windows -> (num_frames, C), Hann-weighted where they overlap."""
    w = config.window_frames
    weight = np.hanning(w + 2)[1:-1]  # never exactly 0, so every frame has some weight
    out = np.zeros((len(segments) * config.hop_frames + w, segments.shape[2]))
    total = np.zeros(len(out))
    for start, segment in zip(window_starts(num_frames, config), segments):
        out[start : start + w] += weight[:, None] * segment
        total[start : start + w] += weight
    return (out / np.maximum(total, 1e-9)[:, None])[:num_frames]


class MotionSpace:
    """Bases of clip-level head motion.

    channel_scale: (5,) spread of each pose channel in the data (features are divided by it).
    bases: (K, window_frames * 5) orthonormal; sigma: (K,) std of the data's coefficients;
    explained: (K,) share of the windows' variance each basis explains.
    """

    def __init__(self, config: MotionSpaceConfig, channel_scale: np.ndarray, bases: np.ndarray, sigma: np.ndarray, explained: np.ndarray):
        self.config = config
        self.channel_scale = np.asarray(channel_scale, np.float64)
        self.bases = np.asarray(bases, np.float64)
        self.sigma = np.asarray(sigma, np.float64)
        self.explained = np.asarray(explained, np.float64)

    @classmethod
    def fit(cls, poses: list[np.ndarray], config: MotionSpaceConfig) -> "MotionSpace":
        """Learn the space from (T_i, 5) mean-removed pose sequences at config.fps."""
        scale = np.concatenate(poses).std(axis=0) + 1e-6
        feats = np.concatenate([cut_windows(p / scale, config).reshape(-1, config.window_frames * len(CHANNELS)) for p in poses])
        # Uncentred: coefficient 0 is "no motion", the rest pose of the photo.
        _, s, vt = np.linalg.svd(feats, full_matrices=False)
        k = config.bases
        coefficients = feats @ vt[:k].T
        return cls(config, scale, vt[:k], coefficients.std(axis=0) + 1e-9, s[:k] ** 2 / (s**2).sum())

    def encode(self, pose: np.ndarray) -> np.ndarray:
        """(T, 5) pose -> (N, K) coefficients in units of sigma, one row per window."""
        feats = cut_windows(pose / self.channel_scale, self.config).reshape(-1, self.bases.shape[1])
        return feats @ self.bases.T / self.sigma

    def decode(self, z: np.ndarray, num_frames: int) -> np.ndarray:
        """(N, K) coefficients in units of sigma -> (num_frames, 5) pose."""
        segments = ((z * self.sigma) @ self.bases).reshape(len(z), self.config.window_frames, len(CHANNELS))
        return overlap_add(segments, num_frames, self.config) * self.channel_scale

    def tensors(self) -> dict[str, np.ndarray]:
        return {"channel_scale": self.channel_scale, "bases": self.bases, "sigma": self.sigma, "explained": self.explained}
