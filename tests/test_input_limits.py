"""Limits checked from the files' headers before decoding: huge images, long sounds, seeds.

Every file is made cheaply in tmp_path: a PNG whose header says 20000x20000 (a few KB of
compressed zeros) and hours of silence as FLAC (a few MB).
"""

import json
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from talkinghead.cli import main
from talkinghead.demo.generation import DemoRequest, check_inputs, request_seed, run_request
from talkinghead.demo.settings import DemoSettings
from talkinghead.errors import InputError
from talkinghead.io.audio import AudioTooLongError, check_seconds, duration_limit, load_audio, probe_seconds, write_wav
from talkinghead.io.image import MAX_PIXELS, ImageTooLargeError, check_image_pixels, image_size, load_image, pixel_limit
from talkinghead.pipelines.inputs import TalkingHeadInputs
from talkinghead.types import AudioClip

from .conftest import syllables

HOURS_3 = 3 * 3600


def huge_png(path, side=20000):
    """A valid grayscale 1-bit PNG of side x side zeros: about 60 KB, made in a fraction of a second."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row * 1000) for _ in range(side // 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def silence(path, seconds, *, piped=False):
    """Silent mono FLAC; piped=True writes it to a pipe, so its header states no length."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
               "-t", str(seconds), "-c:a", "flac", "-f", "flac", "-" if piped else str(path)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, check=True)
    if piped:
        path.write_bytes(result.stdout)
    return path


@pytest.fixture(scope="module")
def three_hours(tmp_path_factory):
    return silence(tmp_path_factory.mktemp("audio") / "three_hours.flac", HOURS_3)


@pytest.fixture
def huge(tmp_path):
    return huge_png(tmp_path / "huge.png")


@pytest.fixture
def face_and_speech(tmp_path, portrait):
    image = tmp_path / "face.png"
    Image.fromarray(portrait).save(image)
    audio = tmp_path / "speech.wav"
    write_wav(audio, AudioClip(syllables(2.0), 16000))
    return image, audio


def one_line(message: str) -> bool:
    return len(message.splitlines()) == 1 and "Traceback" not in message


# ------------------------------------------------------------------ images
def test_huge_image_is_refused_from_its_header_without_a_pillow_warning(huge):
    assert huge.stat().st_size < 200_000 and image_size(huge) == (20000, 20000)
    limit = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DecompressionBombWarning would fail the test
        with pytest.raises(ImageTooLargeError) as caught:
            load_image(huge)
    message = str(caught.value)
    assert one_line(message) and message.startswith(f"{huge}: image too large (20000x20000 = 400.0 megapixels")
    assert "max_pixels" in message  # says how to raise the limit
    assert Image.MAX_IMAGE_PIXELS == limit  # Pillow's own check is left as it was


def test_refusing_a_huge_image_takes_little_memory(huge):
    # VmHWM: this process's own peak; ru_maxrss would include the parent's, inherited through exec
    code = ("import re, sys; from talkinghead.io.image import load_image\n"
            "try:\n    load_image(sys.argv[1])\nexcept ValueError:\n    pass\n"
            "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")  # fmt: skip
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux's /proc")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code, str(huge)], capture_output=True, text=True, check=True)
    assert int(out.stdout) < 250_000  # KB; decoding it would take 400 MB at least


def test_pixel_limit_can_be_raised_or_lowered(tmp_path):
    path = tmp_path / "small.png"
    Image.new("RGB", (100, 80), (10, 20, 30)).save(path)
    with pytest.raises(ImageTooLargeError, match="100x80"):
        load_image(path, max_pixels=5000)
    with pixel_limit(5000):
        with pytest.raises(ImageTooLargeError):
            load_image(path)
        assert load_image(path, max_pixels=0).shape == (80, 100, 3)  # an explicit limit wins
        with pixel_limit(0):
            assert load_image(path).shape == (80, 100, 3)
    assert check_image_pixels(path) == (100, 80) and MAX_PIXELS >= 7680 * 4320 * 1.5  # 8K passes with room


def test_large_jpeg_is_decoded_at_a_reduced_scale_for_a_small_target(tmp_path):
    path = tmp_path / "big.jpg"
    gradient = np.linspace(0, 255, 4000, dtype=np.uint8)
    Image.fromarray(np.stack([np.tile(gradient, (3000, 1))] * 3, axis=2)).save(path, quality=90)
    small = load_image(path, max_side=400)
    assert small.shape == (750, 1000, 3)  # 1/4 scale: the smallest keeping the longer side >= 2 x 400
    assert load_image(path, max_side=2500).shape == (3000, 4000, 3)  # no DCT scale keeps 5000 px
    assert abs(int(small[:, 500].mean()) - int(gradient[2000])) < 4


# ------------------------------------------------------------------ sound
def test_long_sound_is_refused_from_its_header(three_hours):
    assert probe_seconds(three_hours) == pytest.approx(HOURS_3)
    with pytest.raises(AudioTooLongError) as caught:
        load_audio(three_hours, max_seconds=3600)
    message = str(caught.value)
    assert one_line(message) and message.startswith(f"{three_hours}: the sound lasts 10800.0 s, longer than the limit of 3600 s")
    assert caught.value.seconds == pytest.approx(HOURS_3)
    with duration_limit(3600), pytest.raises(AudioTooLongError):
        load_audio(three_hours)  # the limit of the enclosing block


