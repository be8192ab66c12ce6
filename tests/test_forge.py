"""`talkinghead forge`: plans, splits, layouts, metadata, resume and errors, on tiny inputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from talkinghead.cli import main
from talkinghead.errors import InputError
from talkinghead.forge.config import ForgeConfig
from talkinghead.forge.layout import record_file
from talkinghead.forge.plan import make_plan
from talkinghead.forge.runner import run_forge
from talkinghead.forge.sources import Source, file_key, scan
from talkinghead.forge.splits import assign_splits, derived_seed, split_counts
from talkinghead.forge.verify import check_dataset
from talkinghead.io.audio import write_wav
from talkinghead.io.video import probe_video, read_video, write_video
from talkinghead.types import AudioClip, RenderedChunk

from .conftest import DEMO_IMAGE, syllables

AV1M_FIELDS = {"file", "original", "split", "fake_segments", "fps", "visual_fake_segments", "audio_fake_segments",
               "audio_model", "modify_type", "video_frames", "audio_frames"}  # fmt: skip
TINY = dict(pipelines=("baseline",), compressions=("c23", "c40"), max_size=128, preset="veryfast")


def source(name: str, identity: str | None = None) -> Source:
    return Source(Path(f"/in/{name}"), file_key(Path(name).with_suffix("").as_posix()), name, identity or Path(name).stem, identity is not None)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """faces/ada/1.png + faces/bob.png (the astronaut), audio/x.wav + audio/kim/y.wav (0.6 s),
    real/cy.mp4 (0.6 s of the astronaut with speech)."""
    root = tmp_path_factory.mktemp("forge_inputs")
    (root / "faces" / "ada").mkdir(parents=True)
    shutil.copy(DEMO_IMAGE, root / "faces" / "ada" / "1.png")
    shutil.copy(DEMO_IMAGE, root / "faces" / "bob.png")
    (root / "audio" / "kim").mkdir(parents=True)
    write_wav(root / "audio" / "x.wav", AudioClip(syllables(0.6), 16000))
    write_wav(root / "audio" / "kim" / "y.wav", AudioClip(syllables(0.6, rate_hz=3.0), 16000))
    (root / "real").mkdir()
    face = np.asarray(Image.open(DEMO_IMAGE).convert("RGB").resize((128, 128)))
    frames = np.repeat(face[None], 15, axis=0)
    chunk = RenderedChunk(frames=frames, masks=np.zeros(frames.shape[:3], np.uint8), start=0)
    write_video(root / "real" / "cy.mp4", [chunk], fps=25, audio=AudioClip(syllables(0.6), 16000))
    return root


def forge(inputs: Path, out: Path, **config) -> object:
    return run_forge(ForgeConfig(**{**TINY, **config}), faces=inputs / "faces", audio=inputs / "audio",
                     real_videos=inputs / "real", out=out, workers=0, progress=False)  # fmt: skip


# -- plans and splits (no rendering) ------------------------------------------------------------
def test_split_counts_follow_the_shares_and_give_every_split_one():
    assert split_counts(10, (0.7, 0.15, 0.15)) == [7, 2, 1] or split_counts(10, (0.7, 0.15, 0.15)) == [7, 1, 2]
    assert split_counts(3, (0.7, 0.15, 0.15)) == [1, 1, 1]
    assert split_counts(2, (0.7, 0.15, 0.15)) in ([2, 0, 0], [1, 1, 0], [1, 0, 1])
    assert split_counts(5, (1.0, 0.0, 0.0)) == [5, 0, 0]
    assert sum(split_counts(101, (0.6, 0.2, 0.2))) == 101


def test_splits_are_reproducible_from_the_seed_and_change_with_it():
    people = [f"p{i}" for i in range(20)]
    first = assign_splits(people, (0.7, 0.15, 0.15), 3)
    assert first == assign_splits(reversed(people), (0.7, 0.15, 0.15), 3)
    assert sorted(first.values()).count("train") == 14
    assert any(assign_splits(people, (0.7, 0.15, 0.15), seed) != first for seed in range(4, 8))
    assert derived_seed(0, "a") == derived_seed(0, "a") != derived_seed(1, "a")


def test_plan_pairs_faces_with_clips_and_keeps_known_speakers_in_their_split():
    faces = [source(f"f{i}.png") for i in range(6)]
    clips = [source("free.wav"), source("kim/1.wav", "kim"), source("kim/2.wav", "kim")]
    reals = [source("f0/talk.mp4", "f0")]
    plan = make_plan(ForgeConfig(pipelines=("osm", "baseline"), seed=1), faces, clips, reals)
    keys = [job.key for job in plan.jobs]
    assert len(keys) == len(set(keys))
    assert keys[0] == "real/f0-talk" and "osm/f0-talk" in keys and "baseline/f0-talk" in keys
    for job in plan.jobs:
        assert job.split == plan.splits[job.identity]
        if job.audio is not None and job.audio.known:
            assert plan.speaker_splits["kim"] == job.split  # a known voice never crosses splits
    unknown = [job for job in plan.jobs if job.audio is not None and not job.audio.known]
    assert len(unknown) == 2 * len(faces)  # the clip of no known speaker goes with every face
    # the real video's person is the face f0: one identity, one split
    assert plan.splits["f0"] == next(job.split for job in plan.jobs if job.real is not None)


def test_per_face_draws_the_same_clips_for_the_same_seed():
    faces = [source(f"f{i}.png") for i in range(3)]
    clips = [source(f"c{i}.wav") for i in range(6)]
    config = ForgeConfig(pipelines=("baseline",), per_face=2, seed=5)
    first = [job.key for job in make_plan(config, faces, clips, []).jobs]
    assert len(first) == 6 and first == [job.key for job in make_plan(config, faces, clips, []).jobs]
    assert all(job.seed == derived_seed(5, job.video_id) for job in make_plan(config, faces, clips, []).jobs)


@pytest.mark.parametrize(
    ("settings", "needle"),
    [(dict(compressions=("c30",)), "compressions must be"), (dict(splits=(0.5, 0.5, 0.5)), "splits must be"),
     (dict(per_face=0), "per-face"), (dict(pipelines=()), "at least one pipeline"), (dict(seed=-1), "seed")],
)  # fmt: skip
def test_bad_settings_are_input_errors(settings, needle):
    with pytest.raises(InputError, match=needle):
        ForgeConfig(**settings)


def test_scan_names_identities_by_subfolder_and_refuses_clashes(tmp_path):
    (tmp_path / "ada").mkdir()
    for name in ("ada/1.png", "bob.jpg", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    found = scan(tmp_path, (".png", ".jpg"), "face")
    assert [(s.relative, s.identity, s.known) for s in found] == [("ada/1.png", "ada", True), ("bob.jpg", "bob", False)]
    (tmp_path / "bob.png").write_bytes(b"x")
    with pytest.raises(InputError, match="would both be named bob"):
        scan(tmp_path, (".png", ".jpg"), "face")
    with pytest.raises(InputError, match="no face files"):
        scan(tmp_path / "ada", (".webp",), "face")
    with pytest.raises(InputError, match="folder not found"):
        scan(tmp_path / "missing", (".png",), "face")


# -- a real (tiny) dataset ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataset(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("dataset")
    report = forge(inputs, out, frames_per_video=2)
    return out, report


def test_dataset_layout_metadata_and_checks(dataset):
    out, report = dataset
    splits = json.loads((out / "splits.json").read_text())
    # kim's clip goes only to faces of kim's split; x (no known speaker) to both faces
    with_kim = [face for face in ("ada", "bob") if splits["identities"][face] == splits["speakers"]["kim"]]
    assert report.ok and len(report.made) == 2 + 2 + len(with_kim)  # cy's original and fake, the pairs
    entries = json.loads((out / "metadata.json").read_text())
    assert len(entries) == 2 * len(report.made) and all(AV1M_FIELDS <= set(e) for e in entries)
    assert check_dataset(out) == []
    fake = next(e for e in entries if e["file"] == "manipulated_sequences/baseline/c23/videos/ada-1__x.mp4")
    assert fake["modify_type"] == "visual_modified" and fake["label"] == "fake" and fake["original"] is None
    assert fake["visual_fake_segments"] == fake["fake_segments"] == [[0.0, round(fake["video_frames"] / fake["fps"], 3)]]
    assert fake["source_identity"] == "ada" and fake["audio_source"] == "audio/x.wav" and fake["audio_speaker"] is None
    assert fake["mask"] == "manipulated_sequences/baseline/masks/videos/ada-1__x.mkv"
    assert fake["provenance"]["pipeline"] == "baseline" and fake["provenance"]["seed"] == fake["seed"]
    assert fake["audio_frames"] == 9600 and fake["video_frames"] == 15
    assert probe_video(out / fake["mask"]).video_codec == "ffv1"
    assert len(fake["frames"]) == 2 and all((out / f).is_file() for f in fake["frames"] + fake["mask_frames"])
    paired = next(e for e in entries if e["file"] == "manipulated_sequences/baseline/c40/videos/cy.mp4")
    assert paired["original"] == "original_sequences/real/c40/videos/cy.mp4"
    real = next(e for e in entries if e["file"] == paired["original"])
    assert real["modify_type"] == "real" and real["fake_segments"] == [] and real["mask"] is None
    assert real["split"] == paired["split"] and real["video_frames"] == 15


def test_deepfakebench_json_splits_json_and_card(dataset):
    out, _ = dataset
    bench = json.loads((out / "deepfakebench.json").read_text())["talkinghead-forge"]
    assert set(bench) == {"talkinghead-forge-real", "talkinghead-forge-baseline"}
    videos = [v for split in bench["talkinghead-forge-baseline"].values() for c in split.values() for v in c.values()]
    assert len(videos) == len(json.loads((out / "metadata.json").read_text())) - 2 and all(v["label"] == "talkinghead-forge-baseline" and len(v["frames"]) == 2 for v in videos)
    splits = json.loads((out / "splits.json").read_text())
    assert set(splits["identities"]) == {"ada", "bob", "cy"} and splits["speakers"]["kim"] in ("train", "val", "test")
    card = (out / "README.md").read_text()
    assert "## Intended use" in card and "c40 (H.264 CRF 40)" in card and "| split | method |" in card
    assert json.loads((out / "errors.json").read_text()) == []


def test_rerun_redoes_nothing_and_a_missing_file_redoes_only_its_job(dataset, inputs):
    out, first = dataset
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}
    report = forge(inputs, out, frames_per_video=2)
    assert report.made == [] and sorted(report.skipped) == sorted(first.made)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")} == stamps
    gone = out / "manipulated_sequences/baseline/c40/videos/bob__x.mp4"
    gone.unlink()
    (out / "manipulated_sequences/baseline/c23/videos/.bob__x.partial-99.mp4").write_bytes(b"half")
    report = forge(inputs, out, frames_per_video=2)
    assert report.made == ["baseline/bob__x"] and gone.is_file()
    assert check_dataset(out) == []


def test_changed_settings_remake_the_jobs(dataset, inputs, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(dataset[0], out)
    report = forge(inputs, out, compressions=("c23",), frames_per_video=2)
    assert len(report.made) == len(dataset[1].made)  # the compressions are part of every job's hash


def test_a_bad_input_is_recorded_and_the_rest_goes_on(inputs, tmp_path):
    faces = tmp_path / "faces"
    shutil.copytree(inputs / "faces", faces)
    Image.fromarray(np.full((96, 96, 3), 120, np.uint8)).save(faces / "wall.png")
    report = run_forge(ForgeConfig(**TINY), faces=faces, audio=inputs / "audio", out=tmp_path / "out", workers=0, progress=False)
    assert "baseline/wall__x" in [f["job"] for f in report.failures]
    errors = json.loads((tmp_path / "out" / "errors.json").read_text())
    assert errors and all(e["job"].startswith("baseline/wall__") and "face" in e["message"] and not e["bug"] for e in errors)
    assert len(report.made) >= 2 and check_dataset(tmp_path / "out") == []


def test_killed_run_resumes_without_redoing_or_partial_files(inputs, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "talkinghead", "forge", "--faces", str(inputs / "faces"), "--audio", str(inputs / "audio"),
               "--out", str(out), "--pipelines", "baseline", "--compression", "c23", "--max-size", "96", "--workers", "0", "--no-progress"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    records = out / ".forge" / "jobs" / "baseline"
    while process.poll() is None and time.time() < deadline and len(list(records.glob("*.json")) if records.is_dir() else []) < 1:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = {p.name: p.stat().st_mtime_ns for p in records.glob("*.json")}
    assert 1 <= len(before) < 4, "the kill came too late to test resuming"
    assert subprocess.run(command, capture_output=True).returncode == 0
    after = {p.name: p.stat().st_mtime_ns for p in records.glob("*.json")}
    assert len(after) == 4 and all(after[name] == stamp for name, stamp in before.items())
    assert check_dataset(out) == []


def test_cli_errors_exit_2_before_any_work(inputs, tmp_path, capsys):
    base = ["forge", "--faces", str(inputs / "faces"), "--audio", str(inputs / "audio"), "--out", str(tmp_path / "o"), "--workers", "0"]
    for extra, needle in [(["--compression", "c10"], "compressions must be"), (["--pipelines", "opt"], "opt pipeline needs"),
                          (["--pipelines", "nope"], "nope"), (["--splits", "1,2"], "three shares")]:  # fmt: skip
        assert main(base + extra) == 2
        assert needle in capsys.readouterr().err
    assert main(["forge", "--faces", str(tmp_path / "none"), "--audio", str(inputs / "audio"), "--out", str(tmp_path / "o")]) == 2
    assert "face folder not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_check_reports_a_tampered_dataset(dataset, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(dataset[0], out)
    entries = json.loads((out / "metadata.json").read_text())
    entries[0]["video_frames"] += 1
    entries[1]["split"] = "test" if entries[1]["split"] != "test" else "train"
    (out / "metadata.json").write_text(json.dumps(entries))
    problems = check_dataset(out)
    assert any("frames decoded" in p for p in problems) and any(" is in " in p for p in problems)
    assert main(["forge", "--check", str(out)]) == 1


def test_ray_workers_make_the_same_dataset(inputs, tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "ray"
    report = run_forge(ForgeConfig(**{**TINY, "compressions": ("c23",)}), faces=inputs / "faces", audio=inputs / "audio",
                       out=out, workers=2, progress=False)  # fmt: skip
    assert report.ok and report.executor == "ray" and len(report.made) >= 2
    workers = {json.loads((out / ".forge/jobs/baseline" / f"{k.split('/')[1]}.json").read_text())["worker"] for k in report.made}
    assert len(workers) == 2 and os.getpid() not in workers  # the jobs ran on both actors
    assert check_dataset(out) == []
    frames = [len(list(read_video(out / e["file"]))) for e in json.loads((out / "metadata.json").read_text())]
    assert frames == [15] * len(report.made)
