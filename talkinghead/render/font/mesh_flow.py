"""The mesh flow inside the crop: keypoint motion spread over the crop by the warp renderer's
Delaunay/hull weights (render/flow.py), inverted to a backward flow. The dense motion network
starts from it."""

from __future__ import annotations

import numpy as np
import torch

from ...face.layout import LandmarkLayout
from ..flow import FlowGridConfig, build_flow_grid, forward_field, invert_flow


class MeshFlow:
    """Built once per source from its keypoints in crop pixels (N, 2)."""

    def __init__(self, source_xy: np.ndarray, layout: LandmarkLayout, crop_size: int, config: FlowGridConfig, iterations: int = 5):
        source_xy = np.asarray(source_xy, np.float64)[:, :2]
        self.control = np.setdiff1d(np.arange(layout.num_points), layout.irises)
        chin_y = float(source_xy[layout.chin, 1])
        self.grid = build_flow_grid(source_xy[self.control], (crop_size, crop_size), eye_distance(source_xy, layout), chin_y, config)
        self.source = torch.as_tensor(np.asarray(source_xy, np.float32)[self.control])
        self.iterations = iterations

    def to(self, device: str | torch.device) -> "MeshFlow":
        self.grid, self.source = self.grid.to(device), self.source.to(device)
        return self

    def backward(self, targets: torch.Tensor) -> torch.Tensor:
        """targets: (B, N, 2) target keypoints in crop pixels -> (B, 2, h, w) backward flow on
        the grid, crop pixels (where each output cell samples the source, minus the cell)."""
        displacement = targets[:, self.control].float() - self.source
        return invert_flow(forward_field(self.grid, displacement), self.grid, self.iterations)


def eye_distance(points: np.ndarray, layout: LandmarkLayout) -> float:
    """Distance in pixels between the eye centres of (N, 2) keypoints."""
    left = points[list(layout.left_eye_upper) + list(layout.left_eye_lower)].mean(axis=0)
    right = points[list(layout.right_eye_upper) + list(layout.right_eye_lower)].mean(axis=0)
    return float(np.linalg.norm(left - right))
