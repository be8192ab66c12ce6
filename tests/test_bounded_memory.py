"""Peak memory does not depend on the audio's length (issue 13): the motion models run over
the clip in chunks (MelConfig.chunk_seconds) with carried context, and give what a whole-clip
run gives."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from talkinghead.audio.loudness import frame_rms_db
from talkinghead.audio.mel import LogMel, MelConfig, audio_windows, frame_windows, log_mel, map_windows, normalise_loudness
from talkinghead.io.audio import load_audio
from talkinghead.types import AudioClip

from .conftest import DEMO_IMAGE, DEMO_SPEECH, ROOT

CLIP_SECONDS = 9.0
SMALL_CHUNKS = (2.0, 0.7, 0.3)
"""Chunk lengths well under the clip (0.3 s is shorter than audio2exp's reach of 6 frames
either side plus a chunk, and than one OSM motion window)."""


@pytest.fixture(scope="module")
def clip() -> AudioClip:
    speech = load_audio(DEMO_SPEECH, 16000)
    return AudioClip(speech.samples[: int(CLIP_SECONDS * 16000)], 16000)


def with_chunks(model, seconds: float):
    """`model` with its mel config's chunk_seconds set to `seconds` (a small one: many chunks)."""
    model.config = dataclasses.replace(model.config, mel=dataclasses.replace(model.config.mel, chunk_seconds=seconds))
    return model


def test_chunked_features_equal_the_whole_clip(clip):
    config = MelConfig(chunk_seconds=0.37)
    whole = LogMel(config)(torch.from_numpy(normalise_loudness(clip, config))[None])[0]
    chunked = log_mel(clip, config)
    assert torch.equal(chunked, whole)
    frames = clip.num_frames(25.0)
    windows = map_windows(lambda w: w, chunked, 25.0, frames, config, context=3)
    assert torch.equal(windows, frame_windows(whole, 25.0, frames, config))
    assert torch.equal(frame_windows(whole, 25.0, frames, config, 40, 90), frame_windows(whole, 25.0, frames, config)[40:90])


def test_frame_levels_do_not_depend_on_the_chunk(clip):
    frames = clip.num_frames(25.0)
    whole = frame_rms_db(clip, 25.0, frames, 0.06, chunk_seconds=1e6)
    np.testing.assert_allclose(frame_rms_db(clip, 25.0, frames, 0.06, chunk_seconds=0.5), whole, atol=1e-6)


@pytest.mark.parametrize("seconds", SMALL_CHUNKS)
def test_audio2exp_chunked_equals_unchunked(clip, seconds):
    from talkinghead.motion.audio2exp import Audio2Exp

    model = with_chunks(Audio2Exp.load(), seconds)
    with torch.no_grad():
        whole = model.calibrated(model(audio_windows(clip, 25.0, model.config.mel)[None])[0]).numpy()
    chunked = model.predict(clip, 25.0)
    assert chunked.shape == whole.shape == (clip.num_frames(25.0), len(model.config.expression_names))
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


def test_osm_window_points_chunked_equal_forward(clip):
    from talkinghead.motion.osm import OSMNet

    model = with_chunks(OSMNet.load(), 0.7)
    num_frames = clip.num_frames(model.config.space.fps)
    with torch.no_grad():
        mu, log_sigma = (t[0] for t in model(audio_windows(clip, model.config.space.fps, model.config.mel)[None]))
        chunked = model.window_points(log_mel(clip, model.config.mel), num_frames)
    np.testing.assert_allclose(chunked.numpy(), torch.cat([mu, log_sigma], dim=-1).numpy(), atol=1e-5)


