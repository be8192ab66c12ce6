"""ArcFace identity similarity (CSIM) with a user's own iResNet weights.

No ArcFace weights ship with any package here; users who have insightface's PyTorch iResNet
checkpoints (e.g. arcface_torch's ms1mv3 r50 / r100 `backbone.pth`, a plain state dict) pass
the file with --arcface-weights. The depth (18, 34, 50, 100 blocks) is read from the state
dict. Faces are aligned to the usual 112 x 112 five-point template from dlib's landmarks.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from ..errors import InputError, MissingWeightsError, NoFaceError
from . import metrics

HINT = "pass insightface's iResNet PyTorch checkpoint (backbone.pth, a state dict) with --arcface-weights"

# Where the eye centres, nose tip and mouth corners go in the 112 x 112 ArcFace input.
TEMPLATE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                         [41.5493, 92.3655], [70.7299, 92.2041]])  # fmt: skip


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(5, 2) eye centres, nose tip and mouth corners from (68, 2) dlib landmarks."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    return np.stack([landmarks[36:42].mean(0), landmarks[42:48].mean(0), landmarks[30], landmarks[48], landmarks[54]])


def aligned_112(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(112, 112, 3) uint8 face crop on the ArcFace template."""
    matrix = metrics.similarity_transform(five_points(landmarks), TEMPLATE_112)
    return cv2.warpAffine(image, matrix, (112, 112), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def build_iresnet(layers: tuple[int, int, int, int], features: int = 512):
    """An iResNet (Deng et al., ArcFace) with `layers` blocks per stage, in torch."""
    from torch import nn

    class Block(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int):
            super().__init__()
            self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-5)
            self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes, eps=1e-5)
            self.prelu = nn.PReLU(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes, eps=1e-5)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes, eps=1e-5))

        def forward(self, x):
            out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
            return out + (x if self.downsample is None else self.downsample(x))

    class IResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
            self.prelu = nn.PReLU(64)
            inplanes = 64
            for index, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
                stage = [Block(inplanes, planes, 2)] + [Block(planes, planes, 1) for _ in range(blocks - 1)]
                setattr(self, f"layer{index + 1}", nn.Sequential(*stage))
                inplanes = planes
            self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
            self.dropout = nn.Dropout(0.0)
            self.fc = nn.Linear(512 * 7 * 7, features)
            self.features = nn.BatchNorm1d(features, eps=1e-5)

        def forward(self, x):
            x = self.prelu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.features(self.fc(self.dropout(self.bn2(x).flatten(1))))

    return IResNet()


@functools.lru_cache(maxsize=2)
def load_arcface(path: str):
    """The iResNet in eval mode with the weights in `path` (depth read from the state dict)."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise MissingWeightsError(f"ArcFace weights {path} not found; {HINT}") from None
    except Exception as exc:  # torch raises several types for a file that is not a checkpoint
        raise InputError(f"{path}: not a PyTorch state dict ({exc}); {HINT}") from None
    if not isinstance(state, dict) or "fc.weight" not in state:
        raise InputError(f"{path}: no iResNet weights (fc.weight missing); {HINT}")
    layers = tuple(len({k.split(".")[1] for k in state if k.startswith(f"layer{i}.")}) for i in range(1, 5))
    model = build_iresnet(layers, features=state["fc.weight"].shape[0])
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise InputError(f"{path}: weights do not fit an iResNet{layers} ({str(exc)[:200]}); {HINT}") from None
    return model.eval()


def arcface_embeddings(model, faces: np.ndarray) -> np.ndarray:
    """(N, D) unit-length embeddings of (N, 112, 112, 3) uint8 aligned RGB faces."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(faces)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        features = model(x).numpy().astype(np.float64)
    return features / np.linalg.norm(features, axis=1, keepdims=True)


def arcface_csim(video: str, source: str | None, weights: str, max_frames: int = 50) -> float:
    """CSIM: mean cosine similarity of ArcFace embeddings, source photo vs up to `max_frames`
    evenly spaced frames of the video, in [-1, 1] (1 = same embedding)."""
    from ..io.image import load_image
    from ..io.video import probe_video, read_video
    from .dlib_models import FaceTracker, landmarks68

    if source is None:
        raise InputError("--arcface-weights needs --source (the photo to compare the video with)")
    model = load_arcface(weights)
    image = load_image(source)
    landmarks = landmarks68(image)
    if landmarks is None:
        raise NoFaceError(f"{source}: dlib finds no face in the source image")
    total = probe_video(video).num_frames
    picked = set(np.linspace(0, max(0, total - 1), max(1, min(max_frames, total))).astype(int).tolist())
    tracker, faces = FaceTracker(), []
    for index, frame in enumerate(read_video(video)):
        found = tracker.update(frame) if index in picked else None
        if found is not None:
            faces.append(aligned_112(frame, found))
    if not faces:
        raise NoFaceError(f"{video}: dlib finds no face in the sampled frames")
    reference = arcface_embeddings(model, aligned_112(image, landmarks)[None])[0]
    return float(np.mean(arcface_embeddings(model, np.array(faces)) @ reference))
