"""The opt pipeline's pose control: pose files, keyframes, looping, retargeting, errors."""

from __future__ import annotations

import json

import numpy as np
import torch
import pytest

from talkinghead.errors import InputError, NoFaceError
from talkinghead.io.audio import write_wav
from talkinghead.motion.opt import PoseCurves, controlled_pose, mirrored_index, read_pose_file, reference_pose, retargeted_rotation, upright_changes
from talkinghead.pipelines.inputs import PoseControlInputs
from talkinghead.types import AudioClip, MotionSequence, RenderedChunk

from .conftest import syllables, warp_renderer


# -- pose files -------------------------------------------------------------------------------
def test_a_csv_row_per_frame_with_missing_columns_at_rest(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("yaw,pitch\n1,2\n3,4\n5,6\n")
    pose = read_pose_file(path, fps=25)
    assert len(pose) == 3 and pose.fps == 25
    assert np.allclose(pose.rotation, [[1, 2, 0], [3, 4, 0], [5, 6, 0]])
    assert np.allclose(pose.translation, 0) and np.allclose(pose.scale, 1)


def test_keyframes_are_interpolated_without_overshoot_and_held(tmp_path):
    path = tmp_path / "nod.csv"
    path.write_text("time,pitch\n0,0\n1,10\n2,10\n3,0\n")
    pose = read_pose_file(path, fps=10)
    pitch = pose.rotation[:, 1]
    assert len(pose) == 31
    assert pitch[0] == 0 and pitch[10] == pytest.approx(10) and pitch[30] == pytest.approx(0)
    assert pitch.max() <= 10 + 1e-4 and pitch.min() >= -1e-4  # monotone cubic: no overshoot
    assert np.all(np.diff(pitch[:11]) >= -1e-6)  # rises smoothly to the nod
    held = controlled_pose(50, 10, curves=pose)
    assert np.allclose(held.rotation[31:, 1], pitch[-1])


def test_json_frames_at_their_own_rate_are_resampled(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"fps": 5, "frames": [{"yaw": float(i)} for i in range(6)]}))
    pose = read_pose_file(path, fps=10)
    assert pose.fps == 10 and len(pose) == 12
    assert pose.rotation[2, 0] == pytest.approx(1.0) and pose.rotation[3, 0] == pytest.approx(1.5)


def test_json_keyframes_by_frame_number(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"fps": 10, "keyframes": [{"frame": 0, "roll": 0}, {"frame": 10, "roll": 4, "x": 0.1}]}))
    pose = read_pose_file(path, fps=20)
    assert len(pose) == 21 and pose.rotation[-1, 2] == pytest.approx(4) and pose.translation[-1, 0] == pytest.approx(0.1)


def test_csv_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    pose = PoseCurves(25.0, rng.normal(0, 5, (20, 3)).astype(np.float32), rng.normal(0, 0.05, (20, 2)).astype(np.float32),
                      (1 + rng.normal(0, 0.02, 20)).astype(np.float32))  # fmt: skip
    pose.save_csv(tmp_path / "p.csv")
    again = read_pose_file(tmp_path / "p.csv", fps=25)
    assert np.allclose(again.rotation, pose.rotation, atol=1e-3) and np.allclose(again.scale, pose.scale, atol=1e-4)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no rows"),
        ("yaw,nod\n1,2\n", "unknown pose column(s) ['nod']"),
        ("yaw\nabc\n", "row 1: yaw must be a number"),
        ("yaw\n120\n", "within ±90"),
        ("time,yaw\n1,0\n0.5,1\n", "increasing"),
        ("time,frame,yaw\n0,0,1\n", "not both"),
        ("time\n0\n", "no pose columns"),
        ("scale\n0\n", "scale must be positive"),
    ],
)
def test_bad_pose_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_pose_file(path, fps=25)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name, text", [("p.json", "{not json"), ("p.json", '{"rows": []}'), ("p.txt", "yaw\n1\n"), ("p.json", "[1, 2]")])
def test_bad_json_or_suffix(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError):
        read_pose_file(tmp_path / name, fps=25)


# -- looping and combining --------------------------------------------------------------------
def test_a_short_reference_loops_mirrored_without_jumps():
    index = mirrored_index(4, 11)
    assert index.tolist() == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2]
    yaw = np.linspace(0, 9, 10, dtype=np.float32)
    video = PoseCurves(25.0, np.stack([yaw, 0 * yaw, 0 * yaw], 1), np.zeros((10, 2), np.float32), np.ones(10, np.float32))
    looped = video.looped(40).rotation[:, 0]
    assert np.abs(np.diff(looped)).max() <= 1.0 + 1e-6  # a step of the clip, never a jump back to the start
    assert np.array_equal(video.looped(6).rotation, video.rotation[:6])  # a longer one is cut


