"""The batch runner: manifests of inputs and options -> many videos, each pipeline loaded once,
bad rows reported while the others finish, finished rows skipped on rerun.

Every video here is 1 s of audio at 10 fps, so the whole file runs in seconds.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from talkinghead.batch import read_manifest, run_batch
from talkinghead.cli import main
from talkinghead.errors import InputError, MissingWeightsError
from talkinghead.io.audio import write_wav
from talkinghead.io.video import probe_video, read_metadata
from talkinghead.pipelines.output import Provenance
from talkinghead.types import AudioClip

from .conftest import DEMO_IMAGE, syllables


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """A folder with face.png (the astronaut), wall.png (no face) and speech.wav (1 s)."""
    folder = tmp_path_factory.mktemp("media")
    shutil.copy(DEMO_IMAGE, folder / "face.png")
    Image.fromarray(np.full((240, 240, 3), 120, np.uint8)).save(folder / "wall.png")
    write_wav(folder / "speech.wav", AudioClip(syllables(1.0), 16000))
    return folder


@pytest.fixture
def pipelines(monkeypatch) -> dict[str, Counter]:
    """Counts of pipeline constructions and closes, by pipeline name."""
    from talkinghead.pipelines.base import TalkingHeadPipeline

    counts = {"built": Counter(), "closed": Counter()}
    build, close = TalkingHeadPipeline.__init__, TalkingHeadPipeline.close

    def counting_init(self, config=None):
        counts["built"][self.name] += 1
        build(self, config)

    def counting_close(self):
        counts["closed"][self.name] += 1
        close(self)

    monkeypatch.setattr(TalkingHeadPipeline, "__init__", counting_init)
    monkeypatch.setattr(TalkingHeadPipeline, "close", counting_close)
    return counts


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def sidecar(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


# -- manifests --------------------------------------------------------------------------------
def test_csv_rows_are_typed_named_and_seeded(media, tmp_path):
    manifest = write_csv(media / "m.csv", [
        "image,audio,fps,still,diversity,seed,name,out",
        "face.png,speech.wav,10,,0.5,,,",
        "face.png,speech.wav,10,yes,,7,,",
        "face.png,speech.wav,,false,,,calm,",
        f"face.png,{media / 'speech.wav'},,,,,,clips/x.mp4",
        "face.png,speech.wav,,,,,,",
    ])  # fmt: skip
    rows = read_manifest(manifest, out=tmp_path, seed=5)
    assert [r.name for r in rows] == ["face_speech", "face_speech_2", "calm", "x", "face_speech_3"]
    assert [r.seed for r in rows] == [5, 7, 7, 8, 9]  # --seed + the row's index, unless given
    assert rows[0].options == {"fps": 10.0, "diversity": 0.5} and isinstance(rows[0].options["fps"], float)
    assert rows[1].options == {"fps": 10.0, "still": True} and rows[2].options == {"still": False}
    assert rows[0].inputs.image == str(media / "face.png") and rows[0].pipeline == "osm"
    assert rows[0].output == tmp_path / "face_speech.mp4" and rows[3].output == media / "clips" / "x.mp4"
    assert rows[0].written == {"image": "face.png", "audio": "speech.wav"}


def test_jsonl_and_yaml_rows(media, tmp_path):
    lines = [{"image": "face.png", "audio": "speech.wav", "fps": 10, "diversity": "0.2"},
             {"pipeline": "baseline", "image": "face.png", "audio": "speech.wav", "still": True, "seed": 3}]  # fmt: skip
    manifest = media / "m.jsonl"
    manifest.write_text("\n".join(map(json.dumps, lines)) + "\n\n")
    rows = read_manifest(manifest, out=tmp_path, pipeline="osm")
    assert [(r.pipeline, r.seed) for r in rows] == [("osm", 0), ("baseline", 3)]
    assert rows[0].options == {"fps": 10.0, "diversity": 0.2} and rows[1].options == {"still": True}
    yaml_manifest = media / "m.yaml"
    yaml_manifest.write_text("- image: face.png\n  audio: speech.wav\n  fps: 12\n  name: a\n")
    (row,) = read_manifest(yaml_manifest, out=tmp_path)
    assert (row.name, row.options) == ("a", {"fps": 12.0})


def test_the_row_hash_follows_what_makes_the_video(media, tmp_path):
    rows = read_manifest(write_csv(media / "h.csv", [
        "image,audio,fps,seed", "face.png,speech.wav,,1", "face.png,speech.wav,25,1", "face.png,speech.wav,10,1",
    ]), out=tmp_path)  # fmt: skip
    default, explicit, other = (row.digest() for row in rows)
    assert default == explicit != other  # an empty cell is the default value
    assert rows[0].digest({"renderer": "warp"}) != default


@pytest.mark.parametrize(
    "lines, needle",
    [
        (["image,audio,speaker", "face.png,speech.wav,x"], "row 1: unknown column(s) 'speaker'; the osm pipeline takes image, audio, transcript, fps"),
        (["image,audio,fps", "face.png,speech.wav,10", "face.png,speech.wav,ten"], "row 2: fps: expected float, got 'ten'"),
        (["image,audio,fps", "face.png,speech.wav,500"], "row 1: fps must be between 1 and 120"),
        (["image,audio,still", "face.png,speech.wav,maybe"], "row 1: still: expected true or false"),
        (["image,fps", "face.png,10"], "row 1: missing input(s) audio"),
        (["image,audio,pipeline", "face.png,speech.wav,nope"], "row 1: unknown pipeline 'nope'"),
        (["image,audio,pipeline,diversity", "face.png,speech.wav,baseline,0.5"], "row 1: unknown column(s) 'diversity'; the baseline"),
        (["image,audio,seed", "face.png,speech.wav,-1"], "row 1: seed must be between"),
        (["image,audio,name", "face.png,speech.wav,a/b"], "row 1: name 'a/b' must be a file name"),
        (["image,audio,out", "face.png,speech.wav,x.gif"], "row 1: out"),
        (["image,audio"], "manifest has no rows"),
        (["image,audio", "face.png,speech.wav,extra"], "row 1: more cells than the header"),
    ],
)
def test_bad_manifests_stop_before_any_work(media, tmp_path, lines, needle):
    with pytest.raises(InputError) as caught:
        read_manifest(write_csv(media / "bad.csv", lines), out=tmp_path)
    assert needle in str(caught.value)


def test_an_empty_cell_of_another_pipelines_option_is_fine(media, tmp_path):
    rows = read_manifest(write_csv(media / "mixed.csv", [
        "pipeline,image,audio,diversity", "osm,face.png,speech.wav,0.5", "baseline,face.png,speech.wav,",
    ]), out=tmp_path)  # fmt: skip
    assert [r.options for r in rows] == [{"diversity": 0.5}, {}]


def test_bad_json_line_and_unknown_suffix(media, tmp_path):
    manifest = media / "bad.jsonl"
    manifest.write_text('{"image": "face.png", "audio": "speech.wav"}\n{"image": \n')
    with pytest.raises(InputError, match="line 2: not JSON"):
        read_manifest(manifest, out=tmp_path)
    (media / "m.txt").write_text("image,audio\n")
    with pytest.raises(InputError, match="a manifest is a .csv"):
        read_manifest(media / "m.txt", out=tmp_path)


def test_rows_that_would_overwrite_each_other_stop_the_batch(media, tmp_path, monkeypatch):
    import talkinghead.api

    monkeypatch.setattr(talkinghead.api, "load_pipeline", lambda *a, **k: pytest.fail("nothing may load"))
    rows = read_manifest(write_csv(media / "dup.csv", ["image,audio,name", "face.png,speech.wav,a", "wall.png,speech.wav,a"]), out=tmp_path)
    with pytest.raises(InputError, match="row 2 and row 1 would both write .*a.mp4"):
        run_batch(rows, tmp_path, progress=False)
    assert not (tmp_path / "batch_report.json").exists()


# -- running ----------------------------------------------------------------------------------
def test_batch_loads_each_pipeline_once_reports_bad_rows_and_resumes(media, tmp_path, pipelines):
    header = "pipeline,image,audio,fps,still,diversity,name"
    rows = ["osm,face.png,speech.wav,10,,0.5,varied", "osm,face.png,speech.wav,10,true,,still",
            "baseline,face.png,speech.wav,10,,,base", "osm,wall.png,speech.wav,10,,,wall",
            "baseline,missing.png,speech.wav,10,,,missing"]  # fmt: skip
    out = tmp_path / "out"
    report = run_batch(read_manifest(write_csv(media / "run.csv", [header, *rows]), out=out), out, progress=False)

    assert [o.name for o in report.done] == ["varied", "still", "base"]
    assert {o.name: (o.error, o.bug) for o in report.failed} == {"wall": ("NoFaceError", False), "missing": ("InputError", False)}
    assert pipelines["built"] == {"osm": 1, "baseline": 1} and pipelines["closed"] == {"osm": 1, "baseline": 1}
    assert probe_video(out / "varied.mp4").fps == 10 and report.done[0].seconds > 0
    varied = sidecar(out, "varied")
    assert varied["provenance"]["options"]["diversity"] == 0.5 and varied["provenance"]["pipeline"] == "osm"
    assert varied["row"]["inputs"] == {"image": "face.png", "audio": "speech.wav"} and varied["row"]["seed"] == 0
    assert Provenance.from_tags(read_metadata(out / "varied.mp4")).seed == varied["seed"] == 0
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["row"], e["name"]) for e in errors] == [(4, "wall"), (5, "missing")] and "no face" in errors[0]["message"]
    assert json.loads((out / "batch_report.json").read_text())["counts"] == {"done": 3, "skipped": 0, "failed": 2}

    # Rerun after a "crash" that lost one sidecar, with one row's options changed: only those
    # two are made again, and the baseline pipeline, whose rows are all finished, is not loaded.
    (out / "varied.json").unlink()
    rows[1] = "osm,face.png,speech.wav,12,true,,still"
    report = run_batch(read_manifest(write_csv(media / "run.csv", [header, *rows]), out=out), out, progress=False)
    assert [o.name for o in report.done] == ["varied", "still"] and [o.name for o in report.skipped] == ["base"]
    assert len(report.failed) == 2 and len((out / "errors.jsonl").read_text().splitlines()) == 2
    assert pipelines["built"] == {"osm": 2, "baseline": 2}  # baseline: only for the missing image's row
    assert sidecar(out, "still")["provenance"]["options"]["fps"] == 12 and probe_video(out / "still.mp4").fps == 12


class Exploding:
    """A stand-in pipeline whose every call is a bug."""

    closed = 0

    def __call__(self, inputs, **options):
        raise ZeroDivisionError("division by zero")

    def warm_up(self):
        return self

    def close(self):
        Exploding.closed += 1


def test_a_bug_in_a_row_is_recorded_with_its_type_and_the_batch_goes_on(media, tmp_path, monkeypatch):
    import talkinghead.api

    monkeypatch.setattr(talkinghead.api, "load_pipeline", lambda name, **kwargs: Exploding())
    rows = read_manifest(write_csv(media / "bug.csv", ["image,audio", "face.png,speech.wav", "face.png,speech.wav"]), out=tmp_path)
    report = run_batch(rows, tmp_path, progress=False)
    assert [(o.row, o.error, o.bug) for o in report.failed] == [(1, "ZeroDivisionError", True), (2, "ZeroDivisionError", True)]
    assert "Traceback" in report.failed[0].traceback and Exploding.closed == 1
    assert "ZeroDivisionError" in (tmp_path / "errors.jsonl").read_text()


def test_a_pipeline_that_cannot_load_stops_the_batch_before_any_video(media, tmp_path, monkeypatch):
    import talkinghead.api

    calls = []

    def missing(name, **kwargs):
        calls.append(name)
        raise MissingWeightsError(f"{name}: weights not found")

    monkeypatch.setattr(talkinghead.api, "load_pipeline", missing)
    rows = read_manifest(write_csv(media / "w.csv", ["image,audio", "face.png,speech.wav", "wall.png,speech.wav"]), out=tmp_path / "o")
    with pytest.raises(MissingWeightsError, match="osm: weights not found"):
        run_batch(rows, tmp_path / "o", progress=False)
    assert calls == ["osm"] and not (tmp_path / "o").exists()


# -- the command line -------------------------------------------------------------------------
def test_cli_exit_status_and_messages(media, tmp_path, capsys):
    out = tmp_path / "out"
    manifest = write_csv(media / "cli.csv", ["image,audio,fps,name", "face.png,speech.wav,10,good", "wall.png,speech.wav,10,wall"])
    assert main(["batch", str(manifest), "--out", str(out), "--no-progress", "--masks"]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.strip().splitlines() if not line.startswith("talkinghead: notice:")]  # the noise-burst audio's
    assert errors == ["talkinghead: row 2 (wall) failed: " + str(media / "wall.png") + ": no face found in the image"]
    assert "1 made, 0 already made, 1 failed" in captured.out
    assert (out / "good.mp4").is_file() and (out / "good_masks.mp4").is_file()

    assert main(["batch", str(manifest), "--out", str(out), "--no-progress", "--masks", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"done": 0, "skipped": 1, "failed": 1}

    good_only = write_csv(media / "good.csv", ["image,audio,fps,name", "face.png,speech.wav,10,good"])
    assert main(["batch", str(good_only), "--out", str(out), "--no-progress"]) == 0
    assert "0 made, 1 already made, 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--pipeline", "nope"], "unknown pipeline 'nope'"),
        (["--seed", "-3"], "--seed: seed must be between"),
        (["--renderer", "nope"], "unknown renderer"),
    ],
)
def test_cli_input_errors_exit_2_before_any_work(media, tmp_path, capsys, args, needle):
    manifest = write_csv(media / "ok.csv", ["image,audio", "face.png,speech.wav"])
    assert main(["batch", str(manifest), "--out", str(tmp_path / "o"), "--no-progress", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_cli_bad_manifest_exits_2(media, tmp_path, capsys):
    manifest = write_csv(media / "unknown.csv", ["image,audio,speeed", "face.png,speech.wav,2"])
    assert main(["batch", str(manifest), "--out", str(tmp_path / "o")]) == 2
    assert "row 1: unknown column(s) 'speeed'" in capsys.readouterr().err
    assert main(["batch", str(media / "nothing.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "manifest not found" in capsys.readouterr().err


def test_cli_config_file_must_match_the_rows_pipeline(media, tmp_path, capsys):
    config = tmp_path / "osm.yaml"
    config.write_text("pipeline: osm\n")
    manifest = write_csv(media / "base.csv", ["pipeline,image,audio", "baseline,face.png,speech.wav"])
    assert main(["batch", str(manifest), "--out", str(tmp_path / "o"), "--config", str(config)]) == 2
    assert "written for the osm pipeline, but row 1 uses baseline" in capsys.readouterr().err
