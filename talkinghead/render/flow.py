"""Dense flow from sparse landmark motion, on a coarse grid over the whole image.

The forward displacement field f (where each source pixel goes) is linear in the landmark
displacements, with weights fixed by the source landmarks alone, so they are computed once per
photo:
- inside the landmark hull: piecewise-linear over a Delaunay triangulation (the face follows
  the mesh exactly);
- outside: the displacement of the nearest point on the hull's boundary, fading with distance
  (slowly above and beside the face, so hair follows the head; quickly below the chin, so the
  neck stays with the body);
- everything tapers to zero at the image border, so the border stays put.
Rendering needs the backward map (where each output pixel comes from); `invert_flow` solves
x + f(x) = p for x with a few batched Newton steps.

Grid convention: a grid of (h, w) cells over an (H, W) image; cell j is centred at pixel
x = (j + 0.5) * W / w - 0.5, which is the align_corners=False convention of torch and cv2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.spatial import ConvexHull, Delaunay


@dataclass(frozen=True)
class FlowGridConfig:
    cells_per_iod: float = 24.0
    """Grid resolution relative to the face: cells per inter-ocular distance (lips are then
    about two cells thick), so big faces do not pay for detail they do not need."""
    min_cell: float = 3.0
    """Smallest cell size in pixels (small faces)."""
    max_cells: int = 192
    """Upper bound on grid cells along the longer side."""
    hair_reach: float = 1.2
    """Fall-off length of head motion above and beside the face, in inter-ocular distances."""
    neck_reach: float = 0.45
    """Fall-off length below the chin, in inter-ocular distances."""
    border_margin: float = 0.05
    """Width of the taper to zero motion at the image border, as a fraction of the shorter side."""


@dataclass(frozen=True)
class FlowGrid:
    """index: (G, 3) long, weight: (G, 3) float32: f[g] = sum_j weight[g, j] * d[index[g, j]].
    points: (h, w, 2) float32 pixel coordinates (x, y) of the cell centres."""

    index: torch.Tensor
    weight: torch.Tensor
    points: torch.Tensor
    image_size: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.points.shape[0]), int(self.points.shape[1])

    def to(self, device: torch.device | str) -> "FlowGrid":
        return FlowGrid(self.index.to(device), self.weight.to(device), self.points.to(device), self.image_size)


def grid_shape(image_size: tuple[int, int], face_scale: float, config: FlowGridConfig) -> tuple[int, int]:
    """(h, w) grid cells for an image with a face `face_scale` pixels between the eyes."""
    height, width = image_size
    cell = max(config.min_cell, face_scale / config.cells_per_iod, max(height, width) / config.max_cells)
    return max(2, int(round(height / cell))), max(2, int(round(width / cell)))


def cell_centres(image_size: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """(h, w, 2) pixel coordinates of the grid cell centres."""
    (height, width), (h, w) = image_size, shape
    xs = (np.arange(w) + 0.5) * width / w - 0.5
    ys = (np.arange(h) + 0.5) * height / h - 0.5
    return np.stack(np.meshgrid(xs, ys), axis=-1)


def build_flow_grid(
    control: np.ndarray,
    image_size: tuple[int, int],
    face_scale: float,
    chin_y: float,
    config: FlowGridConfig = FlowGridConfig(),
) -> FlowGrid:
    """Interpolation weights for the forward field.

    control: (K, 2) control point positions in source pixels.
    face_scale: inter-ocular distance in pixels; chin_y: the chin's row in pixels.
    """
    shape = grid_shape(image_size, face_scale, config)
    centres = cell_centres(image_size, shape)
    pts = centres.reshape(-1, 2)
    index = np.zeros((len(pts), 3), np.int64)
    weight = np.zeros((len(pts), 3), np.float64)

    triangulation = Delaunay(control)
    simplex = triangulation.find_simplex(pts)
    inside = simplex >= 0
    index[inside], weight[inside] = _barycentric(triangulation, simplex[inside], pts[inside])

    outside = ~inside
    edge_index, edge_weight, distance = _nearest_on_hull(control, pts[outside])
    index[outside, :2], weight[outside, :2] = edge_index, edge_weight
    reach = face_scale * np.where(pts[outside, 1] > chin_y, config.neck_reach, config.hair_reach)
    weight[outside] *= np.exp(-((distance / reach) ** 2))[:, None]

    cell = image_size[1] / shape[1]
    weight *= _border_taper(pts, image_size, config.border_margin, cell)[:, None]
    return FlowGrid(
        index=torch.from_numpy(index),
        weight=torch.from_numpy(weight.astype(np.float32)),
        points=torch.from_numpy(centres.astype(np.float32)),
        image_size=image_size,
    )


def _barycentric(triangulation: Delaunay, simplex: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    transform = triangulation.transform[simplex]
    partial = np.einsum("nij,nj->ni", transform[:, :2], pts - transform[:, 2])
    bary = np.concatenate([partial, 1 - partial.sum(axis=1, keepdims=True)], axis=1)
    return triangulation.simplices[simplex], np.clip(bary, 0.0, 1.0)


def _nearest_on_hull(control: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point, the nearest hull edge (its two control indices), the linear weights of
    the nearest point on it, and the distance (pixels)."""
    hull = ConvexHull(control).vertices
    a_idx, b_idx = hull, np.roll(hull, -1)
    a, b = control[a_idx], control[b_idx]
    ab = b - a
    t = np.einsum("pek,ek->pe", pts[:, None, :] - a[None], ab) / np.maximum((ab**2).sum(axis=1), 1e-9)
    t = np.clip(t, 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    dist = np.linalg.norm(pts[:, None, :] - nearest, axis=2)
    edge = dist.argmin(axis=1)
    rows = np.arange(len(pts))
    te = t[rows, edge]
    return (
        np.stack([a_idx[edge], b_idx[edge]], axis=1),
        np.stack([1 - te, te], axis=1),
        dist[rows, edge],
    )


def _border_taper(pts: np.ndarray, image_size: tuple[int, int], margin: float, cell: float) -> np.ndarray:
    """(G,) weights: 0 on the outermost cells (so the upsampled flow is 0 at the image edge),
    rising smoothly to 1 over `margin` of the shorter side."""
    height, width = image_size
    width_px = max(3.0, margin * min(height, width))
    to_border = np.minimum.reduce([pts[:, 0] + 0.5, pts[:, 1] + 0.5, width - 0.5 - pts[:, 0], height - 0.5 - pts[:, 1]])
    t = np.clip((to_border - 0.75 * cell) / width_px, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def forward_field(grid: FlowGrid, displacement: torch.Tensor) -> torch.Tensor:
    """displacement: (B, K, 2) control point motion in pixels -> (B, 2, h, w) forward field."""
    gathered = displacement[:, grid.index]  # (B, G, 3, 2)
    field = (gathered * grid.weight[None, :, :, None]).sum(dim=2)
    h, w = grid.shape
    return field.transpose(1, 2).reshape(len(displacement), 2, h, w)


def _normalised(xy: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """(B, h, w, 2) pixel coordinates -> grid_sample coordinates in [-1, 1]."""
    height, width = image_size
    scale = torch.tensor([2.0 / width, 2.0 / height], device=xy.device, dtype=xy.dtype)
    return (xy + 0.5) * scale - 1.0


def _jacobian(field: torch.Tensor, grid: FlowGrid) -> torch.Tensor:
    """(B, 2, h, w) field -> (B, 4, h, w): d fx/dx, d fx/dy, d fy/dx, d fy/dy (unitless)."""
    (height, width), (h, w) = grid.image_size, grid.shape
    d_dy, d_dx = torch.gradient(field, spacing=(height / h, width / w), dim=(2, 3))
    return torch.stack([d_dx[:, 0], d_dy[:, 0], d_dx[:, 1], d_dy[:, 1]], dim=1)


def invert_flow(field: torch.Tensor, grid: FlowGrid, iterations: int = 5) -> torch.Tensor:
    """Backward displacement b (B, 2, h, w) with x = p + b solving x + f(x) = p at every cell
    centre p, for a forward field f (B, 2, h, w) in pixels."""
    p = grid.points[None].expand(len(field), -1, -1, -1)  # (B, h, w, 2)
    stacked = torch.cat([field, _jacobian(field, grid)], dim=1)
    x = p - field.permute(0, 2, 3, 1)
    max_step = 4.0 * grid.image_size[1] / grid.shape[1]
    for _ in range(iterations):
        residual, jacobian = _residual(stacked, x, p, grid)
        a, b, c, d = 1 + jacobian[..., 0], jacobian[..., 1], jacobian[..., 2], 1 + jacobian[..., 3]
        # Where the warp folds or collapses (a shut eye) the determinant nears zero; keeping it
        # away from zero gives a damped step instead of a blow-up.
        det = (a * d - b * c).clamp(min=0.1)
        rx, ry = residual.unbind(-1)
        step = torch.stack([(d * rx - b * ry) / det, (a * ry - c * rx) / det], dim=-1)
        x = x - step.clamp(-max_step, max_step)
    residual, _ = _residual(stacked, x, p, grid)
    return _fill_unsolved((x - p).permute(0, 3, 1, 2), residual.norm(dim=-1) < SOLVED_PX)


# A cell whose Newton residual stays above this (pixels) is treated as unsolved. It happens only
# inside a mouth opening stretched many times wider than in the photo, where the forward field
# is a near-step the Newton steps overshoot.
SOLVED_PX = 0.5


def _residual(stacked: torch.Tensor, x: torch.Tensor, p: torch.Tensor, grid: FlowGrid) -> tuple[torch.Tensor, torch.Tensor]:
    """x + f(x) - p (B, h, w, 2) and the Jacobian of f at x (B, h, w, 4)."""
    sampled = F.grid_sample(stacked, _normalised(x, grid.image_size), mode="bilinear", padding_mode="border", align_corners=False)
    sampled = sampled.permute(0, 2, 3, 1)
    return x + sampled[..., :2] - p, sampled[..., 2:]


def _fill_unsolved(backward: torch.Tensor, solved: torch.Tensor, rounds: int = 3) -> torch.Tensor:
    """Replace unsolved cells of (B, 2, h, w) by the mean of their solved neighbours, growing
    inwards from the solved edge (solved: (B, h, w) bool). Only the frames and the window that
    contain unsolved cells are touched (they are rare and local: the inside of a mouth)."""
    frames = (~solved).flatten(1).any(dim=1).nonzero().flatten()
    if len(frames) == 0:
        return backward
    rows = (~solved[frames]).any(dim=(0, 2)).nonzero().flatten()
    cols = (~solved[frames]).any(dim=(0, 1)).nonzero().flatten()
    margin = 2 * rounds + 2
    y0, y1 = max(int(rows[0]) - margin, 0), int(rows[-1]) + margin + 1
    x0, x1 = max(int(cols[0]) - margin, 0), int(cols[-1]) + margin + 1
    window = backward[frames, :, y0:y1, x0:x1]
    weight = solved[frames, None, y0:y1, x0:x1].to(backward.dtype)
    for _ in range(rounds):
        total = F.avg_pool2d(torch.cat([window * weight, weight], dim=1), 5, stride=1, padding=2)
        filled = total[:, :2] / total[:, 2:].clamp(min=1e-6)
        window = torch.where(weight > 0, window, filled)
        weight = torch.maximum(weight, (total[:, 2:] > 0).to(backward.dtype))
    backward = backward.clone()
    backward[frames, :, y0:y1, x0:x1] = window
    return backward
