import cv2
import numpy as np
import pytest

from talkinghead.errors import InputError, NoFaceError
from talkinghead.face.backend import analyze_face
from talkinghead.facemodel.frame import canonical_shape, face_frame
from talkinghead.face.layout import get_layout
from talkinghead.facemodel.geometric_basis import GeometricBasis


def test_mediapipe_finds_478_landmarks_on_the_face(source_face, portrait):
    assert source_face.landmarks.shape == (478, 3) and source_face.layout == "mediapipe478"
    x0, y0, x1, y1 = source_face.box
    assert 90 < x0 < x1 < 230 and 40 < y0 < y1 < 200  # the astronaut's face in the 320x320 crop
    layout = get_layout(source_face.layout)
    lm = source_face.landmarks
    assert lm[layout.chin, 1] > lm[layout.nose_tip, 1] > lm[layout.left_eye_upper[0], 1]
    assert lm[layout.right_eye_upper[0], 0] < lm[layout.left_eye_upper[-1], 0]  # person's right on the viewer's left


def test_no_face_names_the_file():
    flat = np.full((200, 200, 3), 127, np.uint8)
    with pytest.raises(NoFaceError, match="wall.png: no face"):
        analyze_face(flat, path="wall.png")


def two_faces(portrait: np.ndarray) -> np.ndarray:
    small = cv2.resize(portrait, (160, 160), interpolation=cv2.INTER_AREA)
    canvas = np.full((320, 520, 3), 230, np.uint8)
    canvas[:, :320] = portrait
    canvas[80:240, 350:510] = small
    return canvas


def test_several_faces_largest_first_then_by_index(portrait):
    image = two_faces(portrait)
    largest = analyze_face(image)
    second = analyze_face(image, face_index=1)
    assert largest.box[0] < 320 and second.box[0] > 320
    with pytest.raises(InputError, match="face_index 2"):
        analyze_face(image, face_index=2)


def test_canonical_frame_is_normalised(source_face):
    layout = get_layout(source_face.layout)
    frame = face_frame(source_face.landmarks, layout)
    q = frame.to_canonical(source_face.landmarks.astype(np.float64))
    right, left = layout.outer_eye_corners
    assert np.linalg.norm(q[left] - q[right]) == pytest.approx(1.0)
    assert abs(q[left, 1] - q[right, 1]) < 1e-6  # eyes level
    np.testing.assert_allclose(frame.from_canonical(q), source_face.landmarks, atol=1e-3)


def test_geometric_basis_moves_the_right_parts(source_face):
    layout = get_layout(source_face.layout)
    _, q = canonical_shape(source_face.landmarks, layout)
    basis = GeometricBasis()
    deltas = basis.deltas(q, layout)
    assert deltas.shape == (len(basis.names), 478, 3)
    jaw = deltas[basis.index("jaw_open")]
    assert jaw[list(layout.inner_lip_lower[1:-1]), 1].min() > 0.3  # lower lip drops
    assert np.abs(jaw[list(layout.left_brow), 1]).max() < 1e-6  # brows stay
    brow = deltas[basis.index("brow_raise")]
    assert brow[list(layout.left_brow), 1].max() < -0.1
    lids = basis.eyelid_deltas(q, layout)
    shut = q + lids[0]
    gap = shut[list(layout.left_eye_lower[1:-1]), 1] - shut[list(layout.left_eye_upper[1:-1]), 1]
    assert np.abs(gap).max() < 1e-4  # the left eye fully closes
    assert basis.estimate(q, layout)[basis.index("jaw_open")] >= 0


def test_a_face_filling_the_whole_picture_is_found(portrait, source_face):
    """The detector misses faces cropped to their own outline (VoxCeleb close-ups, tight
    selfies); the backend then looks again with the edges extended."""
    from talkinghead.registry import FACE_BACKENDS

    x0, y0, x1, y1 = (int(v) for v in source_face.box)
    tight = np.ascontiguousarray(portrait[y0:y1, x0:x1])
    backend = FACE_BACKENDS.get("mediapipe")()
    try:
        faces = backend.detect(tight)
    finally:
        backend.close()
    assert len(faces) == 1
    assert faces[0].box[0] > -0.2 * tight.shape[1] and faces[0].box[2] < 1.2 * tight.shape[1]  # in the crop's own pixels
