import numpy as np
import pytest

from talkinghead.face.layout import get_layout
from talkinghead.facemodel.geometric_basis import inner_lip_gap
from talkinghead.types import MotionSequence

from .conftest import warp_renderer


@pytest.fixture(scope="module")
def renderer():
    """The geometric basis: its coefficients have fixed meanings (jaw_open, ...) to test against."""
    return warp_renderer("geometric")


@pytest.fixture(scope="module")
def prepared(renderer, source_face):
    return renderer.prepare(source_face)


def region_change(a: np.ndarray, b: np.ndarray, points: np.ndarray, pad: int = 4) -> float:
    """Mean absolute pixel difference inside the box around points."""
    x0, y0 = np.floor(points.min(0) - pad).astype(int)
    x1, y1 = np.ceil(points.max(0) + pad).astype(int)
    return float(np.abs(a[y0:y1, x0:x1].astype(float) - b[y0:y1, x0:x1].astype(float)).mean())


def test_rest_motion_reproduces_the_photo(renderer, prepared, portrait):
    chunk = renderer.render(prepared, MotionSequence.rest(2, 25, renderer.expression_names))
    assert chunk.frames.shape == (2,) + portrait.shape and chunk.frames.dtype == np.uint8
    assert chunk.masks.shape == (2,) + portrait.shape[:2]
    assert np.abs(chunk.frames[0].astype(int) - portrait).mean() < 0.5
    assert chunk.masks.max() < 30


def test_jaw_opening_changes_the_mouth_not_the_background(renderer, prepared, source_face, portrait):
    motion = MotionSequence.rest(1, 25, renderer.expression_names)
    motion.expression[0, renderer.basis.index("jaw_open")] = 0.5
    frame, mask = (a[0] for a in (lambda c: (c.frames, c.masks))(renderer.render(prepared, motion)))
    layout = get_layout(source_face.layout)
    mouth = source_face.landmarks[list(layout.lips()), :2]
    assert region_change(frame, portrait, mouth) > 8
    corner = (slice(0, 40), slice(0, 40))
    assert np.array_equal(frame[corner], portrait[corner])
    assert mask[corner].max() == 0
    x, y = mouth.mean(0).astype(int)
    assert mask[y, x] > 200


def test_blink_closes_the_eyes(renderer, prepared, source_face, portrait):
    motion = MotionSequence.rest(1, 25, renderer.expression_names)
    motion.eyelids[:] = 1.0
    frame = renderer.render(prepared, motion).frames[0]
    layout = get_layout(source_face.layout)
    for eye in (layout.left_eye_upper + layout.left_eye_lower, layout.right_eye_upper + layout.right_eye_lower):
        assert region_change(frame, portrait, source_face.landmarks[list(eye), :2], pad=0) > 6


def test_head_turn_moves_the_nose_the_right_way(renderer, prepared, source_face):
    motion = MotionSequence.rest(2, 25, renderer.expression_names)
    motion.rotation[1] = [15.0, 0.0, 0.0]
    q = renderer.canonical_targets(prepared, motion)
    targets = renderer.posed(prepared, motion, q).numpy()
    nose = get_layout(source_face.layout).nose_tip
    assert targets[1, nose, 0] - targets[0, nose, 0] > 3  # yaw > 0: towards the viewer's right


def test_cv2_and_torch_warps_agree(prepared, source_face):
    renderers = {backend: warp_renderer("learned", warp_backend=backend) for backend in ("cv2", "torch")}
    motion = MotionSequence.rest(2, 25, renderers["cv2"].expression_names)
    motion.rotation[:] = [8.0, -4.0, 2.0]
    motion.expression[:, 0] = 0.3
    frames = {backend: r.render(r.prepare(source_face), motion).frames for backend, r in renderers.items()}
    difference = np.abs(frames["cv2"].astype(int) - frames["torch"].astype(int))
    assert difference.mean() < 1.0


def test_rendering_is_deterministic(renderer, prepared):
    motion = MotionSequence.rest(3, 25, renderer.expression_names)
    motion.rotation[:, 0] = [0, 5, -5]
    a, b = renderer.render(prepared, motion), renderer.render(prepared, motion)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.masks, b.masks)


def test_motion_for_another_basis_is_rejected(renderer, prepared):
    motion = MotionSequence.rest(1, 25, ("pc0", "pc1"))
    with pytest.raises(ValueError, match="expression"):
        renderer.render(prepared, motion)


def test_renders_a_68_point_layout(portrait):
    """Backends with the iBUG-68 layout (face-alignment) drive the same renderer."""
    dlib_models = pytest.importorskip("talkinghead.eval.dlib_models")
    pytest.importorskip("dlib")
    from talkinghead.types import SourceFace

    points = dlib_models.landmarks68(portrait)
    landmarks = np.concatenate([points, np.zeros((68, 1), np.float32)], axis=1)
    landmarks[27:36, 2] = -15.0  # the nose in front of the face plane
    source = SourceFace(portrait, landmarks, (0, 0, 1, 1), "ibug68", "dlib")
    renderer = warp_renderer("geometric")
    motion = MotionSequence.rest(2, 25, renderer.expression_names)
    motion.expression[1, 0] = 0.4
    chunk = renderer.render(renderer.prepare(source), motion)
    lips = landmarks[list(get_layout("ibug68").lips()), :2]
    assert np.abs(chunk.frames[0].astype(int) - portrait).mean() < 0.5
    assert region_change(chunk.frames[1], portrait, lips) > 5


def test_learned_basis_opens_the_mouth_along_its_opening_direction(source_face, portrait):
    renderer = warp_renderer("learned")  # the default: the shipped learned basis
    prepared = renderer.prepare(source_face)
    motion = MotionSequence.rest(1, 25, renderer.expression_names)
    motion.expression[0] = 0.1 * renderer.basis.opening  # coefficients of a 0.1 IOD wider lip gap
    frame = renderer.render(prepared, motion).frames[0]
    layout = get_layout(source_face.layout)
    assert region_change(frame, portrait, source_face.landmarks[list(layout.lips()), :2]) > 5
    q = renderer.canonical_targets(prepared, motion)[0].numpy()
    assert inner_lip_gap(q, layout) - inner_lip_gap(prepared.canonical.numpy(), layout) == pytest.approx(0.1, abs=0.02)


def test_face_models_use_the_geometric_basis_for_68_point_backends():
    from talkinghead.facemodel.face_model import FaceModel

    assert FaceModel(layout="mediapipe478").basis_name == "learned"
    assert FaceModel(layout="ibug68").basis_name == "geometric"
