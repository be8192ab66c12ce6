"""An optional perceptual loss for training the FONT renderer: distances between VGG-19
features of the output and the real frame, from ImageNet weights the user supplies.

The project ships no such weights and downloads nothing. Pass the path of torchvision's VGG-19
state dict (the file `vgg19-dcbb9e9d.pth`, or the same tensors as .safetensors):

    talkinghead train font-renderer ... --perceptual-weights /path/to/vgg19.pth

The layer layout is VGG-19's, so torchvision's `features.N.*` keys load as they are. Only the
layers up to relu4_4 are built and used.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ...errors import MissingWeightsError

# VGG-19 up to conv4_4: channel counts, "M" a 2x max-pool (the order of torchvision's features).
LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg_features() -> tuple[nn.Sequential, list[int]]:
    """VGG-19's feature layers up to relu4_4, and the indices of the ReLUs whose outputs are
    compared (the last ReLU before each pool, and relu4_4)."""
    layers: list[nn.Module] = []
    taps, channels = [], 3
    for item in LAYOUT:
        if item == "M":
            taps.append(len(layers) - 1)
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
            channels = item
    taps.append(len(layers) - 1)
    return nn.Sequential(*layers), taps


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(
            f"perceptual loss: no VGG-19 weights at {path}. Pass the path of torchvision's VGG-19 "
            "state dict (vgg19-dcbb9e9d.pth) with --perceptual-weights, or train without it."
        )
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


class PerceptualLoss(nn.Module):
    """Mean L1 distance of VGG-19 features over four depths; images (B, 3, H, W) in [-0.5, 0.5]."""

    def __init__(self, weights_path: str | Path):
        super().__init__()
        self.features, self.taps = vgg_features()
        state = read_weights(weights_path)
        own = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        wanted = set(self.features.state_dict())
        missing = wanted - set(own)
        if missing:
            raise MissingWeightsError(f"perceptual loss: {weights_path} is not a VGG-19 state dict (no {sorted(missing)[0]})")
        self.features.load_state_dict({k: own[k] for k in wanted})
        self.features.requires_grad_(False).eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def _taps(self, image: torch.Tensor) -> list[torch.Tensor]:
        x, out = (image + 0.5 - self.mean) / self.std, []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            real = self._taps(target)
        return sum((a - b).abs().mean() for a, b in zip(self._taps(output), real)) / len(real)
