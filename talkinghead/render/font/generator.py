"""FONT's generator: encode the source crop once, warp its features by the dense motion, mask
them by the occlusion map, decode with the target sketch, and blend the decoded pixels with the
photo's own pixels warped at full crop resolution (the blend is learned: the photo's pixels
where they exist, painted ones where they do not).

    source crop --encoder--> features (64 and 128 px) --warp by flow, x occlusion--> decoder
    decoder + sketch --> rgb and blend --> blend * rgb + (1 - blend) * warped photo pixels
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ...io.module_checkpoint import CheckpointedModule
from .dense_motion import DenseMotionConfig, DenseMotionNetwork, conv
from .sketch import SKETCH_CHANNELS
from .warping import resize, warp

CHECKPOINT_NAME = "font_renderer"


@dataclass(frozen=True)
class FontGeneratorConfig:
    crop_size: int = 256
    channels: int = 32
    """Feature channels at 1/4 of the crop; half as many at 1/2."""
    motion: DenseMotionConfig = field(default_factory=DenseMotionConfig)

    @classmethod
    def from_dict(cls, data: dict) -> "FontGeneratorConfig":
        return cls(**{**data, "motion": DenseMotionConfig(**data["motion"])})


@dataclass
class SourceFeatures:
    """The source crop encoded once per photo.

    image: (1, 3, S, S) in [-0.5, 0.5]; small: (1, 3, S/4, S/4); quarter: (1, C, S/4, S/4);
    half: (1, C/2, S/2, S/2)."""

    image: torch.Tensor
    small: torch.Tensor
    quarter: torch.Tensor
    half: torch.Tensor

    def expand(self, batch: int) -> "SourceFeatures":
        return SourceFeatures(*(t.expand(batch, -1, -1, -1) for t in (self.image, self.small, self.quarter, self.half)))


@dataclass
class GeneratorOutput:
    """image: (B, 3, S, S) in [-0.5, 0.5], = blend * painted + (1 - blend) * the photo warped
    by flow_full; painted: (B, 3, S, S) in [-0.5, 0.5]; blend: (B, 1, S, S) in (0, 1), 1 =
    painted; flow: (B, 2, S/4, S/4) and flow_full: (B, 2, S, S) in crop pixels; occlusion:
    (B, 1, S/4, S/4), 1 = source visible. A renderer with a photo sharper than the crop applies
    flow_full, blend and painted to the photo's own pixels (render/font/renderer.py)."""

    image: torch.Tensor
    painted: torch.Tensor
    blend: torch.Tensor
    flow: torch.Tensor
    flow_full: torch.Tensor
    occlusion: torch.Tensor


class FontGenerator(CheckpointedModule):
    checkpoint_name = CHECKPOINT_NAME
    description = "FONT renderer weights (dense motion and generator)"
    config_class = FontGeneratorConfig

    def __init__(self, config: FontGeneratorConfig | None = None):
        super().__init__()
        self.config = config or FontGeneratorConfig()
        c, s = self.config.channels, self.config.crop_size
        if self.config.motion.resolution * 4 != s:
            raise ValueError("the motion resolution must be a quarter of the crop size")
        self.motion = DenseMotionNetwork(self.config.motion, s)
        self.encode_half = nn.Sequential(conv(3, c // 2, stride=2), conv(c // 2, c // 2))
        self.encode_quarter = nn.Sequential(conv(c // 2, c, stride=2), conv(c, c))
        self.decode_quarter = nn.Sequential(conv(c + SKETCH_CHANNELS, c), conv(c, c), nn.Conv2d(c, c // 2, 1))
        self.decode_half = nn.Sequential(conv(c // 2 + c // 2 + SKETCH_CHANNELS, c // 2), conv(c // 2, c // 2))
        self.to_pixels = nn.Conv2d(c // 2, 4 * 4, 3, 1, 1)  # 4 channels (rgb, blend) at 2x by pixel shuffle
        # Start as the warped photo: no painting until training asks for it.
        nn.init.zeros_(self.to_pixels.weight)
        with torch.no_grad():
            self.to_pixels.bias.copy_(torch.tensor([0.0, 0.0, 0.0, -4.0]).repeat_interleave(4))

    def encode(self, source: torch.Tensor) -> SourceFeatures:
        """source: (B, 3, S, S) crop in [-0.5, 0.5]."""
        half = self.encode_half(source)
        quarter = self.encode_quarter(half)
        small = F.interpolate(source, scale_factor=0.25, mode="area")
        return SourceFeatures(source, small, quarter, half)

    def forward(self, features: SourceFeatures, mesh_flow: torch.Tensor, sketch_quarter: torch.Tensor, sketch_half: torch.Tensor) -> GeneratorOutput:
        """mesh_flow: (B, 2, h, w) the mesh flow on its grid, crop pixels; sketches (B, 2, S/4, S/4)
        and (B, 2, S/2, S/2) in [0, 1]; features expanded to B."""
        s = self.config.crop_size
        flow, occlusion = self.motion(features.small, resize(mesh_flow, s // 4), sketch_quarter)
        correction = flow - resize(mesh_flow, s // 4)
        # Higher resolutions keep the mesh flow's own detail and add the upsampled correction.
        flow_half = resize(mesh_flow, s // 2) + resize(correction, s // 2)
        flow_full = resize(mesh_flow, s) + resize(correction, s)
        x = self.decode_quarter(torch.cat([warp(features.quarter, flow, s) * occlusion, sketch_quarter], dim=1))
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        occlusion_half = F.interpolate(occlusion, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = self.decode_half(torch.cat([x, warp(features.half, flow_half, s) * occlusion_half, sketch_half], dim=1))
        out = F.pixel_shuffle(self.to_pixels(x), 2)
        rgb, blend = torch.sigmoid(out[:, :3]) - 0.5, torch.sigmoid(out[:, 3:])
        photo = warp(features.image, flow_full, s)
        return GeneratorOutput(blend * rgb + (1 - blend) * photo, rgb, blend, flow, flow_full, occlusion)
