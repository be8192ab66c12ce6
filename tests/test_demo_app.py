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
from talkinghead.pipelines.inputs import ListenerInputs, PoseControlInputs, TalkingHeadInputs
from talkinghead.registry import PIPELINES
from tests.demo_server import EXAMPLE_IMAGE, EXAMPLE_SPEECH, faceless_image, require, short_speech, speaker_video


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    return short_speech(tmp_path_factory.mktemp("speech") / "speech-1.5s.wav")


@pytest.fixture(scope="module")
def long_video(tmp_path_factory) -> Path:
    """A 13.9 s video with the bundled speech as its sound."""
    return speaker_video(tmp_path_factory.mktemp("video") / "speaker.mp4", EXAMPLE_SPEECH)


def talking_head(image=EXAMPLE_IMAGE, audio=EXAMPLE_SPEECH) -> dict:
    return {"image": str(image) if image else None, "audio": str(audio) if audio else None}


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
    # the loudness mouth: this test's speech is noise bursts, which only loudness follows
    request = DemoRequest("baseline", talking_head(audio=speech), seed=3, options={"fps": 10.0, "mouth": "loudness"},
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
        assert measures.mouth_audio_r > 0.3  # the loudness mouth follows loudness
        assert "identity distance" in output.summary.to_markdown()


def test_no_face_names_the_uploaded_file_not_the_server_path(tmp_path, speech):
    image = faceless_image(tmp_path / "gradient.png")
    with pytest.raises(NoFaceError) as caught:
        run_request(DemoRequest("baseline", talking_head(image, speech)), DemoSettings(), tmp_path, no_progress)
    assert str(caught.value) == "gradient.png: no face found in the image"


@pytest.mark.parametrize(
    "input_changes, request_changes, settings, message",
    [({"image": None}, {}, {}, "Please add the face photo: upload one or take one with the webcam"),
     ({"audio": ""}, {}, {}, "Please add the speech: upload a file or record one"),
     ({}, {}, {"max_audio_seconds": 1.0}, "speech.wav: the sound is 13.9 s long; this server accepts at most 1 s"),
     ({}, {}, {"max_upload_mb": 0.1}, r"astronaut.png is [\d.]+ MB; this server accepts files up to 0.1 MB"),
     ({}, {"options": {"max_size": 4096}}, {}, "max size can be at most 2048 px"),
     ({}, {"options": {"fps": 500.0}}, {}, "fps must be between 1 and 120"),
     ({"image": str(EXAMPLE_SPEECH)}, {}, {}, "speech.wav: cannot read image"),
     ({"pose": "pose.csv"}, {}, {}, "unknown input")],
)  # fmt: skip
def test_limits_and_bad_inputs_are_input_errors(tmp_path, input_changes, request_changes, settings, message):
    request = DemoRequest("baseline", {**talking_head(), **input_changes}, **request_changes)
    with pytest.raises(InputError, match=message):
        run_request(request, DemoSettings(**settings), tmp_path, no_progress)
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
    assert "p/b/m" not in text and "pauses" not in text  # not measured: not shown
    measured = LipSync(identity_distance=0.17, mouth_audio_r=0.2, lag=1, face_found=1.0, bilabials_closed=7, bilabials=9, silence_opening=0.12)
    text = QualitySummary(1.5, 10.0, 15, 320, 320, 0, 2.0, measures=measured).to_markdown()
    assert "**7 of 9** p/b/m" in text and "**12%** of its opening in speech" in text


class FakeListener(BaselinePipeline):
    """A stand-in listener pipeline: any pipeline declaring kind = "listener" gets the tab, with
    the inputs its inputs_class declares. It animates the photo with the speaker's sound."""

    kind = "listener"
    inputs_class = ListenerInputs

    def run(self, inputs: ListenerInputs, *, seed, options):
        return super().run(TalkingHeadInputs(inputs.image, inputs.speaker_video), seed=seed, options=options)


class FakePose(BaselinePipeline):
    """A stand-in for a pose-controlled pipeline (OPT): two more, optional inputs."""

    inputs_class = PoseControlInputs


def tab_labels(demo) -> list[str]:
    gr = require("gradio")
    return [block.label for block in demo.blocks.values() if isinstance(block, gr.Tab)]


def blocks_by_id(demo) -> dict:
    return {block.elem_id: block for block in demo.blocks.values() if getattr(block, "elem_id", None)}


def test_listener_tab_only_with_a_listener_pipeline(tmp_path, monkeypatch):
    gr = require("gradio")
    from talkinghead.demo.app import build_app

    folders = OutputFolders(60, root=tmp_path)
    shipped = blocks_by_id(build_app(DemoSettings(), folders))  # mfr is a listener pipeline
    assert {"listener-speaker_video", "listener-mfr-attitude", "listener-mfr-side_by_side"} <= set(shipped)
    for name in [n for n in PIPELINES.names() if PIPELINES.get(n).kind == "listener"]:
        monkeypatch.delitem(PIPELINES._lazy, name, raising=False)
        monkeypatch.delitem(PIPELINES._loaded, name, raising=False)
    assert tab_labels(build_app(DemoSettings(), folders)) == ["Talking head"]
    monkeypatch.setitem(PIPELINES._loaded, "fake_listener", FakeListener)
    demo = build_app(DemoSettings(), folders)
    assert tab_labels(demo) == ["Talking head", "Listener"]
    blocks = blocks_by_id(demo)
    assert {"listener-image", "listener-speaker_video", "listener-generate", "listener-fake_listener-fps"} <= set(blocks)
    assert isinstance(blocks["listener-speaker_video"], gr.Video) and isinstance(blocks["listener-image"], gr.Image)
    assert blocks["listener-image"].label.startswith("Listener photo")  # the field's own label
    assert "talking-head-fake_listener-fps" not in blocks  # a listener pipeline stays out of the talking-head tab
    assert "listener-audio" not in blocks and "talking-head-speaker_video" not in blocks


def test_a_pipeline_with_more_inputs_gets_them_shown_only_when_chosen(tmp_path, monkeypatch):
    gr = require("gradio")
    from talkinghead.demo.app import build_app

    monkeypatch.setitem(PIPELINES._loaded, "fake_pose", FakePose)
    demo = build_app(DemoSettings(), OutputFolders(60, root=tmp_path))
    blocks = blocks_by_id(demo)
    pose_video, pose = blocks["talking-head-pose_video"], blocks["talking-head-pose"]
    assert isinstance(pose_video, gr.Video) and isinstance(pose, gr.File)
    assert pose_video.label.startswith("Pose video (optional)") and "head pose" in pose_video.label
    assert blocks["talking-head-pipeline"].value == "osm"
    assert not pose_video.visible and not pose.visible and blocks["talking-head-audio"].visible
    shown = {"fake_pose": True, "osm": False}
    for name, visible in shown.items():
        updates = dict(zip(pipeline_change(demo, blocks["talking-head-pipeline"]).outputs, choose(demo, blocks, name)))
        assert updates[pose_video]["visible"] is visible and updates[pose]["visible"] is visible
        assert updates[blocks["talking-head-audio"]]["visible"] is True


def pipeline_change(demo, dropdown):
    """The event that runs when the pipeline dropdown changes."""
    return next(fn for fn in demo.fns.values() if fn.inputs == [dropdown] and fn.name == "choose")


def choose(demo, blocks, name: str) -> list:
    return pipeline_change(demo, blocks["talking-head-pipeline"]).fn(name)


def test_every_option_of_every_pipeline_is_in_the_page(tmp_path):
    require("gradio")
    import dataclasses

    from talkinghead.demo.app import build_app

    ids = set(blocks_by_id(build_app(DemoSettings(), OutputFolders(60, root=tmp_path))))
    for name in PIPELINES.names():
        cls = PIPELINES.get(name)
        prefix = cls.kind.replace("_", "-")
        assert {f"{prefix}-{name}-{f.name}" for f in dataclasses.fields(cls.options_class)} <= ids, name
    assert {"talking-head-baseline-expression_scale", "talking-head-osm-expression_scale", "talking-head-osm-diversity"} <= ids


def test_listener_request_takes_the_speaker_video(tmp_path, monkeypatch, speech):
    monkeypatch.setitem(PIPELINES._loaded, "fake_listener", FakeListener)
    video = speaker_video(tmp_path / "speaker-1.5s.mp4", speech)
    request = DemoRequest("fake_listener", {"image": str(EXAMPLE_IMAGE), "speaker_video": str(video)}, seed=1,
                          options={"fps": 10.0})  # fmt: skip
    output = run_request(request, DemoSettings(), tmp_path, no_progress)
    assert output.video.name == "astronaut-talkinghead.mp4" and output.summary.frames == 15
    assert output.summary.seed == 1
    with pytest.raises(InputError, match="Please add the speaker video: upload one"):
        run_request(DemoRequest("fake_listener", {"image": str(EXAMPLE_IMAGE)}), DemoSettings(), tmp_path, no_progress)


def test_every_audio_and_video_input_is_within_the_length_limit(tmp_path, monkeypatch, speech, long_video):
    monkeypatch.setitem(PIPELINES._loaded, "fake_pose", FakePose)
    request = DemoRequest("fake_pose", {**talking_head(audio=speech), "pose_video": str(long_video)})
    with pytest.raises(InputError) as caught:
        run_request(request, DemoSettings(max_audio_seconds=8), tmp_path, no_progress)
    assert str(caught.value).startswith("speaker.mp4: the video is 13.9 s long; this server accepts at most 8 s")
