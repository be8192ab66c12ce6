"""Checkpoints: a folder with config.json (constructor arguments), model.safetensors (tensors)
and CARD.md (data, command, measured quality), as in checkpoints/README.md."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import MissingWeightsError
from .package_data import package_data_dir

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "CARD.md"


def shipped_checkpoints_dir() -> Path:
    """Where the project's own weights live: $TALKINGHEAD_CHECKPOINTS, or the package
    talkinghead.checkpoints (the repository's checkpoints/ folder, installed with the package)."""
    override = os.environ.get("TALKINGHEAD_CHECKPOINTS")
    return Path(override) if override else package_data_dir("checkpoints")


def resolve_checkpoint(path: str | Path | None, name: str) -> Path:
    """A user-given checkpoint folder, or the shipped one called `name`."""
    return Path(path) if path else shipped_checkpoints_dir() / name


def save_checkpoint(folder: str | Path, config: dict, tensors: dict[str, np.ndarray], card: str | None = None) -> Path:
    """Write config.json + model.safetensors (+ CARD.md) into `folder`, replacing it atomically."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(staging / WEIGHTS_FILE))
        if card is not None:
            (staging / CARD_FILE).write_text(card)
        elif (folder / CARD_FILE).exists():
            shutil.copy(folder / CARD_FILE, staging / CARD_FILE)
        staging.chmod(0o755)  # mkdtemp makes it private; checkpoints are shared files
        for file in staging.iterdir():
            file.chmod(0o644)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def load_checkpoint(folder: str | Path, what: str) -> tuple[dict, dict[str, np.ndarray]]:
    """(config, tensors) from a checkpoint folder; MissingWeightsError naming `what` if absent."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    missing = [f for f in (CONFIG_FILE, WEIGHTS_FILE) if not (folder / f).is_file()]
    if missing:
        raise MissingWeightsError(
            f"{what}: {', '.join(missing)} not found in {folder}. The shipped weights install with the "
            f"package (talkinghead.checkpoints; reinstall it if they are missing); set "
            f"TALKINGHEAD_CHECKPOINTS to use another folder of checkpoints, or train your own with "
            f"`talkinghead train` and pass its --out folder."
        )
    config = json.loads((folder / CONFIG_FILE).read_text())
    return config, load_file(str(folder / WEIGHTS_FILE))
