import torch

from talkinghead.face.rotation import euler_angles, rotation_matrix, upright_angles, upright_matrix


def test_euler_round_trip():
    angles = torch.tensor([[10.0, -5.0, 3.0], [-30.0, 20.0, -15.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(euler_angles(rotation_matrix(angles)), angles)


def test_sign_conventions():
    nose = torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64)  # points at the camera
    right = rotation_matrix(torch.tensor([20.0, 0, 0], dtype=torch.float64)) @ nose
    down = rotation_matrix(torch.tensor([0, 20.0, 0], dtype=torch.float64)) @ nose
    assert right[0] > 0.3  # yaw > 0 turns the face to the viewer's right
    assert down[1] > 0.3  # pitch > 0 tilts the chin (and nose) down
    ear = rotation_matrix(torch.tensor([0, 0, 20.0], dtype=torch.float64)) @ torch.tensor([1.0, 0, 0], dtype=torch.float64)
    assert ear[1] > 0.3  # roll > 0: the viewer's right side goes down, clockwise in the image


def test_upright_angles_round_trip_and_a_tilted_head_that_turns_changes_yaw_only():
    angles = torch.tensor([[10.0, -5.0, 3.0], [-30.0, 20.0, -15.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(upright_angles(upright_matrix(angles)), angles)
    tilted = upright_matrix(torch.tensor([0.0, 0.0, 20.0], dtype=torch.float64))
    turned = upright_matrix(torch.tensor([15.0, 0.0, 20.0], dtype=torch.float64))
    torch.testing.assert_close(upright_angles(turned) - upright_angles(tilted), torch.tensor([15.0, 0.0, 0.0], dtype=torch.float64))
    # A head looking up that rolls in its own frame (rotation_matrix) also turns, to a viewer:
    # what retargeting in upright angles (motion.opt) avoids.
    looking_up = upright_matrix(torch.tensor([0.0, -13.0, 0.0], dtype=torch.float64))
    own = looking_up @ rotation_matrix(torch.tensor([0.0, 0.0, 4.0], dtype=torch.float64))
    assert float(upright_angles(own)[0] - upright_angles(looking_up)[0]) < -0.8
