"""The config every pipeline is built from: one frozen dataclass equal to its constructor.

`PipelineConfig` holds what all talking-head pipelines share (face analysis, face model,
renderer, device); each pipeline subclasses it with a `motion` field of its own. The config is
saved beside shipped weights (`Pipeline.save_pretrained`), written into every output's
provenance, and changed by YAML files under configs/<pipeline>/ (see talkinghead.config).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..facemodel.face_model import FaceModelConfig


@dataclass(frozen=True)
class PipelineConfig:
    face_backend: str = "mediapipe"
    """Landmark backend (registry name): "mediapipe" (bundled) or "face_alignment"."""
    face_backend_weights: str | None = None
    """Folder with the face backend's weight files, for backends that need them."""
    face_model: FaceModelConfig = field(default_factory=FaceModelConfig)
    renderer: str = "warp"
    """Renderer (registry name); it must take the motion format the pipeline makes."""
    renderer_config: dict[str, Any] = field(default_factory=dict)
    """Changes to the chosen renderer's own config (e.g. {"interpolation": "bilinear"})."""
    device: str = "cpu"
    """Where every model and the renderer run: "cpu", "cuda" or "cuda:N"."""


def check_device(device: str) -> str:
    """`device` if torch can run there, else InputError saying why (an unknown name, or CUDA
    asked for where torch has none)."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"device {device!r} is not one of cpu, cuda, cuda:N") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device}: no CUDA device here (torch {torch.__version__}); use --device cpu")
    if parsed.type not in ("cpu", "cuda"):
        raise InputError(f"device {device}: only cpu and cuda are supported")
    return device


def dotted_parent(config: dict[str, Any], dotted: str) -> tuple[dict[str, Any], str]:
    """(the section of a config dict holding the field `dotted`, e.g. "motion.face.x", its last name)."""
    *parents, last = dotted.split(".")
    for key in parents:
        config = config[key]
    return config, last


def config_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return _jsonable(dataclasses.asdict(config))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
