import torch

from talkinghead.face.rotation import euler_angles, rotation_matrix


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
