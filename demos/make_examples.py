"""Recreate the bundled example inputs.

    python demos/make_examples.py

astronaut.png: a head-and-shoulders crop of `skimage.data.astronaut()` (NASA portrait of Eileen
    Collins, public domain), at its native resolution.
speech.wav: English speech synthesised with espeak-ng (Debian package `espeak-ng`):
    espeak-ng -v en-us -s 150 -g 4 -w demos/speech.wav "<SENTENCES below>"
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image
from skimage import data

HERE = Path(__file__).resolve().parent
SENTENCES = (
    "Hello, and welcome to talking head. "
    "One photo and one voice clip are all it needs. "
    "Watch the lips follow every word, while the head moves and the eyes blink."
)
ESPEAK = ["espeak-ng", "-v", "en-us", "-s", "150", "-g", "4"]


def make_portrait(path: Path) -> None:
    # The face spans about x 179-271, y 71-177 in the 512x512 original.
    Image.fromarray(data.astronaut()[0:320, 65:385]).save(path, optimize=True)


def make_speech(path: Path) -> None:
    subprocess.run(ESPEAK + ["-w", str(path), SENTENCES], check=True)


if __name__ == "__main__":
    make_portrait(HERE / "astronaut.png")
    make_speech(HERE / "speech.wav")
    print("wrote", HERE / "astronaut.png", "and", HERE / "speech.wav")