def test_video_motion_is_scaled_and_curves_are_added():
    ones = np.ones((10, 3), np.float32)
    video = PoseCurves(25.0, 4 * ones, np.full((10, 2), 0.1, np.float32), np.full(10, 1.2, np.float32))
    curves = PoseCurves(25.0, ones, np.zeros((10, 2), np.float32), np.ones(10, np.float32))
    pose = controlled_pose(10, 25.0, video=video, curves=curves, video_scale=0.5)
    assert np.allclose(pose.rotation, 3.0) and np.allclose(pose.translation, 0.05) and np.allclose(pose.scale, 1.1)
    assert np.allclose(controlled_pose(10, 25.0).rotation, 0)


# -- reference videos: retargeting ------------------------------------------------------------
def render_video(path, source_face, rotation: np.ndarray, fps: float = 10.0, scale=None) -> None:
    """Render the test portrait with the given (T, 3) pose into an mp4."""
    from talkinghead.io.video import write_video

    renderer = warp_renderer()
    motion = MotionSequence.rest(len(rotation), fps, renderer.face_model.basis.names)
    motion.rotation[:] = rotation
    if scale is not None:
        motion.scale[:] = scale
    chunks = [renderer.render(renderer.prepare(source_face), motion)]
    write_video(path, chunks, fps=fps)


@pytest.fixture(scope="module")
def yaw_video(tmp_path_factory, source_face):
    """A reference whose head turns from 0 to 12 degrees of yaw and back, and leans in 10 %."""
    yaw = 12 * np.sin(np.linspace(0, np.pi, 16)) ** 2
    rotation = np.stack([yaw, 0 * yaw, 0 * yaw], axis=1).astype(np.float32)
    path = tmp_path_factory.mktemp("ref") / "yaw.mp4"
    render_video(path, source_face, rotation, scale=1 + 0.1 * yaw / 12)
    return path, rotation


def test_reference_yaw_is_retargeted_in_degrees(yaw_video):
    from talkinghead.facemodel.face_model import FaceModel, FaceModelConfig

    path, rotation = yaw_video
    pivot = FaceModel(FaceModelConfig()).pivot
    pose = reference_pose(path, pivot, anchor="first-frame")
    assert len(pose) == len(rotation) and pose.fps == 10
    # Read in degrees: the warp renderer shows a 2-D warp of a 3-D turn, which FaceMesh reads
    # at about three quarters of what was asked (8.6 of 12 degrees when this was written).
    assert np.corrcoef(pose.rotation[:, 0], rotation[:, 0])[0, 1] > 0.95
    assert 7 < pose.rotation[:, 0].max() < 14
    assert np.abs(pose.rotation[:, 1:]).max() < 3
    assert pose.scale.max() == pytest.approx(1.1, abs=0.04)
    neutral = reference_pose(path, pivot)  # relative to its median pose, read by the perspective fit
    assert np.median(neutral.rotation, axis=0) == pytest.approx(np.zeros(3), abs=1e-4)
    assert np.corrcoef(neutral.rotation[:, 0], rotation[:, 0])[0, 1] > 0.95
    assert np.abs(neutral.rotation[:, 1:]).max() < 3
    similarity = reference_pose(path, pivot, rotation_fit="similarity")
    assert np.abs(similarity.rotation - neutral.rotation).max() > 0.1  # the two fits differ


