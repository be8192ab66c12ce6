"""Training losses of the FONT renderer, wrapped with the generator so that one module (the one
DistributedDataParallel wraps) maps a batch to a dict of losses.

L1 and image-gradient L1, weighted up on the face (where the evaluation and the viewer look),
plus 1 - SSIM; and, only when the user supplies VGG-19 weights, a perceptual loss
(render/font/perceptual.py). The shipped renderer was trained without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .generator import FontGenerator


@dataclass(frozen=True)
class LossWeights:
    l1: float = 1.0
    ssim: float = 0.5
    gradient: float = 0.5
    perceptual: float = 1.0
    """Used only with a PerceptualLoss (user-supplied VGG-19 weights)."""
    blend: float = 0.05
    """L1 on the blend mask, so the generator paints only where the warped photo cannot supply
    the pixels (mouth interior, eyelids, disocclusions). Without it, it learned to paint the
    background and hair too: blurry there, and worse on held-out people (crop PSNR 23.5 dB
    against 24.9 dB for its own flow without the painting)."""


@dataclass
class FontBatch:
    """source, target: (B, 3, S, S) crops in [-0.5, 0.5]; mesh_flow: (B, 2, h, w) crop pixels;
    sketch_quarter, sketch_half: (B, 2, S/4, S/4), (B, 2, S/2, S/2) in [0, 1]; weight:
    (B, 1, S, S) per-pixel loss weight (about 1 on the background, more on the face)."""

    source: torch.Tensor
    target: torch.Tensor
    mesh_flow: torch.Tensor
    sketch_quarter: torch.Tensor
    sketch_half: torch.Tensor
    weight: torch.Tensor

    def to(self, device: str) -> "FontBatch":
        return FontBatch(*(t.to(device) for t in vars(self).values()))


def ssim_map(a: torch.Tensor, b: torch.Tensor, window: int = 7) -> torch.Tensor:
    """(B, C, H, W) images in [-0.5, 0.5] -> (B, C, H, W) local structural similarity (box window)."""
    pad = window // 2
    mu_a, mu_b = F.avg_pool2d(a, window, 1, pad), F.avg_pool2d(b, window, 1, pad)
    var_a = F.avg_pool2d(a * a, window, 1, pad) - mu_a**2
    var_b = F.avg_pool2d(b * b, window, 1, pad) - mu_b**2
    cov = F.avg_pool2d(a * b, window, 1, pad) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))


def gradients(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return image[..., :, 1:] - image[..., :, :-1], image[..., 1:, :] - image[..., :-1, :]


class FontTraining(nn.Module):
    """The generator plus its losses: forward(batch) -> {"total", "l1", "ssim", "gradient"}
    (and "perceptual" when a PerceptualLoss is given)."""

    def __init__(self, generator: FontGenerator, weights: LossWeights | None = None, perceptual: nn.Module | None = None):
        super().__init__()
        self.generator, self.weights, self.perceptual = generator, weights or LossWeights(), perceptual

    def forward(self, batch: FontBatch) -> dict[str, torch.Tensor]:
        features = self.generator.encode(batch.source)
        out = self.generator(features, batch.mesh_flow, batch.sketch_quarter, batch.sketch_half)
        w = batch.weight / batch.weight.mean()
        l1 = ((out.image - batch.target).abs() * w).mean()
        (gx, gy), (tx, ty) = gradients(out.image), gradients(batch.target)
        gradient = ((gx - tx).abs() * w[..., :, 1:]).mean() + ((gy - ty).abs() * w[..., 1:, :]).mean()
        ssim = 1 - ssim_map(out.image, batch.target).mean()
        k = self.weights
        blend = out.blend.mean()
        total = k.l1 * l1 + k.ssim * ssim + k.gradient * gradient + k.blend * blend
        losses = {"l1": l1.detach(), "ssim": ssim.detach(), "gradient": gradient.detach(), "blend": blend.detach()}
        if self.perceptual is not None:
            perceptual = self.perceptual(out.image, batch.target)
            total = total + k.perceptual * perceptual
            losses["perceptual"] = perceptual.detach()
        return {"total": total, **losses}
