"""The optional face-alignment backend, with randomly initialised weights and no network.

Random weights make the landmarks meaningless; these tests check the plumbing: which files are
needed, that they load from a local folder in face_alignment's own formats, and output shapes.
"""

from __future__ import annotations

import sys
import urllib.request

import numpy as np
import pytest

face_alignment = pytest.importorskip("face_alignment")

import torch  # noqa: E402  (after the skip: torch comes with face_alignment)
import face_alignment.api  # noqa: E402, F811
import face_alignment.utils  # noqa: E402
from face_alignment.detection.sfd.net_s3fd import s3fd  # noqa: E402
from face_alignment.models import FAN, ResNetDepth  # noqa: E402

from talkinghead.errors import InputError, MissingWeightsError  # noqa: E402
from talkinghead.face import face_alignment_backend as fab  # noqa: E402
from talkinghead.registry import FACE_BACKENDS  # noqa: E402

FAN_FILE = "3DFAN4-7835d9f11d.pth.tar"
DEPTH_FILE = "depth-2a464da4ea.pth.tar"
S3FD_FILE = "s3fd-619a316812.pth"


def block_network(mp: pytest.MonkeyPatch) -> None:
    """Make every download path face_alignment could take raise instead."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:1]}")

    mp.setattr(torch.hub, "download_url_to_file", refuse)
    mp.setattr(torch.hub, "load_state_dict_from_url", refuse)
    # face_alignment binds these names at import, so the copies need patching too.
    mp.setattr(face_alignment.utils, "download_url_to_file", refuse)
    mp.setattr(urllib.request, "urlopen", refuse)


def write_random_weights(folder) -> None:
    """Random-init networks saved exactly as face_alignment 1.5.0 loads them.

    FAN: a plain state dict (torch.load, weights_only=True). Depth: {"state_dict": ...} with
    DataParallel's "module." prefixes. S3FD: a plain state dict. FAN and depth go to
    checkpoints/ (torch.hub's layout), S3FD straight into the folder, so both places
    are exercised.
    """
    torch.manual_seed(0)
    checkpoints = folder / "checkpoints"
    checkpoints.mkdir()
    torch.save(FAN(4).state_dict(), checkpoints / FAN_FILE)
    depth = {"module." + k: v for k, v in ResNetDepth().state_dict().items()}
    torch.save({"state_dict": depth}, checkpoints / DEPTH_FILE)
    torch.save(s3fd().state_dict(), folder / S3FD_FILE)


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fa_weights")
    write_random_weights(folder)
    return folder


@pytest.fixture(scope="module")
def backend(weights_dir):
    with pytest.MonkeyPatch.context() as mp:
        block_network(mp)
        engine = fab.FaceAlignmentBackend(str(weights_dir))
    # One 3D-FAN pass per face instead of two (image and mirror image): half the test's time.
    engine._aligner.flip_input = False
    yield engine
    engine.close()


@pytest.fixture
def no_network(monkeypatch):
    block_network(monkeypatch)


@pytest.fixture
def uncompiled_heatmap_decoding(monkeypatch):
    """Run face_alignment's two numba functions as plain Python.

    Their first call compiles them, 5-10 s on a small CPU, which would be most of this module's
    run time; as Python they take milliseconds for one face.
    """
    for name in ("_get_preds_fromhm", "transform_np"):
        monkeypatch.setattr(face_alignment.utils, name, getattr(face_alignment.utils, name).py_func)


def random_image(size: int = 128) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_registry_finds_the_backend():
    assert FACE_BACKENDS.get("face_alignment") is fab.FaceAlignmentBackend


def test_missing_weights_names_every_file_and_the_option(tmp_path, no_network):
    with pytest.raises(MissingWeightsError) as info:
        fab.FaceAlignmentBackend(str(tmp_path))
    message = str(info.value)
    for name in (FAN_FILE, DEPTH_FILE, S3FD_FILE):
        assert name in message
    assert "--face-backend-weights" in message
    assert fab.WEIGHTS_ENV in message
    assert fab.FAN_3D_URL in message


def test_environment_variable_is_used_and_only_missing_files_are_named(tmp_path, monkeypatch, no_network):
    (tmp_path / S3FD_FILE).write_bytes(b"")
    monkeypatch.setenv(fab.WEIGHTS_ENV, str(tmp_path))
    with pytest.raises(MissingWeightsError) as info:
        fab.FaceAlignmentBackend()
    message = str(info.value)
    assert FAN_FILE in message and DEPTH_FILE in message
    assert S3FD_FILE not in message


def test_no_folder_at_all(monkeypatch, no_network):
    monkeypatch.delenv(fab.WEIGHTS_ENV, raising=False)
    with pytest.raises(MissingWeightsError, match="no weights folder given"):
        fab.FaceAlignmentBackend()


def test_missing_package_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "face_alignment", None)  # makes the import fail
    with pytest.raises(fab.MissingPackageError, match=r"--no-deps face-alignment==1.5.0"):
        fab.FaceAlignmentBackend(str(tmp_path))


def test_unknown_detector(tmp_path):
    with pytest.raises(InputError, match="unknown detector"):
        fab.FaceAlignmentBackend(str(tmp_path), detector="nope")


def test_loader_is_restored_after_construction(backend):
    assert face_alignment.api.load_file_from_url is face_alignment.utils.load_file_from_url


def test_detect_on_random_image_returns_a_list(backend, monkeypatch, no_network, uncompiled_heatmap_decoding):
    monkeypatch.setattr(backend, "max_faces", 1)  # random weights may "find" many faces
    faces = backend.detect(random_image())
    assert isinstance(faces, list)
    for face in faces:
        assert face.landmarks.shape == (68, 3) and face.landmarks.dtype == np.float32


def test_landmarks_for_the_most_confident_box(backend, monkeypatch, no_network, uncompiled_heatmap_decoding):
    # Fixed detector output, so the 3D FAN and depth networks surely run.
    boxes = [np.array([10.0, 10.0, 60.0, 60.0, 0.6]), np.array([24.0, 20.0, 104.0, 110.0, 0.9])]
    monkeypatch.setattr(backend._aligner.face_detector, "detect_from_image", lambda image: boxes)
    monkeypatch.setattr(backend, "max_faces", 1)
    faces = backend.detect(random_image())
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks.shape == (68, 3) and face.landmarks.dtype == np.float32
    assert np.isfinite(face.landmarks).all()
    assert face.box == (24.0, 20.0, 104.0, 110.0)
    assert face.score == pytest.approx(0.9)
    assert fab.FaceAlignmentBackend.layout == "ibug68"