def test_retargeting_puts_the_upright_changes_on_the_photos_rest_pose():
    from talkinghead.face.rotation import upright_matrix

    changes = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 0.0, 6.0], [-8.0, 4.0, 3.0]], np.float32)
    for rest_angles in ([0.0, 0.0, 0.0], [0.0, -13.0, 0.0], [25.0, 10.0, -8.0]):
        rest = upright_matrix(torch.tensor(rest_angles, dtype=torch.float64))
        angles = retargeted_rotation(changes, rest.numpy())
        assert angles.dtype == np.float32 and angles.shape == (4, 3)
        assert upright_changes(angles, rest.numpy()) == pytest.approx(changes, abs=1e-4)
    assert np.abs(retargeted_rotation(changes[:1], np.eye(3))).max() < 1e-9  # rest stays rest


def test_a_reference_without_a_face_is_a_clear_error(tmp_path):
    from talkinghead.io.video import write_video

    frames = np.full((6, 64, 64, 3), 128, np.uint8)
    write_video(tmp_path / "empty.mp4", [RenderedChunk(frames, np.zeros(frames.shape[:3], np.uint8), 0)], fps=10.0)
    with pytest.raises(NoFaceError, match="pose video .*face was found in only 0 of 6 frames"):
        reference_pose(tmp_path / "empty.mp4", (0.0, 0.0, 0.0))


# -- the pipeline -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def opt():
    from talkinghead.api import load_pipeline

    with load_pipeline("opt") as pipe:
        yield pipe


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    write_wav(path, AudioClip(syllables(2.4), 16000))
    return path


def upright_changes_of(result) -> np.ndarray:
    """(T, 3) how the rendered head's upright yaw, pitch, roll differ from the photo's rest pose."""
    from talkinghead.facemodel.frame import canonical_shape
    from talkinghead.face.layout import get_layout

    rest = canonical_shape(result.source.landmarks, get_layout(result.source.layout))[0].rotation
    return upright_changes(result.motion.rotation, rest)


def test_the_head_follows_a_short_reference_looped(opt, portrait_path, speech, yaw_video):
    path, rotation = yaw_video
    result = opt(PoseControlInputs(str(portrait_path), str(speech), pose_video=str(path)), seed=0, fps=10.0, pose_anchor="first-frame")
    yaw = result.motion.rotation[:, 0]
    assert len(yaw) == 24  # the audio's length, the 16-frame reference played forth and back
    assert np.corrcoef(yaw[:16], rotation[:, 0])[0, 1] > 0.95
    assert np.allclose(yaw[16:24], yaw[14:6:-1], atol=1e-4)
    half = opt(PoseControlInputs(str(portrait_path), str(speech), pose_video=str(path)), seed=0, fps=10.0,
               pose_anchor="first-frame", pose_scale=0.5)  # fmt: skip
    assert np.allclose(upright_changes_of(half), 0.5 * upright_changes_of(result), atol=1e-4)
    assert np.array_equal(half.motion.expression, result.motion.expression)  # the pose leaves the mouth alone


def test_pose_file_drives_the_head_and_still_overrides(opt, portrait_path, speech, tmp_path):
    pose = tmp_path / "turn.csv"
    pose.write_text("time,yaw,pitch\n0,0,0\n1.2,20,5\n")
    inputs = PoseControlInputs(str(portrait_path), str(speech), pose=str(pose))
    result = opt(inputs, seed=3, fps=10.0)
    # The photo turns by what the file says, as a viewer reads it (upright angles).
    assert upright_changes_of(result)[12] == pytest.approx([20, 5, 0], abs=1e-3)
    assert np.allclose(upright_changes_of(result)[12:, 0], 20, atol=1e-3)  # held after the last keyframe
    assert np.allclose(opt(inputs, seed=3, fps=10.0, still=True).motion.rotation, 0)
    assert result.provenance.inputs["pose"] == str(pose)


