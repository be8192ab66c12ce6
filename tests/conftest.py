"""Shared fixtures: small inputs made here or shipped by dependencies (never ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_IMAGE = ROOT / "demos" / "astronaut.png"
DEMO_SPEECH = ROOT / "demos" / "speech.wav"


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    """(320, 320, 3) uint8 RGB head-and-shoulders crop of skimage's astronaut."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[0:320, 65:385])


@pytest.fixture(scope="session")
def source_face(portrait):
    from talkinghead.face.backend import analyze_face

    return analyze_face(portrait)


def syllables(seconds: float, sample_rate: int = 16000, rate_hz: float = 4.0, pause: tuple[float, float] | None = None) -> np.ndarray:
    """Speech-like test audio: noise bursts at a syllable rate, optionally with a silent pause
    (start, end) in seconds. (S,) float32 in [-1, 1]."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    envelope = np.clip(np.sin(2 * np.pi * rate_hz * t), 0, None) ** 0.5
    if pause is not None:
        envelope[(t >= pause[0]) & (t < pause[1])] = 0.0
    noise = np.random.default_rng(0).standard_normal(len(t))
    tone = np.sin(2 * np.pi * 180 * t)
    return (0.25 * envelope * (0.6 * tone + 0.4 * noise)).astype(np.float32)


def warp_renderer(basis: str = "geometric", **config):
    """A WarpRenderer on its own, with a face model of the given expression basis."""
    from talkinghead.facemodel.face_model import FaceModel, FaceModelConfig
    from talkinghead.render.warp import WarpRenderer, WarpRendererConfig

    return WarpRenderer(WarpRendererConfig(**config), FaceModel(FaceModelConfig(basis=basis)))
