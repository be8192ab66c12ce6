"""Speed of generation, stage by stage, at several image sizes.

    python benchmarks/bench_generate.py [--image IMG] [--audio AUDIO] [--sizes 256 512]
                                        [--pipeline baseline] [--renderer warp|font] [--warp-backend cv2|torch]
                                        [--speech-seconds 34] [--cli] [--peers]

For each size the photo is resized to SIZE x SIZE and the stages are timed separately: face
analysis, audio loading, motion, rendering (frames in memory, not encoded), encoding (H.264 +
AAC from rendered frames), then end to end as the CLI does it (render and encode streamed,
overlapping). Prints the machine, threads and settings with the figures.

--speech-seconds N loops (or cuts) the audio to N seconds first. --cli also times the whole
command line per size (`talkinghead generate --pipeline P`, a fresh process: start-up, imports,
model loading and writing the mp4 included) against the audio's duration. --peers times one
frame of First Order Motion Model and of LivePortrait, their architectures rebuilt with random
weights (benchmarks/peer_models.py), at the same thread count in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # peer_models

from talkinghead.api import load_pipeline  # noqa: E402
from talkinghead.process_setup import use_cpu_threads  # noqa: E402
from talkinghead.io.image import load_image  # noqa: E402
from talkinghead.io.video import write_video  # noqa: E402
from talkinghead.pipelines.output import GenerationResult  # noqa: E402


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = image[y0 : y0 + side, x0 : x0 + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(crop, (size, size), interpolation=interpolation)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def render_then_encode(result, path: Path) -> tuple[float, float]:
    """Seconds to render every frame into memory, then seconds to encode them."""
    chunks, t_render = timed(lambda: list(result.iter_chunks()))
    _, t_encode = timed(lambda: write_video(path, chunks, fps=result.fps, audio=result.audio))
    return t_render, t_encode


def bench_size(pipeline, image: np.ndarray, audio: str, size: int, seed: int) -> dict:
    options = pipeline.parse_options({"max_size": max(size, 32)})
    photo = square(image, size)
    source, t_face = timed(lambda: pipeline.load_source(photo, options))
    clip, t_audio = timed(lambda: pipeline.load_audio(audio))
    motion, t_motion = timed(lambda: pipeline.make_motion(source, clip, seed=seed, options=options))
    result = GenerationResult(source=source, audio=clip, motion=motion, renderer=pipeline.renderer)
    with tempfile.TemporaryDirectory() as tmp:
        t_render, t_encode = render_then_encode(result, Path(tmp) / "a.mp4")
        _, t_stream = timed(lambda: result.save(Path(tmp) / "b.mp4"))
    frames = result.num_frames
    return {
        "size": size,
        "frames": frames,
        "face": t_face,
        "audio": t_audio,
        "motion": t_motion,
        "render": t_render,
        "encode": t_encode,
        "render_fps": frames / t_render,
        "end_to_end": t_face + t_audio + t_motion + t_stream,
        "end_to_end_fps": frames / (t_face + t_audio + t_motion + t_stream),
        "audio_seconds": clip.duration,
    }


def cli_seconds(pipeline: str, image: np.ndarray, audio: str, size: int, seed: int, renderer: str) -> float:
    """Wall time of `talkinghead generate` on the photo at SIZE x SIZE, in a fresh process."""
    from talkinghead.io.image import save_image

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.png"
        save_image(photo, square(image, size))
        command = [sys.executable, "-m", "talkinghead", "generate", "--pipeline", pipeline, "--image", str(photo),
                   "--audio", audio, "--out", str(Path(tmp) / "out.mp4"), "--seed", str(seed), "--renderer", renderer]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def peer_seconds(frames: int = 3) -> dict[str, float]:
    """Seconds per frame of the peers' per-frame networks (after one warm-up frame)."""
    from peer_models import fomm_frame, liveportrait_frame

    times = {}
    for name, make in (("FOMM vox-256 (256 px out)", fomm_frame), ("LivePortrait (256 px in, 512 px out)", liveportrait_frame)):
        frame, driving = make(), torch.rand(1, 3, 256, 256)
        frame(driving)
        _, seconds = timed(lambda: [frame(driving) for _ in range(frames)])
        times[name] = seconds / frames
    return times


