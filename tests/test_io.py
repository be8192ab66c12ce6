"""Tests of talkinghead.io: images, audio and video files, all generated in tmp_path."""

from __future__ import annotations

import subprocess
import wave

import numpy as np
import pytest
from PIL import Image

from talkinghead.errors import InputError, TalkingHeadError
from talkinghead.io.audio import audio_from_array, ffmpeg_exe, load_audio, write_wav
from talkinghead.io.image import limit_size, load_image, save_image
from talkinghead.io.video import Encoding, VideoTarget, check_output_path, probe_video, read_video, write_video, write_videos
from talkinghead.types import AudioClip, RenderedChunk

# ---------------------------------------------------------------- helpers


def tone(seconds: float, rate: int, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    """(S,) float64 sine wave."""
    t = np.arange(int(round(seconds * rate))) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def encode_audio(path, samples: np.ndarray, rate: int, *codec_args: str) -> None:
    """Write (S,) or (S, C) float samples to `path` by piping raw PCM into ffmpeg."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    command = [ffmpeg_exe(), "-v", "error", "-y", "-f", "f64le", "-ar", str(rate), "-ac", str(channels),
               "-i", "-", *codec_args, str(path)]  # fmt: skip
    subprocess.run(command, input=samples.astype("<f8").tobytes(), check=True)


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1.0 / rate)[np.argmax(spectrum)])


def ffmpeg_header(path) -> str:
    """What `ffmpeg -i` says about a file (imageio-ffmpeg ships no ffprobe)."""
    command = [ffmpeg_exe(), "-hide_banner", "-i", str(path)]
    return subprocess.run(command, capture_output=True, text=True).stderr


def make_chunks(num_frames: int, height: int, width: int, chunk_size: int = 16):
    """Chunks of a moving gradient; masks hold the frame index * 4."""
    for start in range(0, num_frames, chunk_size):
        n = min(chunk_size, num_frames - start)
        frames = np.zeros((n, height, width, 3), np.uint8)
        frames[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)
        frames[..., 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
        frames[..., 2] = (np.arange(start, start + n) * 4)[:, None, None]
        masks = frames[..., 2].copy()
        yield RenderedChunk(frames=frames, masks=masks, start=start)


# ---------------------------------------------------------------- images


def test_rgba_png_is_composited_on_white(tmp_path):
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[:, :25] = (255, 0, 0, 0)  # fully transparent red: must become white
    rgba[:, 25:] = (0, 0, 255, 255)  # opaque blue stays blue
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    assert image.shape == (40, 50, 3) and image.dtype == np.uint8
    assert (image[:, :25] == 255).all()
    assert (image[:, 25:] == (0, 0, 255)).all()


def test_grayscale_and_16_bit_become_rgb(tmp_path):
    Image.fromarray(np.full((40, 40), 77, np.uint8), "L").save(tmp_path / "g.png")
    assert (load_image(tmp_path / "g.png") == 77).all()
    wide = np.full((40, 40), 65535, np.uint16)
    wide[:20] = 32896  # 128 * 257
    Image.fromarray(wide).save(tmp_path / "g16.png")
    image = load_image(tmp_path / "g16.png")
    assert image.shape == (40, 40, 3)
    assert (image[:20] == 128).all() and (image[20:] == 255).all()


def test_palette_and_cmyk_become_rgb(tmp_path):
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[:, :, 1] = 200
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE)
    palette.save(tmp_path / "p.png")
    palette.save(tmp_path / "t.png", transparency=0)  # index 0 (the green) made transparent
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg")
    assert (load_image(tmp_path / "p.png") == (0, 200, 0)).all()
    assert (load_image(tmp_path / "t.png") == 255).all()
    assert np.abs(load_image(tmp_path / "c.jpg").astype(int) - (0, 200, 0)).max() < 8


def test_webp(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.webp", lossless=True)
    assert np.array_equal(load_image(tmp_path / "a.webp"), rgb)


def test_exif_orientation_is_applied(tmp_path):
    rgb = np.zeros((40, 64, 3), np.uint8)
    rgb[:20, :32] = (255, 0, 0)  # red top-left quarter
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(rgb).save(tmp_path / "r.jpg", exif=exif, quality=95)
    image = load_image(tmp_path / "r.jpg")
    assert image.shape == (64, 40, 3)
    # After a clockwise turn the top-left corner is at the top right.
    assert image[5, 35, 0] > 200 and image[5, 5, 0] < 50


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("photo.jpg", b"this is not a jpeg at all" * 10, "not an image file"),
        ("truncated.png", None, "cannot read image"),
    ],
)
def test_unreadable_image_raises_input_error(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is None:
        Image.new("RGB", (64, 64)).save(path)
        content = path.read_bytes()[:60]
    path.write_bytes(content)
    with pytest.raises(InputError, match=reason) as info:
        load_image(path)
    assert name in str(info.value) and "\n" not in str(info.value)


def test_missing_folder_and_tiny_images_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(InputError, match="is a folder"):
        load_image(tmp_path)
    Image.new("RGB", (100, 20)).save(tmp_path / "tiny.png")
    with pytest.raises(InputError, match="too small"):
        load_image(tmp_path / "tiny.png")


def test_limit_size():
    image = np.zeros((100, 200, 3), np.uint8)
    small, scale = limit_size(image, 50)
    assert small.shape == (25, 50, 3) and scale == 0.25
    same, scale = limit_size(image, 200)
    assert same is image and scale == 1.0


def test_save_image_round_trip(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    save_image(tmp_path / "out.png", rgb)
    assert np.array_equal(load_image(tmp_path / "out.png"), rgb)
    save_image(tmp_path / "out.jpg", rgb)
    assert load_image(tmp_path / "out.jpg").shape == rgb.shape
    with pytest.raises(InputError):
        save_image(tmp_path / "out.unknownformat", rgb)


# ---------------------------------------------------------------- audio


def check_tone(clip: AudioClip, seconds: float) -> None:
    assert clip.sample_rate == 16000 and clip.samples.dtype == np.float32
    assert abs(clip.duration - seconds) < 0.01
    assert abs(peak_frequency(clip.samples, 16000) - 440.0) < 2.0
    assert np.abs(clip.samples).max() <= 1.0


def test_stereo_44k_wav_is_mixed_to_mono_and_resampled(tmp_path):
    left = tone(1.5, 44100, amplitude=0.9)
    encode_audio(tmp_path / "s.wav", np.stack([left, left], axis=1), 44100, "-c:a", "pcm_s16le")
    clip = load_audio(tmp_path / "s.wav")
    check_tone(clip, 1.5)
    assert len(clip.samples) == 24000
    assert clip.path == str(tmp_path / "s.wav")
    # Identical channels average to the same level (ffmpeg's default would be +3 dB and clip).
    assert 0.85 < np.abs(clip.samples).max() <= 0.91


@pytest.mark.parametrize(
    ("name", "codec"), [("m.flac", "flac"), ("m.ogg", "libvorbis"), ("m.mp3", "libmp3lame"), ("m.m4a", "aac")]
)
def test_22k_mono_compressed_audio(tmp_path, name, codec):
    encode_audio(tmp_path / name, tone(1.5, 22050), 22050, "-c:a", codec)
    check_tone(load_audio(tmp_path / name), 1.5)


def test_empty_wav_raises_input_error(tmp_path):
    with wave.open(str(tmp_path / "empty.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
    with pytest.raises(InputError, match="empty.wav: contains no audio samples"):
        load_audio(tmp_path / "empty.wav")


def test_unreadable_audio_raises_input_error(tmp_path):
    (tmp_path / "noise.mp3").write_bytes(np.random.default_rng(2).bytes(4000))
    with pytest.raises(InputError, match="noise.mp3: cannot read audio") as info:
        load_audio(tmp_path / "noise.mp3")
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="file not found"):
        load_audio(tmp_path / "missing.wav")


def test_audio_from_array():
    pcm = (tone(1.0, 48000) * 32767).astype(np.int16)
    clip = audio_from_array(np.stack([pcm, pcm], axis=1), 48000)
    check_tone(clip, 1.0)
    assert 0.45 < np.abs(clip.samples).max() < 0.55
    channels_first = audio_from_array(np.stack([tone(1.0, 16000), np.zeros(16000)]), 16000)
    assert channels_first.samples.shape == (16000,)
    assert 0.24 < np.abs(channels_first.samples).max() < 0.26
    with pytest.raises(InputError):
        audio_from_array(np.zeros(0, np.float32), 16000)
    with pytest.raises(InputError):
        audio_from_array(np.zeros((3, 100, 2), np.float32), 16000)


def test_write_wav_round_trip(tmp_path):
    clip = AudioClip(tone(0.5, 16000).astype(np.float32), 16000)
    write_wav(tmp_path / "t.wav", clip)
    loaded = load_audio(tmp_path / "t.wav")
    assert np.abs(loaded.samples - clip.samples).max() < 1e-3


# ---------------------------------------------------------------- video


@pytest.mark.parametrize(("height", "width"), [(48, 64), (47, 63)])
def test_write_video_with_audio_and_masks(tmp_path, height, width):
    audio = AudioClip(tone(2.0, 16000).astype(np.float32), 16000)
    written = []
    path = write_video(
        tmp_path / "out.mp4",
        make_chunks(50, height, width),
        fps=25,
        audio=audio,
        masks_path=tmp_path / "masks.mp4",
        progress=written.append,
    )
    assert path == tmp_path / "out.mp4"
    assert written == [16, 32, 48, 50]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["masks.mp4", "out.mp4"]

    header = ffmpeg_header(path)
    assert "Video: h264" in header and "Audio: aac" in header and "yuv420p" in header
    info = probe_video(path)
    assert (info.width, info.height) == (64, 48)  # odd sizes are padded, not resized
    assert info.fps == 25 and abs(info.duration - 2.0) < 0.1 and info.has_audio
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")

    frames = list(read_video(path))
    assert len(frames) == 50 and frames[0].shape == (48, 64, 3)
    expected = next(make_chunks(1, height, width)).frames[0].astype(int)
    assert np.abs(frames[0][:height, :width].astype(int) - expected).mean() < 3
    # The padding repeats the last column / row.
    assert np.abs(frames[0][:, -1].astype(int) - frames[0][:, width - 1].astype(int)).mean() < 3

    masks = list(read_video(tmp_path / "masks.mp4"))
    assert len(masks) == 50 and not probe_video(tmp_path / "masks.mp4").has_audio
    assert abs(int(masks[10][0, 0, 0]) - 40) <= 3 and np.ptp(masks[10][..., :3], axis=-1).max() <= 2

    # The audio track decodes back to the tone.
    check_tone(load_audio(path), 2.0)


def test_write_videos_encodes_one_render_at_several_compressions_and_lossless_masks(tmp_path):
    targets = [VideoTarget(tmp_path / "c23.mp4", encoding=Encoding(crf=23)), VideoTarget(tmp_path / "c40.mp4", encoding=Encoding(crf=40)),
               VideoTarget(tmp_path / "masks.mkv", masks=True, encoding=Encoding(codec="ffv1"))]  # fmt: skip
    audio = AudioClip(tone(1.0, 16000).astype(np.float32), 16000)
    assert write_videos(targets, make_chunks(25, 48, 64), fps=25, audio=audio) == 25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c23.mp4", "c40.mp4", "masks.mkv"]
    assert (tmp_path / "c40.mp4").stat().st_size < (tmp_path / "c23.mp4").stat().st_size
    assert probe_video(tmp_path / "c40.mp4").has_audio and not probe_video(tmp_path / "masks.mkv").has_audio
    # FFV1 keeps every mask value exactly: the masks hold frame index * 4.
    masks = np.stack([frame[..., 0] for frame in read_video(tmp_path / "masks.mkv")])
    assert masks.shape == (25, 48, 64) and np.array_equal(masks[:, 0, 0], np.arange(25) * 4)


def test_write_videos_refuses_two_outputs_at_one_path(tmp_path):
    with pytest.raises(InputError, match="would be the same file"):
        write_video(tmp_path / "a.mp4", make_chunks(4, 48, 64), fps=25, masks_path=tmp_path / "." / "a.mp4")
    assert list(tmp_path.iterdir()) == []


def test_write_videos_leaves_nothing_when_the_frames_fail(tmp_path):
    def failing():
        yield from make_chunks(16, 48, 64)
        raise RuntimeError("render failed")

    targets = [VideoTarget(tmp_path / "a.mp4"), VideoTarget(tmp_path / "m.mkv", masks=True, encoding=Encoding(codec="ffv1"))]
    with pytest.raises(RuntimeError, match="render failed"):
        write_videos(targets, failing(), fps=25)
    assert list(tmp_path.iterdir()) == []


def test_write_video_muxes_the_original_audio_file(tmp_path):
    encode_audio(tmp_path / "voice.wav", np.stack([tone(1.2, 44100)] * 2, axis=1), 44100)
    audio = load_audio(tmp_path / "voice.wav")
    out = tmp_path / "out" / "v.mkv"
    out.parent.mkdir()
    write_video(out, make_chunks(audio.num_frames(25), 48, 64), fps=25, audio=audio)
    info = probe_video(out)
    assert abs(info.duration - 1.2) < 0.1 and info.audio_codec == "aac"
    assert "44100 Hz, stereo" in ffmpeg_header(out)  # the original, not the 16 kHz mono copy
    assert len(list(read_video(out, max_size=32))) == 30
    assert next(read_video(out, max_size=32)).shape == (24, 32, 3)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_mid_way_leaves_no_file(tmp_path, error):
    def failing_chunks():
        yield from make_chunks(20, 48, 64)
        raise error("renderer crashed")

    audio = AudioClip(tone(2.0, 16000).astype(np.float32), 16000)
    with pytest.raises(error, match="renderer crashed"):
        write_video(tmp_path / "v.mp4", failing_chunks(), fps=25, audio=audio, masks_path=tmp_path / "m.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("num_frames", [2, 400])
def test_ffmpeg_failure_leaves_no_file(tmp_path, num_frames):
    # A corrupt audio file makes ffmpeg quit: before the frames are all written (400 frames
    # overflow the pipe) or only when they are finished (2 frames fit in its buffer).
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "voice.wav").write_bytes(b"RIFF" + b"\x00" * 100)
    audio = AudioClip(np.zeros(16000, np.float32), 16000, path=str(tmp_path / "in" / "voice.wav"))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(TalkingHeadError, match="ffmpeg could not write the video"):
        write_video(out / "v.mp4", make_chunks(num_frames, 240, 320), fps=25, audio=audio)
    assert list(out.iterdir()) == []


def test_no_frames_leaves_no_file(tmp_path):
    with pytest.raises(InputError, match="no frames"):
        write_video(tmp_path / "v.mp4", iter(()), fps=25)
    assert list(tmp_path.iterdir()) == []


def test_bad_output_paths_fail_before_any_work(tmp_path):
    consumed = []

    def chunks():
        consumed.append(True)
        yield from make_chunks(5, 48, 64)

    with pytest.raises(InputError, match="output folder .*nowhere does not exist"):
        write_video(tmp_path / "nowhere" / "v.mp4", chunks(), fps=25)
    with pytest.raises(InputError, match="output folder"):
        write_video(tmp_path / "v.mp4", chunks(), fps=25, masks_path=tmp_path / "nowhere" / "m.mp4")
    with pytest.raises(InputError, match=r"\.mp4"):
        check_output_path(tmp_path / "v.avi")
    assert consumed == [] and list(tmp_path.iterdir()) == []


def test_unreadable_video_raises_input_error(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(InputError, match="bad.mp4: cannot read video"):
        probe_video(tmp_path / "bad.mp4")
    with pytest.raises(InputError, match="bad.mp4: cannot read video"):
        read_video(tmp_path / "bad.mp4")
    with pytest.raises(InputError, match="file not found"):
        probe_video(tmp_path / "missing.mp4")
    encode_audio(tmp_path / "a.wav", tone(0.2, 16000), 16000)
    with pytest.raises(InputError, match="no video track"):
        probe_video(tmp_path / "a.wav")


def test_an_image_given_as_audio_says_it_has_no_sound():
    from .conftest import DEMO_IMAGE

    with pytest.raises(InputError, match=r"astronaut.png: cannot read audio \(no audio track: is it an image\?\)"):
        load_audio(DEMO_IMAGE)
