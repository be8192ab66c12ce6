"""The shipped weights and demo inputs are package data (talkinghead.checkpoints and
talkinghead.demos): found through importlib.resources, overridable, and inside a built wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from talkinghead.errors import MissingWeightsError
from talkinghead.io.checkpoint import (
    CARD_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    resolve_checkpoint,
    shipped_checkpoints_dir,
)
from talkinghead.io.package_data import package_data_dir

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("expression_pca", "audio2exp", "osm", "articulation", "audio2exp_v2", "font_renderer", "font_pose", "font_keypoints")
DEMO_FILES = ("astronaut.png", "speech.wav")


def test_data_packages_resolve_through_importlib_resources():
    for name in ("checkpoints", "demos"):
        try:
            found = Path(str(resources.files(f"talkinghead.{name}")))
        except ModuleNotFoundError:
            pytest.fail(f"talkinghead.{name} is not importable: reinstall the package (pip install -e .)", pytrace=False)
        assert found == package_data_dir(name)


def test_shipped_checkpoints_dir_holds_the_shipped_checkpoints(monkeypatch):
    monkeypatch.delenv("TALKINGHEAD_CHECKPOINTS", raising=False)
    folder = shipped_checkpoints_dir()
    for name in SHIPPED:
        for file in (CONFIG_FILE, WEIGHTS_FILE):
            assert (folder / name / file).is_file(), folder / name / file
    assert all((package_data_dir("demos") / name).is_file() for name in DEMO_FILES)


def test_environment_variable_overrides_the_shipped_folder(monkeypatch, tmp_path):
    shutil.copytree(ROOT / "checkpoints" / "osm", tmp_path / "osm")
    monkeypatch.setenv("TALKINGHEAD_CHECKPOINTS", str(tmp_path))
    assert shipped_checkpoints_dir() == tmp_path
    config, tensors = load_checkpoint(resolve_checkpoint(None, "osm"), "osm")
    assert config and tensors
    with pytest.raises(MissingWeightsError, match="TALKINGHEAD_CHECKPOINTS"):
        load_checkpoint(resolve_checkpoint(None, "audio2exp"), "audio2exp")


def test_wheel_contains_the_shipped_data(tmp_path):
    # Built from a copy so that no build/ folder is left in (or reused from) the checkout.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("talkinghead", "checkpoints", "demos"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "wheels"), str(src)]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("talkinghead-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SHIPPED:
        # Every file of a shipped checkpoint, so that a new kind of file missing from
        # pyproject.toml's package-data globs is caught here.
        files = {f.name for f in (ROOT / "checkpoints" / name).iterdir()} | {CONFIG_FILE, WEIGHTS_FILE, CARD_FILE}
        for file in files:
            assert f"talkinghead/checkpoints/{name}/{file}" in names
    for file in DEMO_FILES:
        assert f"talkinghead/demos/{file}" in names
    assert "talkinghead/demos/make_examples.py" not in names  # a repository tool, not package code
