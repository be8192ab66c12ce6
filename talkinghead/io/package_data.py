"""Data that ships with the package: the repository's top-level checkpoints/ and demos/ folders are
installed as the packages talkinghead.checkpoints and talkinghead.demos (pyproject.toml, setup.py),
so importlib.resources finds them in a wheel install and in an editable one alike."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def package_data_dir(name: str) -> Path:
    """The folder of the shipped data package talkinghead.<name> ("checkpoints" or "demos")."""
    try:
        # pip installs packages unpacked, so this is a real folder, not a path inside a zip.
        return Path(str(resources.files(f"talkinghead.{name}")))
    except ModuleNotFoundError:
        # A source tree used without (re)installing it (PYTHONPATH=., or an editable install made
        # before these folders became packages): the folder is still beside the package there.
        return _SOURCE_ROOT / name
