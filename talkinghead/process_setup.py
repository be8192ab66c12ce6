"""Process-wide settings that belong to whoever runs the work (the CLI, a forge worker), never
to the library at import: environment for native logging, and the CPU thread counts."""

from __future__ import annotations

import os


def quiet_native_logging() -> None:
    """Keep TensorFlow Lite / absl chatter off the terminal and make any hub call fail at once."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")  # mediapipe imports pyplot; no GUI probing


def use_cpu_threads(count: int) -> None:
    """Set torch's and OpenCV's CPU thread counts once, for the whole run.

    The library never changes them (that would race between requests served at once). For
    rendering, one thread is faster on these 2-core machines: the per-frame work is small and
    the video encoder runs on the other core meanwhile (benchmarks/bench_generate.py)."""
    import cv2
    import torch

    torch.set_num_threads(count)
    cv2.setNumThreads(count)