def test_opt_without_any_pose_or_with_a_bad_scale_fails_before_work(opt, portrait_path, speech):
    with pytest.raises(InputError, match="--pose-video REF.mp4 and/or --pose POSE.csv"):
        opt(PoseControlInputs(str(portrait_path), str(speech)), seed=0)
    with pytest.raises(InputError, match="pose_scale must be between 0 and 3"):
        opt(PoseControlInputs(str(portrait_path), str(speech), pose="x.csv"), seed=0, pose_scale=-1)
    with pytest.raises(InputError, match="x.csv: pose not found"):
        opt(PoseControlInputs(str(portrait_path), str(speech), pose="/nope/x.csv"), seed=0)


@pytest.fixture(scope="module")
def portrait_path(tmp_path_factory, portrait):
    from talkinghead.io.image import save_image

    path = tmp_path_factory.mktemp("face") / "portrait.png"
    save_image(path, portrait)
    return path


# -- the command line -------------------------------------------------------------------------
def cli(args, capsys) -> tuple[int, str, str]:
    from talkinghead.cli import main

    code = main(["generate", "--no-progress", "--pipeline", "opt", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def test_cli_follows_a_pose_video_and_a_pose_file(portrait_path, speech, yaw_video, tmp_path, capsys):
    from talkinghead.io.video import probe_video

    pose = tmp_path / "nod.json"
    pose.write_text(json.dumps({"keyframes": [{"time": 0, "pitch": 0}, {"time": 1, "pitch": 8}, {"time": 2, "pitch": 0}]}))
    out = tmp_path / "out.mp4"
    args = ["--image", portrait_path, "--audio", speech, "--pose-video", yaw_video[0], "--pose", pose, "--pose-scale", "0.5",
            "--fps", "10", "--out", out, "--save-motion", tmp_path / "m.npz"]  # fmt: skip
    code, _, err = cli(args, capsys)
    assert code == 0, err
    info = probe_video(out)
    assert info.num_frames == 24 and info.has_audio
    motion = MotionSequence.load(tmp_path / "m.npz")
    assert motion.rotation[10, 1] > 5  # the nod, on top of half the video's turn
    assert motion.meta["pose_scale"] == 0.5


def test_cli_dry_run_reports_the_pose_and_bad_pose_files_fail_in_one_line(portrait_path, speech, tmp_path, capsys):
    pose = tmp_path / "p.csv"
    pose.write_text("time,yaw\n0,0\n2,10\n")
    code, out, err = cli(["--image", portrait_path, "--audio", speech, "--pose", pose, "--out", tmp_path / "o.mp4", "--dry-run"], capsys)
    assert code == 0, err
    assert "51 frames of pose curves" in out + err
    pose.write_text("time,yaw\n0,0\n2,1000\n")
    code, _, err = cli(["--image", portrait_path, "--audio", speech, "--pose", pose, "--out", tmp_path / "o.mp4"], capsys)
    assert code == 2 and "within ±90" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o.mp4").exists()


def test_bench_reconstruction_rows_drive_opt_with_the_clips_own_pose(tmp_path):
    from talkinghead.eval.bench import row_inputs
    from talkinghead.eval.manifest import BenchInput
    from talkinghead.registry import PIPELINES

    clip, image = tmp_path / "clip.mp4", tmp_path / "first.png"
    row = BenchInput("clip", str(image), str(clip), str(clip), first_frame=True)
    inputs, options = row_inputs(row, PIPELINES.get("opt"))
    assert inputs.pose_video == str(clip) and options == {"pose_anchor": "first-frame"}
    other = BenchInput("portrait", str(image), str(clip), str(clip))  # a reference of someone else
    assert row_inputs(other, PIPELINES.get("opt"))[1] == {}
    assert row_inputs(row, PIPELINES.get("baseline")) == (PIPELINES.get("baseline").inputs_class(str(image), str(clip)), {})


def test_an_unreadable_pose_video_fails_before_work(opt, portrait_path, speech, tmp_path, monkeypatch):
    bad = tmp_path / "ref.mp4"
    bad.write_bytes(b"not a video")
    monkeypatch.setattr(type(opt), "load_source", lambda *a, **k: pytest.fail("the photo was analysed first"))
    with pytest.raises(InputError, match="ref.mp4: cannot read video"):
        opt(PoseControlInputs(str(portrait_path), str(speech), pose_video=str(bad)), seed=0)