def test_sound_without_a_stated_length_is_stopped_while_decoding(tmp_path):
    path = silence(tmp_path / "piped.flac", 30, piped=True)
    assert probe_seconds(path) is None
    with pytest.raises(AudioTooLongError, match="longer than the limit of 5 s .decoding was stopped there"):
        load_audio(path, max_seconds=5)
    with pytest.raises(AudioTooLongError):
        check_seconds(path, 5)
    assert check_seconds(path, 60) == pytest.approx(30, abs=0.1)  # counted, not kept
    assert load_audio(path, max_seconds=30).duration == pytest.approx(30, abs=0.1)  # at the limit: taken
    assert load_audio(path).duration == pytest.approx(30, abs=0.1)  # no limit by default


# ------------------------------------------------------------------ the command line
def run_cli(args, capsys):
    code = main(["generate", "--no-progress", *map(str, args)])
    return code, capsys.readouterr()


def test_cli_refuses_long_sound_and_huge_image_before_any_work(tmp_path, three_hours, huge, face_and_speech, capsys):
    image, audio = face_and_speech
    out = tmp_path / "out.mp4"
    for args, needle in (([image, three_hours], "lasts 10800.0 s, longer than the limit of 3600 s"),
                         ([huge, audio], "20000x20000")):  # fmt: skip
        code, captured = run_cli(["--image", args[0], "--audio", args[1], "--out", out, "--max-audio-seconds", 3600], capsys)
        err = captured.err.strip()
        assert code == 2 and one_line(err) and needle in err, err
        assert ("--max-audio-seconds" if args[1] == three_hours else "--max-image-pixels") in err
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".mp4" or "partial" in p.name]


def test_cli_default_limit_refuses_three_hours_and_a_flag_lets_it_through(tmp_path, face_and_speech, capsys):
    image, audio = face_and_speech
    just_over = silence(tmp_path / "long.flac", HOURS_3 + 60)
    code, captured = run_cli(["--image", image, "--audio", just_over, "--out", tmp_path / "o.mp4"], capsys)
    assert code == 2 and "longer than the limit of 10800 s" in captured.err
    # the override flags let a file through (a short clip and small limits keep this fast)
    code, captured = run_cli(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--max-audio-seconds", 1], capsys)
    assert code == 2 and "lasts 2.0 s, longer than the limit of 1 s" in captured.err
    code, captured = run_cli(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--max-image-pixels", 1000], capsys)
    assert code == 2 and "the limit is 0.0 megapixels" in captured.err
    code, captured = run_cli(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--dry-run", "--json",
                              "--max-audio-seconds", 0, "--max-image-pixels", 0], capsys)  # fmt: skip
    assert code == 0, captured.err
    assert json.loads(captured.out)["dry_run"] is True and not (tmp_path / "o.mp4").exists()


def test_cli_refuses_negative_limits(tmp_path, face_and_speech, capsys):
    image, audio = face_and_speech
    code, captured = run_cli(["--image", image, "--audio", audio, "--out", tmp_path / "o.mp4", "--max-image-pixels", -1], capsys)
    assert code == 2 and "must be 0 (no limit) or more" in captured.err


# ------------------------------------------------------------------ the web page
def test_demo_checks_length_and_pixels_from_headers(tmp_path, three_hours, huge, face_and_speech):
    image, audio = face_and_speech
    with pytest.raises(InputError, match="three_hours.flac: the sound is 10800.0 s long; this server accepts at most 60 s"):
        check_inputs(TalkingHeadInputs(str(image), str(three_hours)), DemoSettings(max_audio_seconds=60))
    piped = silence(tmp_path / "piped.flac", 30, piped=True)
    with pytest.raises(InputError, match="piped.flac: the sound is longer than 5 s; this server accepts at most 5 s"):
        check_inputs(TalkingHeadInputs(str(image), str(piped)), DemoSettings(max_audio_seconds=5))
    request = DemoRequest("baseline", {"image": str(huge), "audio": str(audio)})
    with pytest.raises(InputError) as caught:
        run_request(request, DemoSettings(), tmp_path, lambda fraction, text: None)
    assert str(caught.value) == ("huge.png: the image is 20000x20000 px (400.0 megapixels); this server accepts at "
                                 "most 64.0 megapixels. Please use a smaller photo.")  # fmt: skip
    check_inputs(TalkingHeadInputs(str(image), str(audio)), DemoSettings())  # within every limit


def test_demo_seed_is_checked_as_the_pipeline_checks_it():
    assert request_seed(None) is None and request_seed(7.0) == 7 and request_seed(2**32 - 1) == 2**32 - 1
    for bad in (-1, -1.0, 2**32, 1.5):
        with pytest.raises(InputError, match="seed must be"):
            request_seed(bad)


def test_demo_page_refuses_bad_seeds_and_huge_uploads(tmp_path, huge):
    gr = pytest.importorskip("gradio")
    from gradio.data_classes import FileData

    from talkinghead.demo.app import build_app, page_seed
    from talkinghead.demo.output_folders import OutputFolders

    folders = OutputFolders(60, root=tmp_path)
    try:
        demo = build_app(DemoSettings(max_image_pixels=10_000_000), folders)
        blocks = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
        seed, image = blocks["talking-head-seed"], blocks["talking-head-image"]
        with pytest.raises(gr.Error):
            seed.preprocess(-1)  # the number field's own bounds
        assert seed.preprocess(2**32 - 1) == 2**32 - 1
        with pytest.raises(gr.Error, match="seed must be between 0 and 4294967295"):
            page_seed(-1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(gr.Error) as caught:
                image.preprocess(FileData(path=str(huge), orig_name="huge.png"))
        assert "huge.png: the image is 20000x20000 px" in str(caught.value.message)
        assert "at most 10.0 megapixels" in str(caught.value.message)
    finally:
        folders.close()
