"""False refusals of people and refusals of animals by the human-face check (GitHub issue 13).

    python benchmarks/human_check.py --humans PEOPLE... --animals ANIMALS... [--frames 12] [--grid]

    e.g. --humans ../shared/data/faces/face_s{0,1,2,3,4,5,6,7,8,9,10,11,12,42}.jpg ../shared/data/talking
         ../shared/data/videos demos/astronaut.png --animals ../shared/data/faces/face_s{22,30,36}.jpg

Each argument is an image, a video, or a folder of them. Every image (and `--frames` frames
spread over each video; 1 = the first frame) is tried as given, mirrored, rotated by +-20
degrees and downscaled to 256 px; with --grid still images are also tried at 96-512 px, on a
canvas 1.5 or 2 times their size (black or grey), rotated and mirrored, which is where
FaceMesh accepts most animals (144 more variants each; video frames get the basic five). Each
variant goes through what `generate` does to the photo (longer side at most 1024 px, the
mediapipe backend, the largest face) and then the check. A variant without any face found is
counted apart: it never reaches the check. Prints the machine, the settings, one line per file
and the totals: for people every refusal is a bug, for animals every acceptance a miss.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.face.backend import pick_face  # noqa: E402
from talkinghead.face.human_check import HumanCheckConfig, HumanFaceCheck  # noqa: E402
from talkinghead.face.layout import get_layout  # noqa: E402
from talkinghead.face.mediapipe_backend import MediaPipeBackend  # noqa: E402
from talkinghead.info import machine_summary  # noqa: E402
from talkinghead.io.image import limit_size, load_image  # noqa: E402
from talkinghead.io.video import VIDEO_SUFFIXES, read_video  # noqa: E402

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def files_of(paths: list[str]) -> list[Path]:
    """The images and videos named, folders expanded (sorted)."""
    found = []
    for path in map(Path, paths):
        members = sorted(path.iterdir()) if path.is_dir() else [path]
        found += [p for p in members if p.suffix.lower() in IMAGE_SUFFIXES | set(VIDEO_SUFFIXES)]
    return found


def pictures(path: Path, frames: int) -> list[np.ndarray]:
    """The image, or `frames` frames spread over the video, each at most 1024 px (as generate)."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        shots = [load_image(path)]
    else:
        video = list(read_video(path, max_size=1024))
        shots = [video[i] for i in np.linspace(0, len(video) - 1, frames).astype(int)] if frames > 1 else video[:1]
    return [limit_size(np.ascontiguousarray(shot), 1024)[0] for shot in shots]


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)


def resized(image: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def on_canvas(image: np.ndarray, factor: float, fill: int) -> np.ndarray:
    h, w = image.shape[:2]
    canvas = np.full((int(h * factor), int(w * factor), 3), fill, np.uint8)
    y, x = (canvas.shape[0] - h) // 2, (canvas.shape[1] - w) // 2
    canvas[y:y + h, x:x + w] = image
    return canvas


def variants(image: np.ndarray, grid: bool):
    """(name, image) pairs: the basic five, and with `grid` the scale x canvas x turn x mirror grid."""
    yield "as given", image
    yield "mirrored", image[:, ::-1]
    yield "rotated +20", rotated(image, 20)
    yield "rotated -20", rotated(image, -20)
    yield "256 px", resized(image, 256)
    if not grid:
        return
    for side, factor, fill, degrees, mirror in itertools.product((96, 128, 160, 256, 400, 512), (1.5, 2.0), (0, 128), (-20, 0, 20), (False, True)):
        shot = on_canvas(resized(image, side), factor, fill)
        shot = rotated(shot, degrees) if degrees else shot
        yield f"{side} px on {factor}x canvas {fill}, {degrees} deg{', mirrored' if mirror else ''}", shot[:, ::-1] if mirror else shot


def measure(path: Path, backend: MediaPipeBackend, check: HumanFaceCheck, frames: int, grid: bool) -> dict:
    """Counts for one file: variants, with a face found, refused; and the refused variants' names."""
    layout = get_layout(backend.layout)
    counts = {"variants": 0, "faces": 0, "refused": 0, "names": []}
    still = path.suffix.lower() in IMAGE_SUFFIXES
    for shot in pictures(path, frames):
        for name, image in variants(shot, grid and still):
            image = np.ascontiguousarray(image)
            counts["variants"] += 1
            faces = backend.detect(image)
            if not faces:
                continue
            counts["faces"] += 1
            if not check(image, pick_face(faces, 0, path.name).landmarks, layout).human:
                counts["refused"] += 1
                counts["names"].append(name)
    return counts


def report(kind: str, paths: list[Path], backend, check, frames: int, grid: bool) -> None:
    total = {"variants": 0, "faces": 0, "refused": 0}
    print(f"\n{kind}: file, variants, with a face found, refused")
    for path in paths:
        counts = measure(path, backend, check, frames, grid)
        shown = "; ".join(counts["names"][:4]) + (" ..." if len(counts["names"]) > 4 else "")
        print(f"  {path.name:32s} {counts['variants']:4d} {counts['faces']:4d} {counts['refused']:4d}  {shown}")
        for key in total:
            total[key] += counts[key]
    faces = max(total["faces"], 1)
    print(f"  {kind} total: {total['variants']} variants, {total['faces']} with a face, "
          f"{total['refused']} refused ({100 * total['refused'] / faces:.1f} % of those with a face)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--humans", nargs="*", default=[], help="images, videos or folders of people")
    parser.add_argument("--animals", nargs="*", default=[], help="images, videos or folders of animals")
    parser.add_argument("--frames", type=int, default=1, help="frames spread over each video (default: the first only)")
    parser.add_argument("--grid", action="store_true", help="also the scale x canvas x turn x mirror grid (still images)")
    args = parser.parse_args(argv)
    print(f"machine: {machine_summary()}")
    print(f"settings: {asdict(HumanCheckConfig())}, frames {args.frames}, grid {args.grid}")
    backend, check = MediaPipeBackend(), HumanFaceCheck()
    start = time.perf_counter()
    if args.humans:
        report("people", files_of(args.humans), backend, check, args.frames, args.grid)
    if args.animals:
        report("animals", files_of(args.animals), backend, check, args.frames, args.grid)
    print(f"\n{time.perf_counter() - start:.0f} s")
    backend.close()
    check.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
