"""Dense motion: the mesh flow (exact where the keypoints are, guessed between and around them)
refined by a small network that also predicts where the source cannot be seen (occlusion).

The mesh flow comes from the keypoints through the same Delaunay/hull weights as the warp
renderer (render/flow.py), so the network starts from the warp renderer's answer and learns
only the correction: the inside of the mouth, the eyelids, hair and the jaw line.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .sketch import SKETCH_CHANNELS
from .warping import warp


@dataclass(frozen=True)
class DenseMotionConfig:
    resolution: int = 64
    """Resolution of the motion network (cells over the crop)."""
    channels: int = 32
    flow_scale: float = 4.0
    """Output units of the flow correction, in crop pixels."""


def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2))


class DenseMotionNetwork(nn.Module):
    """Inputs at resolution r (64): the source crop, the source warped by the mesh flow, the mesh
    flow and the target sketch; a two-level U-Net; outputs a flow correction and an occlusion map."""

    def __init__(self, config: DenseMotionConfig, crop_size: int):
        super().__init__()
        self.config, self.crop_size = config, crop_size
        c = config.channels
        self.inp = conv(3 + 3 + 2 + SKETCH_CHANNELS, c)
        self.down = nn.Sequential(conv(c, c, stride=2), conv(c, c))
        self.up = conv(2 * c, c)
        self.out = nn.Conv2d(c, 3, 3, 1, 1)
        # Zero correction and a fully visible source at the start: the mesh flow's answer.
        nn.init.zeros_(self.out.weight)
        with torch.no_grad():
            self.out.bias.copy_(torch.tensor([0.0, 0.0, 4.0]))

    def forward(self, source_small: torch.Tensor, mesh_flow: torch.Tensor, sketch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """source_small: (B, 3, r, r) in [-0.5, 0.5]; mesh_flow: (B, 2, r, r) crop pixels;
        sketch: (B, 2, r, r) in [0, 1] -> flow (B, 2, r, r) crop pixels, occlusion (B, 1, r, r)
        in (0, 1), 1 = the source is visible there."""
        warped = warp(source_small, mesh_flow, self.crop_size)
        x = self.inp(torch.cat([source_small, warped, mesh_flow / (self.crop_size / 16), sketch], dim=1))
        low = self.down(x)
        up = nn.functional.interpolate(low, size=x.shape[-2:], mode="bilinear", align_corners=False)
        y = self.out(self.up(torch.cat([x, up], dim=1)))
        flow = mesh_flow + y[:, :2] * self.config.flow_scale
        return flow, torch.sigmoid(y[:, 2:])