def test_osm_sample_is_the_same_for_any_chunk_size(clip):
    """The correlated noise chain and the overlap-add span the whole clip whatever the chunks."""
    from talkinghead.motion.osm import OSMNet

    rotation, translation = with_chunks(OSMNet.load(), 1e6).sample(clip, 25.0, seed=3, diversity=1.0)
    for seconds in SMALL_CHUNKS:
        r, t = with_chunks(OSMNet.load(), seconds).sample(clip, 25.0, seed=3, diversity=1.0)
        np.testing.assert_allclose(r, rotation, atol=1e-4, err_msg=f"chunk {seconds} s")  # degrees
        np.testing.assert_allclose(t, translation, atol=1e-6, err_msg=f"chunk {seconds} s")  # inter-ocular distances


def test_audio2exp_v2_stream_chunked_equals_unchunked(clip):
    from talkinghead.motion.audio2exp_v2 import Audio2ExpV2

    frames = clip.num_frames(25.0)
    whole = with_chunks(Audio2ExpV2.load(), 1e6).gains(clip, 25.0, frames)
    np.testing.assert_allclose(with_chunks(Audio2ExpV2.load(), 0.7).gains(clip, 25.0, frames), whole, atol=1e-6)


MOTION_CHILD = """
import sys
import numpy as np
import talkinghead
from talkinghead.io.audio import load_audio
from talkinghead.types import AudioClip

speech = load_audio(sys.argv[1], 16000)
clip = AudioClip(np.resize(speech.samples, int(float(sys.argv[2]) * 16000)), 16000)
del speech
with talkinghead.load_pipeline("osm") as pipe:
    basis = pipe.face_model.basis
    # The osm pipeline's motion step with the audio2exp mouth (the content mouth's phone
    # recogniser runs at about real time: too slow for 10 minutes here).
    motion = pipe.face_motion(clip, 25.0, basis, np.zeros(len(basis.names), np.float32), seed=0, still=True, mouth="audio2exp")
    rotation, translation = pipe.net.sample(clip, 25.0, seed=0, diversity=1.0)
assert len(motion) == len(rotation) == clip.num_frames(25.0)
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


def peak_rss_mb(script: str, *args: str, timeout: float = 300) -> int:
    """Peak RSS (MB, VmHWM) of `script` run in a fresh interpreter, printed by the script as its
    last line: the test process's own history does not count."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def test_motion_peak_memory_does_not_grow_with_the_clip():
    """10 minutes of speech through the osm motion step stays within 200 MB of 10 seconds (the
    10 minutes' samples alone are 38 MB, held a few times: loaded, normalised, tiled)."""
    short = peak_rss_mb(MOTION_CHILD, str(DEMO_SPEECH), "10")
    long = peak_rss_mb(MOTION_CHILD, str(DEMO_SPEECH), "600")
    assert long - short < 200, f"peak RSS {long} MB for 10 min against {short} MB for 10 s"


GENERATE_CHILD = """
import resource, subprocess, sys
import numpy as np
from talkinghead.io.audio import load_audio, write_wav
from talkinghead.types import AudioClip

speech = load_audio(sys.argv[1], 16000)
write_wav(sys.argv[3], AudioClip(np.resize(speech.samples, int(float(sys.argv[2]) * 16000)), 16000))
cmd = [sys.executable, "-m", "talkinghead", "generate", "--image", sys.argv[4], "--audio", sys.argv[3], "--out", sys.argv[5], "--no-progress"]
subprocess.run(cmd, check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


@pytest.mark.slow
def test_generate_peak_memory_does_not_grow_with_the_clip(tmp_path):
    """The whole CLI generate at 320 px (the bundled portrait): 10 minutes within 200 MB of 10 s."""
    image = str(DEMO_IMAGE)

    def measure(seconds: str) -> int:
        wav, out = str(tmp_path / f"{seconds}.wav"), str(tmp_path / f"{seconds}.mp4")
        return peak_rss_mb(GENERATE_CHILD, str(DEMO_SPEECH), seconds, wav, image, out, timeout=3600)

    short, long = measure("10"), measure("600")
    assert long - short < 200, f"peak RSS {long} MB for 10 min against {short} MB for 10 s"
