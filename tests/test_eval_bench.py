"""The bench's manifest, table and plots on small made-up inputs (the full run is slow)."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import InputError
from talkinghead.eval.manifest import read_manifest, resolve
from talkinghead.io.audio import write_wav
from talkinghead.types import AudioClip

from .conftest import DEMO_IMAGE, DEMO_SPEECH


def test_csv_and_yaml_manifests(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    csv_path = tmp_path / "m.csv"
    csv_path.write_text(f"image,audio,reference\n{DEMO_IMAGE},a.wav,\n")
    rows = read_manifest(csv_path)
    assert len(rows) == 1 and rows[0].name == "astronaut"
    assert rows[0].audio == str(tmp_path / "a.wav") and rows[0].reference is None
    assert not rows[0].reconstruction
    yaml_path = tmp_path / "m.yaml"
    yaml_path.write_text(f"- name: ast\n  image: {DEMO_IMAGE}\n  audio: {DEMO_SPEECH}\n- reference: a.wav\n")
    rows = read_manifest(yaml_path)
    assert [r.name for r in rows] == ["ast", "a"] and rows[1].reconstruction


@pytest.mark.parametrize(
    "text, needle",
    [
        ("image,audio\n", "no rows"),
        ("image,audio,speaker\nx.png,y.wav,z\n", "unknown columns"),
        ("image,audio\nmissing.png,y.wav\n", "not found"),
        ("audio\ny.wav\n", "needs an image"),
    ],
)
def test_bad_manifests(tmp_path, text, needle):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=needle):
        read_manifest(path)


def test_reconstruction_row_takes_the_first_frame(tmp_path):
    from talkinghead.io.image import load_image
    from talkinghead.io.video import write_video
    from talkinghead.types import RenderedChunk

    frames = np.zeros((3, 32, 32, 3), np.uint8)
    frames[0, :, :16] = 255  # only the first frame is half white
    video = tmp_path / "real.mp4"
    write_video(video, [RenderedChunk(frames, np.zeros((3, 32, 32), np.uint8), 0)], fps=25.0,
                audio=AudioClip(np.zeros(2000, np.float32), 16000))  # fmt: skip
    manifest = tmp_path / "m.csv"
    manifest.write_text("reference\nreal.mp4\n")
    row = resolve(read_manifest(manifest)[0], tmp_path)
    image = load_image(row.image)
    assert image[:, :12].mean() > 200 and image[:, 20:].mean() < 50
    assert row.audio == row.reference == str(video)


def _results():
    means = {"identity_distance": 0.2, "psnr": None, "sync_r": 0.7, "pose_std_yaw": 2.0, "pose_std_pitch": 1.0,
             "pose_speed_mean": 10.0, "blinks_per_min": 12.0, "jitter": 0.01, "background_change": 0.5,
             "mouth_silent": 0.01, "pose_diversity": 1.2}  # fmt: skip
    return {"machine": "test", "settings": {"pipelines": ["baseline"], "seeds": [0, 1]},
            "pipelines": {"baseline": means}, "real_video": {"pose_std_yaw": [1.0, 3.0], "sync_r": [0.1, 0.6]}}  # fmt: skip


def test_markdown_table_has_pipelines_and_a_real_row():
    from talkinghead.eval.table import markdown_table

    table = markdown_table(_results())
    lines = table.splitlines()
    assert lines[0].startswith("| pipeline | identity | PSNR dB")
    baseline = next(line for line in lines if line.startswith("| baseline |"))
    assert "| 0.200 |" in baseline and "| - |" in baseline  # PSNR missing
    real = next(line for line in lines if line.startswith("| real video |"))
    assert "1.00 to 3.00" in real and "0.100 to 0.600" in real


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    from talkinghead.eval.evaluate import FrameSeries
    from talkinghead.eval.plots import plot_bars, plot_mouth_vs_audio, plot_pose_curves

    t = np.arange(100)
    series = FrameSeries(fps=25.0, mouth=np.abs(np.sin(t / 5)) * 0.2, energy=-30 + 10 * np.sin(t / 5),
                         voiced=np.sin(t / 5) > 0, poses=np.stack([np.sin(t / 9)] * 3, 1), eye_ratio=np.full(100, 0.3))  # fmt: skip
    plot_mouth_vs_audio(series, tmp_path / "mouth.png", title="test")
    plot_pose_curves({"seed 0": series, "seed 1": series}, tmp_path / "pose.png", title="test")
    plot_bars(_results(), tmp_path / "bars.png")
    for name in ("mouth.png", "pose.png", "bars.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_generates_through_the_batch_runner(tmp_path, monkeypatch):
    """One pipeline load for every input and seed; a failing input is listed, the rest evaluated.
    (The evaluation is stubbed: the full one is the slow test below.)"""
    from PIL import Image

    from talkinghead.eval import bench
    from talkinghead.eval.evaluate import Evaluation, FrameSeries
    from talkinghead.pipelines.base import TalkingHeadPipeline

    from .conftest import syllables

    built, init = [], TalkingHeadPipeline.__init__
    monkeypatch.setattr(TalkingHeadPipeline, "__init__", lambda self, config=None: (built.append(self.name), init(self, config))[1])

    def evaluation(video, **kwargs):
        poses = np.random.default_rng(sum(map(ord, str(video)))).normal(size=(25, 3))  # differs per seed
        series = FrameSeries(fps=25.0, mouth=np.zeros(25), energy=None, voiced=None, poses=poses, eye_ratio=np.zeros(25))
        return Evaluation(summary={"frames": 25, "seconds": 0.0, "sync_r": 0.5}, series=series)

    monkeypatch.setattr(bench, "evaluate_video", evaluation)
    monkeypatch.setattr(bench, "write_outputs", lambda *args, **kwargs: None)
    write_wav(tmp_path / "a.wav", AudioClip(syllables(1.0), 16000))
    Image.fromarray(np.full((240, 240, 3), 120, np.uint8)).save(tmp_path / "wall.png")
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"image,audio\n{DEMO_IMAGE},a.wav\nwall.png,a.wav\n")
    results = bench.run_bench(str(manifest), tmp_path / "out", bench.BenchConfig(seeds=(0, 1)), log=lambda line: None)
    assert built == ["baseline"]
    assert [(r["input"], r["seed"]) for r in results["runs"]] == [("astronaut", 0), ("astronaut", 1)]
    assert all(r["generate_seconds"] > 0 and r["seconds_per_audio_second"] > 0 for r in results["runs"])
    assert [f["name"] for f in results["failed"]] == ["wall_baseline_s0", "wall_baseline_s1"]
    assert results["pipelines"]["baseline"]["pose_diversity"] > 0
    assert (tmp_path / "out" / "videos" / "astronaut_baseline_s1.json").is_file()


@pytest.mark.slow
def test_bench_runs_the_baseline(tmp_path):
    """The whole bench: two seeds of the baseline on the astronaut with 2 s of speech."""
    import json

    from talkinghead.cli import main
    from talkinghead.io.audio import load_audio

    clip = load_audio(DEMO_SPEECH)
    write_wav(tmp_path / "short.wav", AudioClip(clip.samples[: 2 * clip.sample_rate], clip.sample_rate))
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"image,audio\n{DEMO_IMAGE},short.wav\n")
    out = tmp_path / "out"
    assert main(["bench", str(manifest), "--seeds", "0", "1", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(results["runs"]) == 2 and results["pipelines"]["baseline"]["pose_diversity"] > 0
    assert "| real video |" in (out / "table.md").read_text()
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["metrics.png", "mouth_audio_astronaut_baseline.png", "pose_astronaut.png"]
