"""Regenerate tests/data/pinned_seed_outputs.npz, on purpose, when a pipeline's output is
meant to change (tests/test_pinned_outputs.py compares against it).

    python tests/data/make_pinned_outputs.py

Per pipeline (baseline, osm), mouth (audio2exp; the default) and seed (0, 1): the motion
arrays and 16x16-pixel block means of every 15th frame and mask, on the bundled portrait and
the first 3 s of the bundled speech.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import talkinghead  # noqa: E402
from talkinghead.io.audio import load_audio  # noqa: E402
from tests.test_pinned_outputs import MOTION_KEYS, MOUTHS, PINNED, block_means, pin_key  # noqa: E402


def main() -> None:
    clip = load_audio(ROOT / "demos" / "speech.wav", 16000)
    audio = (clip.samples[: 16000 * 3], 16000)
    out = {}
    for name in ("baseline", "osm"):
        with talkinghead.load_pipeline(name) as pipe:
            for mouth in MOUTHS:
                for seed in (0, 1):
                    result = pipe.generate(str(ROOT / "demos" / "astronaut.png"), audio, seed=seed, mouth=mouth)
                    key = pin_key(name, mouth, seed)
                    for field in MOTION_KEYS:
                        out[f"{key}_{field}"] = getattr(result.motion, field)
                    out[f"{key}_frames"] = block_means(result.frames[::15])
                    out[f"{key}_masks"] = block_means(result.masks[::15])
    np.savez_compressed(PINNED, **out)
    print(f"wrote {PINNED}")


if __name__ == "__main__":
    main()
