"""The command line as a user meets it: real files in, an mp4 out, one-line errors."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from talkinghead.cli import main
from talkinghead.io.audio import write_wav
from talkinghead.io.video import probe_video, read_video
from talkinghead.types import AudioClip, MotionSequence

from .conftest import DEMO_IMAGE, DEMO_SPEECH, syllables


@pytest.fixture
def inputs(tmp_path, portrait):
    image = tmp_path / "face.png"
    Image.fromarray(portrait).save(image)
    audio = tmp_path / "speech.wav"
    write_wav(audio, AudioClip(syllables(2.0), 16000))
    return image, audio


def run(args, capsys):
    code = main(["generate", "--no-progress", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.err.strip()


def assert_clean_failure(code, err, out_dir, needle):
    assert code == 2
    assert needle in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert [p.name for p in out_dir.iterdir() if p.suffix == ".mp4" or "partial" in p.name] == []


def test_generate_writes_h264_aac_of_the_audio_length(inputs, tmp_path, capsys):
    image, audio = inputs
    out = tmp_path / "out.mp4"
    code, _ = run(["--image", image, "--audio", audio, "--out", out, "--seed", "0"], capsys)
    assert code == 0
    info = probe_video(out)
    assert (info.video_codec, info.audio_codec, info.pix_fmt) == ("h264", "aac", "yuv420p")
    assert info.fps == 25 and abs(info.duration - 2.0) < 0.1
    assert (info.width, info.height) == (320, 320)


def test_no_face(tmp_path, inputs, capsys):
    _, audio = inputs
    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((240, 240, 3), 120, np.uint8)).save(wall)
    code, err = run(["--image", wall, "--audio", audio, "--out", tmp_path / "o.mp4"], capsys)
    assert_clean_failure(code, err, tmp_path, "wall.png: no face")


def test_unreadable_image(tmp_path, inputs, capsys):
    _, audio = inputs
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    code, err = run(["--image", broken, "--audio", audio, "--out", tmp_path / "o.mp4"], capsys)
    assert_clean_failure(code, err, tmp_path, "broken.jpg")
    code, err = run(["--image", tmp_path / "missing.png", "--audio", audio, "--out", tmp_path / "o.mp4"], capsys)
    assert_clean_failure(code, err, tmp_path, "missing.png")


def test_unreadable_and_empty_audio(tmp_path, inputs, capsys):
    image, _ = inputs
    garbage = tmp_path / "noise.mp3"
    garbage.write_bytes(b"this is not audio" * 50)
    code, err = run(["--image", image, "--audio", garbage, "--out", tmp_path / "o.mp4"], capsys)
    assert_clean_failure(code, err, tmp_path, "noise.mp3")
    empty = tmp_path / "empty.wav"
    write_wav(empty, AudioClip(np.zeros(0, np.float32), 16000))
    code, err = run(["--image", image, "--audio", empty, "--out", tmp_path / "o.mp4"], capsys)
    assert_clean_failure(code, err, tmp_path, "empty.wav")


def test_missing_output_folder(tmp_path, inputs, capsys):
    image, audio = inputs
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "nope" / "o.mp4"], capsys)
    assert code == 2 and "does not exist" in err and not (tmp_path / "nope").exists()


def test_silent_audio_gives_a_still_closed_mouth(tmp_path, inputs, source_face, capsys):
    image, _ = inputs
    silent = tmp_path / "silent.wav"
    write_wav(silent, AudioClip(np.zeros(16000 * 2, np.float32), 16000))
    out = tmp_path / "silent.mp4"
    code, _ = run(["--image", image, "--audio", silent, "--out", out, "--still"], capsys)
    assert code == 0 and abs(probe_video(out).duration - 2.0) < 0.1
    frames = np.stack(list(read_video(out))).astype(float)
    lips = source_face.landmarks[[0, 17, 61, 291], :2]
    (x0, y0), (x1, y1) = lips.min(0).astype(int) - 3, lips.max(0).astype(int) + 3
    mouth = frames[:, y0:y1, x0:x1]
    assert np.abs(mouth - mouth[0]).mean(axis=(1, 2, 3)).max() < 3  # the mouth never moves


def test_huge_image_is_downscaled_with_a_notice(tmp_path, inputs, portrait, capsys):
    _, audio = inputs
    huge = tmp_path / "huge.png"
    Image.fromarray(portrait).resize((2400, 2400), Image.BICUBIC).save(huge)
    out = tmp_path / "huge.mp4"
    code, err = run(["--image", huge, "--audio", audio, "--out", out, "--max-size", "400"], capsys)
    assert code == 0 and "downscaled" in err
    info = probe_video(out)
    assert (info.width, info.height) == (400, 400)


def test_saved_motion_drives_another_face(tmp_path, inputs, portrait, capsys):
    image, audio = inputs
    motion_file = tmp_path / "motion.npz"
    code, _ = run(["--image", image, "--audio", audio, "--out", tmp_path / "a.mp4", "--seed", "1", "--save-motion", motion_file], capsys)
    assert code == 0
    other = tmp_path / "other.png"
    Image.fromarray(np.ascontiguousarray(portrait[:, ::-1])).save(other)
    out = tmp_path / "b.mp4"
    code, _ = run(["--image", other, "--audio", audio, "--out", out, "--motion", motion_file, "--masks", tmp_path / "m.mp4"], capsys)
    assert code == 0
    assert probe_video(out).num_frames == len(MotionSequence.load(motion_file))
    assert (tmp_path / "m.mp4").exists()


@pytest.mark.parametrize("where, needle", [("missing/m.npz", "--save-motion folder"), (".", "--save-motion path is a folder"),
                                           ("m.json", "must name an .npz file")])  # fmt: skip
def test_save_motion_path_is_checked_before_any_work(tmp_path, inputs, capsys, where, needle):
    image, audio = inputs
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--save-motion", tmp_path / where], capsys)
    assert_clean_failure(code, err, tmp_path, needle)
    assert not list(tmp_path.glob("*.npz"))


def test_save_motion_is_written_only_when_the_video_is(tmp_path, inputs, capsys, monkeypatch):
    from talkinghead.pipelines.output import GenerationResult

    image, audio = inputs

    def failing_save(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(GenerationResult, "save", failing_save)
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--save-motion", tmp_path / "m.npz"], capsys)
    assert code != 0 and "No space left" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png", "speech.wav"]  # no motion file, nothing hidden


def test_replayed_motion_follows_the_audio_and_the_fps(tmp_path, inputs, capsys):
    image, audio = inputs  # 2 s of audio
    long_motion = tmp_path / "long.npz"
    from talkinghead.facemodel.learned_basis import LearnedBasis

    rest = MotionSequence.rest(100, 25.0, LearnedBasis().names)  # 4 s
    rest.rotation[:, 0] = np.linspace(0, 10, 100)
    rest.save(long_motion)
    out = tmp_path / "o.mp4"
    code, err = run(["--image", image, "--audio", audio, "--out", out, "--motion", long_motion, "--fps", "10"], capsys)
    assert code == 0 and "cut to the audio's length" in err
    info = probe_video(out)
    assert info.fps == 10 and info.num_frames == 20 and abs(info.duration - 2.0) < 0.15
    other_basis = tmp_path / "jaw.npz"
    MotionSequence.rest(50, 25.0, ("jaw_open",)).save(other_basis)
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "p.mp4", "--motion", other_basis], capsys)
    assert code == 2 and "are not this pipeline's face model's" in err and len(err.splitlines()) == 1


def test_replay_does_not_run_the_motion_model(tmp_path, inputs, capsys, monkeypatch):
    """--motion builds the video from the face, the audio and the file's motion alone: the
    pipeline's own motion model (seconds of work, and notices about a motion thrown away) never runs."""
    import json

    from talkinghead.facemodel.learned_basis import LearnedBasis
    from talkinghead.registry import DEFAULT_PIPELINE, PIPELINES

    image, audio = inputs  # 2 s of audio
    motion_file = tmp_path / "short.npz"
    MotionSequence.rest(25, 25.0, LearnedBasis().names).save(motion_file)  # 1 s

    def no_motion_model(*args, **kwargs):
        raise AssertionError("the motion model ran on a replay")

    monkeypatch.setattr(PIPELINES.get(DEFAULT_PIPELINE), "make_motion", no_motion_model)
    out = tmp_path / "o.mp4"
    code = main(["generate", "--no-progress", "--image", str(image), "--audio", str(audio), "--out", str(out),
                 "--motion", str(motion_file), "--seed", "3", "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "held on its last frame" in captured.err
    summary = json.loads(captured.out)
    assert summary["provenance"]["inputs"]["motion"] == str(motion_file)
    assert summary["provenance"]["seed"] == 3
    assert probe_video(out).num_frames == 50  # the audio's length, not the motion's


def test_motion_file_with_mismatched_shapes_is_a_one_line_error(tmp_path, inputs, capsys):
    image, audio = inputs
    broken = tmp_path / "broken.npz"
    motion = MotionSequence.rest(10, 25.0, ("jaw_open",))
    np.savez(broken, header=np.array('{"version": %d, "fps": 25.0, "expression_names": ["jaw_open"]}' % __import__("talkinghead.types").types.MOTION_FORMAT_VERSION),
             rotation=motion.rotation, translation=motion.translation[:5], scale=motion.scale, expression=motion.expression, eyelids=motion.eyelids)  # fmt: skip
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--motion", broken], capsys)
    assert_clean_failure(code, err, tmp_path, "not a usable talkinghead motion file")


def test_info_lists_pipelines_and_backends(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "mediapipe" in out and "torch" in out


def test_end_to_end_on_the_bundled_examples(tmp_path, source_face):
    """The README's main command: the astronaut portrait speaks the espeak-ng clip."""
    out = tmp_path / "demo.mp4"
    done = subprocess.run(
        [sys.executable, "-m", "talkinghead", "generate", "--image", DEMO_IMAGE, "--audio", DEMO_SPEECH, "--out", out, "--seed", "0"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    from talkinghead.io.audio import load_audio

    audio_seconds = load_audio(DEMO_SPEECH).duration
    info = probe_video(out)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac") and abs(info.duration - audio_seconds) < 0.1
    # Measured on the output with the face analyser: the lips move with speech, the head moves.
    from talkinghead.face.backend import analyze_face
    from talkinghead.facemodel.frame import canonical_shape
    from talkinghead.face.layout import get_layout
    from talkinghead.facemodel.geometric_basis import inner_lip_gap

    layout = get_layout("mediapipe478")
    gaps, noses = [], []
    for i, frame in enumerate(read_video(out)):
        if i % 3:
            continue
        face = analyze_face(frame)
        _, q = canonical_shape(face.landmarks, layout)
        gaps.append(inner_lip_gap(q, layout))
        noses.append(face.landmarks[layout.nose_tip, 0])
    assert np.std(gaps) > 0.02
    assert np.std(noses) > 1.0


@pytest.mark.parametrize(("flag", "value", "needle"), [("--fps", "0", "fps"), ("--max-size", "8", "max_size"), ("--face-index", "3", "face_index")])
def test_bad_option_values(tmp_path, inputs, capsys, flag, value, needle):
    image, audio = inputs
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", flag, value], capsys)
    assert_clean_failure(code, err, tmp_path, needle)


def test_unknown_pipeline_and_backend(tmp_path, inputs, capsys):
    image, audio = inputs
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--pipeline", "nope"], capsys)
    assert_clean_failure(code, err, tmp_path, "unknown pipeline 'nope'")
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--face-backend", "nope"], capsys)
    assert_clean_failure(code, err, tmp_path, "unknown face backend 'nope'")


def test_num_samples_writes_one_video_per_seed(inputs, tmp_path, capsys):
    image, audio = inputs
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "v.mp4", "--seed", "5", "--num-samples", "2", "--fps", "5"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.glob("v_s*.mp4")) == ["v_s5.mp4", "v_s6.mp4"]


def test_diversity_is_refused_by_pipelines_without_it(inputs, tmp_path, capsys):
    image, audio = inputs
    code, err = run(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--pipeline", "baseline", "--diversity", "1"], capsys)
    assert_clean_failure(code, err, tmp_path, "--diversity is not an option of the baseline pipeline")


def test_sigterm_ends_with_one_line_and_leaves_no_partial_file(tmp_path, portrait):
    import signal
    import time

    image = tmp_path / "face.png"
    Image.fromarray(portrait).save(image)
    audio = tmp_path / "long.wav"
    write_wav(audio, AudioClip(syllables(60.0), 16000))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    command = [sys.executable, "-m", "talkinghead", "generate", "--image", str(image), "--audio", str(audio), "--no-progress",
               "--out", str(out_dir / "o.mp4"), "--masks", str(out_dir / "m.mp4"), "--save-motion", str(out_dir / "m.npz")]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any("partial" in p.name for p in out_dir.iterdir()) and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # until the video is being written
    assert process.poll() is None, process.stderr.read()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines()[-1] == "talkinghead: terminated" and "Traceback" not in err
    assert list(out_dir.iterdir()) == []


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="needs Linux /proc")
def test_an_unwritable_output_folder_fails_before_any_work(inputs, capsys, monkeypatch):
    from talkinghead.pipelines.base import TalkingHeadPipeline

    image, audio = inputs
    monkeypatch.setattr(TalkingHeadPipeline, "load_source", lambda *a, **k: pytest.fail("worked before checking the output"))
    code, err = run(["--image", image, "--audio", audio, "--out", "/proc/o.mp4"], capsys)
    assert code == 2 and err == "talkinghead: error: cannot write to the output folder /proc (No such file or directory)"
