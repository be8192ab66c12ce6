"""`talkinghead info`: what is installed and available on this machine."""

from __future__ import annotations

import os
import platform
from importlib import metadata

from .registry import FACE_BACKENDS, PIPELINES, RENDERERS

PACKAGES = ("torch", "numpy", "mediapipe", "opencv-contrib-python", "imageio-ffmpeg", "scipy", "face-alignment", "dlib-bin")


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_summary() -> str:
    """One line naming the machine a figure was measured on: CPU, cores, torch threads, GPU."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads, {gpu}, torch {torch.__version__}"


def pipeline_summary() -> str:
    """Each pipeline with its kind and inputs, e.g. "osm (talking_head: image, audio)"."""
    from dataclasses import fields

    parts = []
    for name in PIPELINES.names():
        cls = PIPELINES.get(name)
        parts.append(f"{name} ({cls.kind}: {', '.join(f.name for f in fields(cls.inputs_class))})")
    return ", ".join(parts)


def environment_report() -> str:
    import torch

    from .io.audio import ffmpeg_exe

    cuda = torch.cuda.is_available()
    device = f"cuda ({torch.cuda.get_device_name(0)})" if cuda else "cpu"
    lines = [
        f"talkinghead {package_version('talkinghead')}",
        f"pipelines:     {pipeline_summary()}",
        f"face backends: {', '.join(FACE_BACKENDS.names())} (face_alignment needs its weights: --face-backend-weights)",
        f"renderers:     {', '.join(f'{n} (takes {RENDERERS.get(n).accepts})' for n in RENDERERS.names())}",
        f"device:        {device}; {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}",
        f"platform:      {platform.platform()}, Python {platform.python_version()}",
        f"ffmpeg:        {ffmpeg_exe()}",
        "versions:",
    ]
    lines += [f"  {name:24s}{package_version(name)}" for name in PACKAGES]
    return "\n".join(lines)