def speech_of_length(audio: str, seconds: float, folder: Path) -> str:
    """`audio` looped or cut to `seconds`, as a WAV in `folder`."""
    from talkinghead.io.audio import load_audio, write_wav
    from talkinghead.types import AudioClip

    clip = load_audio(audio)
    count = int(seconds * clip.sample_rate)
    samples = np.resize(clip.samples, count)  # np.resize repeats the clip
    path = folder / f"speech_{seconds:g}s.wav"
    write_wav(path, AudioClip(samples.astype(np.float32), clip.sample_rate))
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default=str(ROOT / "demos" / "astronaut.png"))
    parser.add_argument("--audio", default=str(ROOT / "demos" / "speech.wav"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--pipeline", default="baseline")
    parser.add_argument("--warp-backend", default="auto", choices=["auto", "cv2", "torch"])
    parser.add_argument("--renderer", default="warp", help="warp or font")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenCV CPU threads, as the CLI sets them (1)")
    parser.add_argument("--speech-seconds", type=float, default=None, help="loop or cut the audio to this many seconds")
    parser.add_argument("--cli", action="store_true", help="also time the whole `talkinghead generate` per size")
    parser.add_argument("--peers", action="store_true", help="also time FOMM's and LivePortrait's per-frame networks")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    if args.speech_seconds:
        args.audio = speech_of_length(args.audio, args.speech_seconds, Path(scratch.name))

    use_cpu_threads(args.threads)
    renderer_config = {"warp_backend": args.warp_backend} if args.renderer == "warp" else {}
    overrides = {"renderer": args.renderer, "renderer_config": renderer_config, "device": args.device}
    pipeline = load_pipeline(args.pipeline, overrides=overrides)
    image = load_image(args.image)
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"torch {torch.__version__}: {torch.get_num_threads()} threads, cv2 threads {cv2.getNumThreads()} (set once, as the CLI does)")
    print(f"settings: pipeline={args.pipeline} renderer={args.renderer} device={args.device} warp={args.warp_backend} image={args.image} audio={args.audio} seed={args.seed}")
    pipeline.load_source(square(image, 256), pipeline.parse_options({}))  # warm-up: model load, imports
    header = f"{'size':>5} {'frames':>6} {'face s':>7} {'audio s':>7} {'motion s':>8} {'render s':>8} {'encode s':>8} {'render fps':>10} {'e2e s':>7} {'e2e fps':>7} {'audio s':>7}"
    print(header)
    rows = []
    for size in args.sizes:
        r = bench_size(pipeline, image, args.audio, size, args.seed)
        rows.append(r)
        print(
            f"{r['size']:>5} {r['frames']:>6} {r['face']:>7.3f} {r['audio']:>7.3f} {r['motion']:>8.3f} {r['render']:>8.2f} "
            f"{r['encode']:>8.2f} {r['render_fps']:>10.1f} {r['end_to_end']:>7.2f} {r['end_to_end_fps']:>7.1f} {r['audio_seconds']:>7.2f}"
        )
        if args.cli:
            seconds = cli_seconds(args.pipeline, image, args.audio, size, args.seed, args.renderer)
            print(f"  CLI at {size} px: {seconds:.2f} s for {r['audio_seconds']:.1f} s of speech = {seconds / r['audio_seconds']:.2f}x its duration "
                  f"({r['frames'] / seconds:.0f} frames/s; start-up, imports, models and mp4 included: "
                  f"{seconds - r['end_to_end']:.1f} s beyond the stages above)")  # fmt: skip
    pipeline.close()
    if args.peers:
        print(f"per-frame time at {torch.get_num_threads()} torch thread(s); the peers with random weights:")
        for name, seconds in peer_seconds().items():
            print(f"  {name}: {seconds * 1000:.0f} ms/frame ({1 / seconds:.2f} fps)")
        for row in rows:
            print(f"  ours, {args.pipeline} ({args.renderer}) render at {row['size']} px: {1000 / row['render_fps']:.1f} ms/frame ({row['render_fps']:.0f} fps)")
    scratch.cleanup()


if __name__ == "__main__":
    main()
