"""Save and load a torch module as a checkpoint folder (config.json + model.safetensors [+ card]).

A model class names its checkpoint and config class; the config travels with the weights, so
`load` rebuilds the same module the weights came from.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from .checkpoint import load_checkpoint, resolve_checkpoint, save_checkpoint


class CheckpointedModule(nn.Module):
    """Mixin for modules built from one config dataclass (with a `from_dict` classmethod)."""

    checkpoint_name: ClassVar[str]
    """Folder name under checkpoints/ of the shipped weights."""
    description: ClassVar[str]
    """What the weights are, for the missing-weights error."""
    config_class: ClassVar[type]

    def save(self, folder: str | Path, card: str | None = None) -> Path:
        tensors = {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}
        return save_checkpoint(folder, asdict(self.config), tensors, card)

    @classmethod
    def load(cls, folder: str | Path | None = None, device: str | torch.device = "cpu"):
        """From a folder written by `save` (None: the shipped checkpoints/<checkpoint_name>)."""
        config, tensors = load_checkpoint(resolve_checkpoint(folder, cls.checkpoint_name), cls.description)
        model = cls(cls.config_class.from_dict(config))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
        return model.to(device).eval()
