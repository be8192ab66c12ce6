"""Backward warping in crop pixels, shared by the dense motion network and the generator.

A flow (B, 2, r, r) at any resolution r holds, for every output cell, the offset in crop pixels
(of the full crop, e.g. 256) from the cell's centre to where it samples the source."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cell_centres(resolution: int, crop_size: int, device: torch.device) -> torch.Tensor:
    """(1, r, r, 2) crop-pixel (x, y) coordinates of the centres of an r x r grid of cells."""
    line = (torch.arange(resolution, device=device, dtype=torch.float32) + 0.5) * crop_size / resolution - 0.5
    y, x = torch.meshgrid(line, line, indexing="ij")
    return torch.stack([x, y], dim=-1)[None]


def warp(features: torch.Tensor, flow: torch.Tensor, crop_size: int) -> torch.Tensor:
    """features (B, C, H, W) of the source crop at any resolution, flow (B, 2, r, r) in crop
    pixels -> (B, C, r, r) features sampled at (cell centre + flow), borders replicated."""
    centres = cell_centres(flow.shape[-1], crop_size, flow.device)
    where = centres + flow.permute(0, 2, 3, 1)
    grid = (where + 0.5) * (2.0 / crop_size) - 1.0
    return F.grid_sample(features, grid, mode="bilinear", padding_mode="border", align_corners=False)


def resize(flow: torch.Tensor, resolution: int) -> torch.Tensor:
    """(B, 2, h, w) flow in crop pixels -> (B, 2, r, r), bilinear (cell-centre convention)."""
    if flow.shape[-1] == resolution and flow.shape[-2] == resolution:
        return flow
    return F.interpolate(flow, size=(resolution, resolution), mode="bilinear", align_corners=False)
