"""Public entry points: `generate()` and `load_pipeline()`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import override
from .errors import InputError
from .registry import DEFAULT_PIPELINE, PIPELINES


def load_pipeline(
    name: str | Path = DEFAULT_PIPELINE,
    *,
    config: Any = None,
    overrides: dict[str, Any] | None = None,
    device: str | None = None,
):
    """Build a pipeline by its registry name (see `talkinghead info`), or from a folder written
    by `Pipeline.save_pretrained`.

    config: the pipeline's config dataclass (default: its defaults, or the folder's).
    overrides: changes to that config as nested mappings (what a YAML file under configs/ holds).
    device: "cpu", "cuda", ... (the config's `device`).
    """
    folder = Path(name) if isinstance(name, Path) or (isinstance(name, str) and name not in PIPELINES and Path(name).is_dir()) else None
    if folder is not None:
        name, saved = _saved_pipeline(folder)
        overrides = {**saved, **(overrides or {})}
    cls = PIPELINES.get(str(name))
    config = config if config is not None else cls.config_class()
    if overrides:
        config = override(config, overrides, f"{name} config")
    if device is not None:
        config = override(config, {"device": device}, f"{name} config")
    return cls(config)


def _saved_pipeline(folder: Path) -> tuple[str, dict[str, Any]]:
    """(pipeline name, config with its checkpoint folders made absolute) of a saved pipeline."""
    from .pipelines.base import PIPELINE_FILE
    from .pipelines.config import dotted_parent

    try:
        record = json.loads((folder / PIPELINE_FILE).read_text())
        name, config = record["pipeline"], record["config"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{folder}: not a saved talkinghead pipeline ({exc.__class__.__name__}: {exc})") from None
    for dotted in PIPELINES.get(name).checkpoint_fields.values():
        section, last = dotted_parent(config, dotted)
        if section.get(last) is not None and not Path(section[last]).is_absolute():
            section[last] = str(folder / section[last])
    return name, config


def generate(*inputs: Any, pipeline: str = DEFAULT_PIPELINE, seed: int | None = None, device: str | None = None, **options: Any):
    """One call from a photo and a speech clip (the pipeline's inputs, in order) to a video.

    >>> result = generate("face.jpg", "speech.wav", seed=0)
    >>> result.save("out.mp4")
    """
    with load_pipeline(pipeline, device=device) as pipe:
        return pipe.generate(*inputs, seed=seed, **options)
