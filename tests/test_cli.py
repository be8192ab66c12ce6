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
