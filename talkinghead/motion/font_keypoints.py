"""FONT's keypoint predictor: the face's per-frame keypoints from the source's keypoints, the
speech content and the head pose.

In this suite the renderers take keypoints as expression coefficients over the face model's
basis (the renderer turns them into landmarks). The speech content is the content mouth
(phones -> articulation table, speaker-independent: `BaselineMotion.content_mouth`). The
predictor is a small temporal network that adds a residual to the content mouth's K mouth
coefficients, from (the content mouth, the head pose, the source's own mouth coefficients).
Its last layer starts at zero, so an untrained predictor is the content mouth itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ..io.module_checkpoint import CheckpointedModule
from .font_pose import conv_stack

CHECKPOINT_NAME = "font_keypoints"


@dataclass(frozen=True)
class FontKeypointsConfig:
    expression_names: tuple[str, ...] = ()
    """The K basis coefficients predicted (the content mouth's)."""
    pose_scale: tuple[float, ...] = (1.0, 1.0, 1.0, 0.05, 0.05)
    """Spread of yaw, pitch, roll (deg), x, y (IOD) that the pose input is divided by."""
    hidden: int = 32
    kernel: int = 5
    layers: int = 2
    max_residual: float = 0.5
    """Bound of the residual per coefficient (tanh)."""
    residual_scale: float = 1.0
    """Share of the learned residual applied (the recipe picks it on training people it held
    out of a first fit; 0 = the content mouth alone)."""

    @classmethod
    def from_dict(cls, data: dict) -> "FontKeypointsConfig":
        return cls(**{**data, "expression_names": tuple(data["expression_names"]), "pose_scale": tuple(data["pose_scale"])})


class FontKeypoints(CheckpointedModule):
    """content (B, T, K) absolute mouth coefficients of the content mouth (0 = closed);
    pose (B, T, 5) yaw, pitch, roll (deg), x, y (IOD), mean removed; source (B, K) the source's own
    mouth coefficients -> (B, T, K) absolute mouth coefficients."""

    checkpoint_name = CHECKPOINT_NAME
    description = "FONT keypoint predictor"
    config_class = FontKeypointsConfig

    def __init__(self, config: FontKeypointsConfig):
        super().__init__()
        self.config = config
        k = len(config.expression_names)
        self.residual_scale = config.residual_scale
        self.register_buffer("pose_scale", torch.tensor(config.pose_scale, dtype=torch.float32))
        self.net = conv_stack(2 * k + 5, config.hidden, config.kernel, config.layers)
        self.head = nn.Conv1d(config.hidden, k, config.kernel, padding=config.kernel // 2)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def set_residual_scale(self, scale: float) -> None:
        """Apply this share of the learned residual (kept in the config, so it is saved)."""
        self.config = replace(self.config, residual_scale=float(scale))
        self.residual_scale = float(scale)

    def forward(self, content: torch.Tensor, pose: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        x = torch.cat([content, pose / self.pose_scale, source[:, None].expand(-1, content.shape[1], -1)], -1)
        residual = self.head(self.net(x.transpose(1, 2))).transpose(1, 2)
        return content + self.residual_scale * self.config.max_residual * torch.tanh(residual)

    @torch.no_grad()
    def predict(self, content: np.ndarray, rotation: np.ndarray, translation: np.ndarray, source: np.ndarray) -> np.ndarray:
        """content (T, K), rotation (T, 3) deg, translation (T, 2) IOD, source (K,) -> (T, K)
        float32 absolute mouth coefficients."""
        self.eval()
        device = self.pose_scale.device
        pose = np.concatenate([rotation, translation], 1)
        pose = pose - pose.mean(0) if len(pose) else pose
        as_t = lambda a: torch.as_tensor(np.asarray(a, np.float32), device=device)[None]  # noqa: E731
        return self(as_t(content), as_t(pose), as_t(source))[0].cpu().numpy().astype(np.float32)
