"""The command line built from the pipelines' declarations: per-pipeline --help, --dry-run,
--json with provenance, --renderer and the renderer check, the `listen` command."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from talkinghead.cli import main
from talkinghead.errors import InputError
from talkinghead.io.audio import write_wav
from talkinghead.pipelines.baseline import BaselinePipeline
from talkinghead.pipelines.inputs import ListenerInputs, TalkingHeadInputs
from talkinghead.registry import PIPELINES, RENDERERS
from talkinghead.render.warp import WarpRenderer
from talkinghead.types import AudioClip

from .conftest import DEMO_IMAGE, syllables


@pytest.fixture
def audio(tmp_path):
    path = tmp_path / "speech.wav"
    write_wav(path, AudioClip(syllables(1.0), 16000))
    return str(path)


def help_text(argv, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_help_lists_the_chosen_pipelines_inputs_and_options(capsys):
    osm = help_text(["generate", "--help"], capsys)
    baseline = help_text(["generate", "--pipeline", "baseline", "--help"], capsys)
    for text in (osm, baseline):
        for needle in ("--image", "--audio", "--fps", "--still", "--expression-scale", "--face-index", "--max-size", "--renderer", "--device", "--dry-run"):
            assert needle in text
    assert "--diversity" in osm and "--diversity" not in baseline
    assert "options of the baseline pipeline" in baseline


def test_dry_run_checks_everything_and_writes_nothing(tmp_path, audio, capsys):
    out = tmp_path / "o.mp4"
    assert main(["generate", "--image", str(DEMO_IMAGE), "--audio", audio, "--out", str(out), "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and report["pipeline"] == "osm" and report["frames"] == 25
    assert report["config"]["renderer"] == "warp" and not out.exists()


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--fps", "0"], "fps must be between"),
        (["--diversity", "9"], "diversity must be between"),
        (["--device", "tpu"], "device"),
        (["--renderer", "nope"], "unknown renderer 'nope'"),
        (["--seed", "-1"], "seed must be between 0 and"),
    ],
)
def test_dry_run_refuses_bad_options_and_config(tmp_path, audio, capsys, extra, needle):
    code = main(["generate", "--image", str(DEMO_IMAGE), "--audio", audio, "--out", str(tmp_path / "o.mp4"), "--dry-run", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1


def test_json_summary_carries_the_provenance(tmp_path, audio, capsys):
    out = tmp_path / "o.mp4"
    assert main(["generate", "--pipeline", "baseline", "--image", str(DEMO_IMAGE), "--audio", audio,
                 "--out", str(out), "--seed", "5", "--fps", "10", "--json", "--no-progress"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["video"] == str(out) and summary["frames"] == 10 and summary["seed"] == 5
    assert summary["provenance"]["pipeline"] == "baseline" and summary["provenance"]["options"]["fps"] == 10


class KeypointRenderer(WarpRenderer):
    """A stand-in neural renderer that takes keypoints, not basis coefficients."""

    accepts = "keypoints"


def test_a_renderer_must_take_the_pipelines_motion(monkeypatch):
    from talkinghead.api import load_pipeline

    monkeypatch.setitem(RENDERERS._loaded, "keypoint_net", KeypointRenderer)
    with pytest.raises(InputError, match="renderer keypoint_net takes keypoints motion, but the osm pipeline makes basis_coefficients"):
        load_pipeline("osm", overrides={"renderer": "keypoint_net"})


def test_renderer_flag_chooses_a_registered_renderer(monkeypatch, tmp_path, audio, capsys):
    class Copy(WarpRenderer):
        pass

    monkeypatch.setitem(RENDERERS._loaded, "warp_copy", Copy)
    out = tmp_path / "o.mp4"
    assert main(["generate", "--image", str(DEMO_IMAGE), "--audio", audio, "--out", str(out), "--renderer", "warp_copy",
                 "--fps", "10", "--json", "--no-progress"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["provenance"]["config"]["renderer"] == "warp_copy"


@dataclass(frozen=True)
class FakeListenerOptions:
    fps: float = 10.0


class FakeListener(BaselinePipeline):
    """A stand-in listener pipeline: the speaker video's sound drives a baseline face."""

    name = "fake_listener"
    kind = "listener"
    inputs_class = ListenerInputs

    def run(self, inputs, *, seed, options):
        talking = TalkingHeadInputs(image=inputs.image, audio=inputs.speaker_video)
        return super().run(talking, seed=seed, options=options)


