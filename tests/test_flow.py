import numpy as np
import torch
import torch.nn.functional as F

from talkinghead.render.flow import FlowGridConfig, build_flow_grid, forward_field, invert_flow

SIZE = (120, 160)


def ring_of_points() -> np.ndarray:
    """(K, 2) control points: a 'face' in the middle of a 120x160 image."""
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    outer = np.stack([80 + 25 * np.cos(angles), 60 + 30 * np.sin(angles)], 1)
    inner = np.stack([80 + 10 * np.cos(angles[::3]), 60 + 12 * np.sin(angles[::3])], 1)
    return np.concatenate([outer, inner])


def grid_for(points):
    return build_flow_grid(points, SIZE, face_scale=20.0, chin_y=90.0, config=FlowGridConfig(min_cell=4.0))


def test_translation_moves_the_face_and_fades_outside():
    points = ring_of_points()
    grid = grid_for(points)
    shift = torch.tensor([3.0, -2.0])
    field = forward_field(grid, shift.expand(1, len(points), 2))
    h, w = grid.shape
    centre = field[0, :, h // 2, w // 2]
    torch.testing.assert_close(centre, shift)
    assert field[0, :, 0, :].abs().max() < 1e-6 and field[0, :, :, 0].abs().max() < 1e-6  # borders stay put
    backward = invert_flow(field, grid)
    torch.testing.assert_close(backward[0, :, h // 2, w // 2], -shift, atol=1e-4, rtol=0)


def test_inversion_solves_the_forward_map():
    points = ring_of_points()
    grid = grid_for(points)
    rng = np.random.default_rng(0)
    # A smooth, non-folding deformation: a rotation by 8 degrees about the face centre plus noise.
    theta = np.deg2rad(8)
    centre = np.array([80.0, 60.0])
    rotated = (points - centre) @ np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]]) + centre
    moved = rotated + rng.normal(scale=0.5, size=points.shape)
    field = forward_field(grid, torch.tensor(moved - points, dtype=torch.float32)[None])
    backward = invert_flow(field, grid)
    x = grid.points[None] + backward.permute(0, 2, 3, 1)
    height, width = SIZE
    norm = (x + 0.5) * torch.tensor([2 / width, 2 / height]) - 1
    f_at_x = F.grid_sample(field, norm, align_corners=False, padding_mode="border").permute(0, 2, 3, 1)
    residual = (x + f_at_x - grid.points[None]).norm(dim=-1)
    assert residual.mean() < 0.01 and residual.max() < 0.5
