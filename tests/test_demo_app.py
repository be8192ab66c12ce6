"""The demo without a browser: request handling, limits, tabs per pipeline kind, clean-up."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from talkinghead import cli
from talkinghead.demo.generation import DemoRequest, run_request
from talkinghead.demo.output_folders import OutputFolders
from talkinghead.demo.settings import DemoSettings
from talkinghead.demo.summary import LipSync, QualitySummary, dlib_available
from talkinghead.errors import InputError, NoFaceError
from talkinghead.pipelines.baseline import BaselinePipeline
from talkinghead.registry import PIPELINES
from tests.demo_server import EXAMPLE_IMAGE, EXAMPLE_SPEECH, faceless_image, require, short_speech


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    return short_speech(tmp_path_factory.mktemp("speech") / "speech-1.5s.wav")


def no_progress(fraction: float, text: str) -> None:
    assert 0.0 <= fraction <= 1.0 and text


def test_importing_the_cli_does_not_import_gradio():
    code = "import sys, talkinghead, talkinghead.cli; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_bad_server_limits_are_one_line_errors(capsys):
    assert cli.main(["demo", "--concurrency", "0"]) == cli.EXIT_INPUT_ERROR
    assert "concurrency must be positive" in capsys.readouterr().err


def test_request_makes_a_video_and_a_summary(tmp_path, speech):
    request = DemoRequest("baseline", str(EXAMPLE_IMAGE), str(speech), seed=3, options={"fps": 10.0},
                          measure=dlib_available())  # fmt: skip
    seen = []
    output = run_request(request, DemoSettings(), tmp_path, lambda f, text: seen.append(f))
    assert output.video.parent == tmp_path and output.video.name == "astronaut-talkinghead.mp4"
    from talkinghead.io.video import probe_video

    info = probe_video(output.video)
    assert info.has_audio and info.num_frames == 15 and math.isclose(info.fps, 10.0)
    assert output.summary.frames == 15 and output.summary.seed == 3
    assert seen == sorted(seen) and seen[-1] > 0.85  # progress only moves forward
    if dlib_available():
        measures = output.summary.measures
        assert measures.face_found > 0.9 and measures.identity_distance < 0.45
        assert measures.mouth_audio_r > 0.3  # the baseline's mouth follows loudness
        assert "identity distance" in output.summary.to_markdown()


def test_no_face_names_the_uploaded_file_not_the_server_path(tmp_path, speech):
    image = faceless_image(tmp_path / "gradient.png")
    with pytest.raises(NoFaceError) as caught:
        run_request(DemoRequest("baseline", str(image), str(speech)), DemoSettings(), tmp_path, no_progress)
    assert str(caught.value) == "gradient.png: no face found in the image"


@pytest.mark.parametrize(
    "request_changes, settings, message",
    [({"image": None}, {}, "Please add a face photo"),
     ({"driving": None}, {}, "Please add the audio"),
     ({}, {"max_audio_seconds": 1.0}, "speech.wav: the sound is 13.9 s long; this server accepts at most 1 s"),
     ({}, {"max_upload_mb": 0.1}, "this server accepts files up to 0.1 MB"),
     ({"options": {"max_size": 4096}}, {}, "max size can be at most 2048 px"),
     ({"options": {"fps": 500.0}}, {}, "fps must be between 1 and 120"),
     ({"image": str(EXAMPLE_SPEECH)}, {}, "speech.wav: cannot read image")],
)  # fmt: skip
def test_limits_and_bad_inputs_are_input_errors(tmp_path, request_changes, settings, message):
    fields = {"pipeline": "baseline", "image": str(EXAMPLE_IMAGE), "driving": str(EXAMPLE_SPEECH), **request_changes}
    with pytest.raises(InputError, match=message):
        run_request(DemoRequest(**fields), DemoSettings(**settings), tmp_path, no_progress)
    assert not list(tmp_path.glob("*.mp4"))


def test_output_folders_are_swept_when_old(tmp_path):
    folders = OutputFolders(keep_seconds=60, root=tmp_path)
    old, fresh = folders.new(), folders.new()
    (old / "video.mp4").write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert folders.sweep() == [old]
    assert not old.exists() and fresh.exists()
    folders.close()
    assert not folders.root.exists()


def test_summary_text():
    summary = QualitySummary(duration=1.5, fps=10.0, frames=15, width=320, height=320, seed=0, seconds=2.0,
                             measures=LipSync(identity_distance=0.17, mouth_audio_r=float("nan"), lag=0, face_found=1.0))  # fmt: skip
    text = summary.to_markdown()
    assert text.startswith("**1.50 s**, 10 fps, 15 frames, 320x320 px, seed 0")
    assert "**0.170**" in text and "r = n/a" in text and "100% of the frames" in text


class FakeListener(BaselinePipeline):
    """A stand-in listener pipeline: any pipeline declaring kind = "listener" gets the tab."""

    kind = "listener"


def tab_labels(demo) -> list[str]:
    gr = require("gradio")
    return [block.label for block in demo.blocks.values() if isinstance(block, gr.Tab)]


def test_listener_tab_only_with_a_listener_pipeline(tmp_path, monkeypatch):
    require("gradio")
    from talkinghead.demo.app import build_app

    folders = OutputFolders(60, root=tmp_path)
    assert tab_labels(build_app(DemoSettings(), folders)) == ["Talking head"]
    monkeypatch.setitem(PIPELINES._loaded, "fake_listener", FakeListener)
    demo = build_app(DemoSettings(), folders)
    assert tab_labels(demo) == ["Talking head", "Listener"]
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"listener-image", "listener-driving", "listener-generate", "listener-fake_listener-fps"} <= ids
    assert "talking-head-fake_listener-fps" not in ids  # a listener pipeline stays out of the talking-head tab