@pytest.fixture
def speaker_video(tmp_path):
    from talkinghead.io.video import write_video
    from talkinghead.types import RenderedChunk

    frames = np.zeros((10, 64, 64, 3), np.uint8)
    path = tmp_path / "speaker.mp4"
    write_video(path, [RenderedChunk(frames, np.zeros((10, 64, 64), np.uint8), 0)], fps=10.0, audio=AudioClip(syllables(1.0), 16000))
    return str(path)


def test_listen_runs_listener_pipelines_from_their_declaration(monkeypatch, tmp_path, speaker_video, capsys):
    monkeypatch.setitem(PIPELINES._loaded, "fake_listener", FakeListener)
    listen_help = help_text(["listen", "--help"], capsys)
    assert "--speaker-video" in listen_help and "--audio" not in listen_help
    out = tmp_path / "l.mp4"
    assert main(["listen", "--image", str(DEMO_IMAGE), "--speaker-video", speaker_video, "--out", str(out),
                 "--fps", "10", "--seed", "1", "--no-progress"]) == 0  # fmt: skip
    assert out.stat().st_size > 0 and "seed 1" in capsys.readouterr().out


def test_listen_without_a_listener_pipeline_and_generate_with_one(monkeypatch, tmp_path, speaker_video, capsys):
    argv = ["--image", str(DEMO_IMAGE), "--speaker-video", speaker_video, "--out", str(tmp_path / "l.mp4")]
    for name in [n for n in PIPELINES.names() if PIPELINES.get(n).kind == "listener"]:  # as if mfr were not installed
        monkeypatch.delitem(PIPELINES._lazy, name, raising=False)
        monkeypatch.delitem(PIPELINES._loaded, name, raising=False)
    assert main(["listen", *argv]) == 2
    assert "no listener pipeline is installed yet" in capsys.readouterr().err
    monkeypatch.setitem(PIPELINES._loaded, "fake_listener", FakeListener)
    assert main(["generate", "--pipeline", "fake_listener", *argv]) == 2
    assert "use `talkinghead listen`" in capsys.readouterr().err


SPOKEN = ("Hello, and welcome to talking head. One photo and one voice clip are all it needs. "
          "Watch the lips follow every word, while the head moves and the eyes blink.")  # demos/make_examples.py


def test_mouth_option_and_transcript(tmp_path):
    """--mouth picks what moves the lips per call; a transcript is aligned for the content mouth."""
    from talkinghead.api import load_pipeline
    from talkinghead.pipelines.inputs import TalkingHeadInputs

    from .conftest import DEMO_SPEECH

    (tmp_path / "words.txt").write_text(SPOKEN + "\n")
    with load_pipeline("baseline") as pipe:
        plain = TalkingHeadInputs(str(DEMO_IMAGE), str(DEMO_SPEECH))
        content = pipe(plain, seed=0, fps=10.0, still=True)
        aligned = pipe(TalkingHeadInputs(str(DEMO_IMAGE), str(DEMO_SPEECH), transcript=str(tmp_path / "words.txt")), seed=0, fps=10.0, still=True)
        loudness = pipe(plain, seed=0, fps=10.0, still=True, mouth="loudness")
    assert content.motion.meta["mouth"] == "content" and loudness.motion.meta["mouth"] == "loudness"
    assert "articulation" in content.provenance.checkpoints and "articulation" not in loudness.provenance.checkpoints
    assert aligned.provenance.inputs["transcript"].endswith("words.txt")
    assert not np.allclose(content.motion.expression, aligned.motion.expression)  # other phone timings
    assert not np.allclose(content.motion.expression, loudness.motion.expression)
    assert np.corrcoef(content.motion.expression[:, 0], aligned.motion.expression[:, 0])[0, 1] > 0.5  # the same words


def test_mouth_flag_choices(tmp_path, audio, capsys):
    assert "--mouth {content,audio2exp-v2,audio2exp,loudness}" in help_text(["generate", "--help"], capsys)
    assert main(["generate", "--image", str(DEMO_IMAGE), "--audio", audio, "--out", str(tmp_path / "o.mp4"),
                 "--mouth", "loudness", "--transcript", "hello", "--dry-run"]) == 0  # fmt: skip
