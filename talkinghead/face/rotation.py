"""Head rotation angles <-> rotation matrices, batched in torch (CPU or GPU).

Conventions, in the face frame (x to the person's left, y down, z into the head):
yaw > 0 turns the face towards the viewer's right, pitch > 0 tilts the chin down,
roll > 0 turns the face clockwise in the image. R = R_yaw @ R_pitch @ R_roll.

Upright angles (upright_matrix / upright_angles) take the same three turns in another order,
R = R_roll @ R_yaw @ R_pitch, for a head's orientation in the camera: it nods (pitch) and
turns (yaw) in its own upright frame, and the result is tilted in the image plane (roll), so
a tilted head that turns changes yaw only. It is how a viewer, and the evaluator's dlib pose
proxy (eval.metrics.head_pose), read a head; a pose is retargeted from one face to another in
these angles (motion.opt).
"""

from __future__ import annotations


import torch


def rotation_matrix(angles_deg: torch.Tensor) -> torch.Tensor:
    """angles_deg: (..., 3) yaw, pitch, roll in degrees -> (..., 3, 3) rotation matrices."""
    r_yaw, r_pitch, r_roll = _turns(angles_deg)
    return r_yaw @ r_pitch @ r_roll


def upright_matrix(angles_deg: torch.Tensor) -> torch.Tensor:
    """angles_deg: (..., 3) upright yaw, pitch, roll in degrees -> (..., 3, 3) rotations."""
    r_yaw, r_pitch, r_roll = _turns(angles_deg)
    return r_roll @ r_yaw @ r_pitch


def upright_angles(rotation: torch.Tensor) -> torch.Tensor:
    """Inverse of `upright_matrix`: (..., 3, 3) -> (..., 3) yaw, pitch, roll in degrees."""
    # With R = Rz(roll) Ry(-yaw) Rx(pitch): R[2, 0] = sin(yaw), R[2, 1] = cos(yaw)sin(pitch),
    # R[2, 2] = cos(yaw)cos(pitch), R[1, 0] = sin(roll)cos(yaw), R[0, 0] = cos(roll)cos(yaw).
    yaw = torch.asin(rotation[..., 2, 0].clamp(-1.0, 1.0))
    pitch = torch.atan2(rotation[..., 2, 1], rotation[..., 2, 2])
    roll = torch.atan2(rotation[..., 1, 0], rotation[..., 0, 0])
    return torch.rad2deg(torch.stack([yaw, pitch, roll], dim=-1))


def _turns(angles_deg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(..., 3) yaw, pitch, roll in degrees -> the three (..., 3, 3) elementary rotations."""
    yaw, pitch, roll = torch.deg2rad(angles_deg).unbind(-1)
    one, zero = torch.ones_like(yaw), torch.zeros_like(yaw)

    def mat(rows):
        return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)

    # The nose points to -z; turning it to +x (viewer's right) is a rotation by -yaw about y.
    r_yaw = mat([[yaw.cos(), zero, -yaw.sin()], [zero, one, zero], [yaw.sin(), zero, yaw.cos()]])
    r_pitch = mat([[one, zero, zero], [zero, pitch.cos(), -pitch.sin()], [zero, pitch.sin(), pitch.cos()]])
    r_roll = mat([[roll.cos(), -roll.sin(), zero], [roll.sin(), roll.cos(), zero], [zero, zero, one]])
    return r_yaw, r_pitch, r_roll


def euler_angles(rotation: torch.Tensor) -> torch.Tensor:
    """Inverse of `rotation_matrix`: (..., 3, 3) -> (..., 3) yaw, pitch, roll in degrees."""
    # With R = Ry(-yaw) Rx(pitch) Rz(roll): R[1, 2] = -sin(pitch), R[0, 2] = -sin(yaw)cos(pitch),
    # R[2, 2] = cos(yaw)cos(pitch), R[1, 0] = cos(pitch)sin(roll), R[1, 1] = cos(pitch)cos(roll).
    pitch = torch.asin((-rotation[..., 1, 2]).clamp(-1.0, 1.0))
    yaw = torch.atan2(-rotation[..., 0, 2], rotation[..., 2, 2])
    roll = torch.atan2(rotation[..., 1, 0], rotation[..., 1, 1])
    return torch.rad2deg(torch.stack([yaw, pitch, roll], dim=-1))


