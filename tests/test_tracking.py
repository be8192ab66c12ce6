"""Face tracking over video, pose/expression separation and the `track` command."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.cli import main
from talkinghead.errors import NoFaceError
from talkinghead.face.rigid import fit_similarity, perspective_rotations
from talkinghead.face.rotation import rotation_matrix
from talkinghead.face.tracking import fill_missing, track_video
from talkinghead.facemodel.face_model import FaceModel, FaceModelConfig
from talkinghead.motion.tracked import TrackAnalysisConfig, analyse_track, tracked_motion, tracked_pose
from talkinghead.pipelines.output import GenerationResult
from talkinghead.types import AudioClip, FaceTrack, MotionSequence

from .conftest import syllables, warp_renderer

FPS = 25.0
FRAMES = 30


def renderer_face_model(basis: str) -> FaceModel:
    return FaceModel(FaceModelConfig(basis=basis))


@pytest.fixture(scope="module")
def driven(source_face, tmp_path_factory):
    """A short video rendered from the portrait with known yaw and jaw motion, and that motion."""
    renderer = warp_renderer("geometric")
    motion = MotionSequence.rest(FRAMES, FPS, renderer.expression_names)
    phase = np.arange(FRAMES) / FPS
    motion.rotation[:, 0] = 8 * np.sin(2 * np.pi * 1.2 * phase)
    motion.expression[:, 0] = 0.35 * np.clip(np.sin(2 * np.pi * 2.0 * phase), 0, None)
    audio = AudioClip(syllables(FRAMES / FPS), 16000)
    path = tmp_path_factory.mktemp("tracking") / "driven.mp4"
    GenerationResult(source=source_face, audio=audio, motion=motion, renderer=renderer).save(path)
    return path, motion


def test_similarity_fit_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((40, 3))
    rotation = rotation_matrix(torch.tensor([[20.0, -10.0, 5.0]], dtype=torch.float64))[0].numpy()
    points = (2.5 * reference @ rotation.T + [3.0, -1.0, 0.5])[None]
    fit = fit_similarity(points, reference, np.ones(40))
    assert np.allclose(fit.rotation[0], rotation, atol=1e-9)
    assert fit.scale[0] == pytest.approx(2.5)
    assert np.allclose(fit.to_reference(points)[0], reference, atol=1e-9)


def test_perspective_fit_recovers_rotations_from_projected_points():
    rng = np.random.default_rng(1)
    model = rng.uniform(-50, 50, (30, 3))  # a head-sized rigid shape, millimetres
    angles = torch.tensor([[0.0, 0.0, 0.0], [15.0, -8.0, 4.0], [-25.0, 12.0, -6.0]], dtype=torch.float64)
    rotations = rotation_matrix(angles).numpy()
    width, height = 640, 480
    camera_points = np.einsum("tij,nj->tni", rotations, model) + [20.0, -10.0, 700.0]
    pixels = width * camera_points[..., :2] / camera_points[..., 2:] + [width / 2, height / 2]
    found = perspective_rotations(pixels, model, (height, width))
    assert np.allclose(found, rotations, atol=1e-4)


def test_missing_frames_are_interpolated():
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    filled = fill_missing([a, None, b, None])
    assert np.allclose(filled[1], 0.5) and np.allclose(filled[3], 1.0)


def test_tracking_a_generated_clip_recovers_its_motion(driven, tmp_path):
    path, truth = driven
    track = track_video(path)
    assert len(track) == FRAMES and track.found.all() and track.layout == "mediapipe478"
    track.save(tmp_path / "track.npz")
    again = FaceTrack.load(tmp_path / "track.npz")
    assert np.array_equal(again.landmarks, track.landmarks) and again.fps == track.fps

    tracked = analyse_track(track)
    motion = tracked_motion(tracked, renderer_face_model("geometric"))
    yaw = motion.rotation[:, 0]
    assert np.corrcoef(yaw, truth.rotation[:, 0])[0, 1] > 0.95
    assert np.ptp(yaw) == pytest.approx(np.ptp(truth.rotation[:, 0]), rel=0.35)
    jaw = motion.expression[:, 0]
    assert np.corrcoef(jaw, truth.expression[:, 0])[0, 1] > 0.85
    assert np.abs(motion.rotation[:, 1:]).max() < 4  # no pitch or roll was put in

    # The perspective fit follows the same turn; it reads smaller angles (about half here),
    # which is why opt reconstructs a clip with the similarity fit (motion.opt.ANCHOR_ROTATION_FIT).
    perspective, _, _ = tracked_pose(analyse_track(track, TrackAnalysisConfig(rotation_fit="perspective")), (0, 0, 0))
    assert np.corrcoef(perspective[:, 0], truth.rotation[:, 0])[0, 1] > 0.95
    assert np.abs(perspective[:, 1:]).max() < 4


def test_a_video_without_a_face_is_an_error(tmp_path):
    from talkinghead.io.video import write_video
    from talkinghead.types import RenderedChunk

    frames = np.full((10, 64, 64, 3), 128, np.uint8)
    path = tmp_path / "blank.mp4"
    write_video(path, iter([RenderedChunk(frames, np.zeros((10, 64, 64), np.uint8), 0)]), fps=FPS, audio=AudioClip(np.zeros(6400, np.float32), 16000))
    with pytest.raises(NoFaceError, match="face"):
        track_video(path)


def test_track_command_writes_replayable_motion(driven, tmp_path, capsys):
    path, _ = driven
    out = tmp_path / "motion.npz"
    assert main(["track", str(path), "-o", str(out), "--landmarks", str(tmp_path / "lm.npz")]) == 0
    motion = MotionSequence.load(out)
    assert len(motion) == FRAMES and motion.expression_names[0] == "mouth_1"
    assert (tmp_path / "motion.audio.npz").exists() and (tmp_path / "lm.npz").exists()
    assert "wrote" in capsys.readouterr().out
