"""The dataset's labels: metadata.json (one entry per video file) and deepfakebench.json.

An entry carries AV-Deepfake1M's fields (file, original, split, fake_segments, fps,
visual_fake_segments, audio_fake_segments, audio_model, modify_type, video_frames,
audio_frames) and ours (label, method, compression, source_identity, source, audio_source,
audio_speaker, seed, mask, motion, frames, mask_frames, job, provenance). Segments are
[start, end] in seconds; audio_frames counts samples at 16 kHz, as AV-Deepfake1M's do.
"""

from __future__ import annotations

from typing import Any

from .layout import ORIGINALS, frames_folder, mask_file, mask_frames_folder, motion_file, video_file
from .plan import Job

AUDIO_RATE = 16000


def entry(job: Job, compression: str, *, fps: float, video_frames: int, audio_seconds: float,
          frames: list[str], mask_frames: list[str], provenance: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """The metadata entry of the job's video at `compression`."""
    span = [[0.0, round(video_frames / fps, 3)]]
    fake = not job.is_real
    return {
        "file": video_file(job, compression),
        "original": f"{ORIGINALS}/{compression}/videos/{job.real.key}.mp4" if fake and job.real is not None else None,
        "split": job.split,
        "fake_segments": span if fake else [],
        "fps": fps,
        "visual_fake_segments": span if fake else [],
        "audio_fake_segments": [],  # the speech is the clip given, never synthesised here
        "audio_model": "",
        "modify_type": "visual_modified" if fake else "real",
        "video_frames": video_frames,
        "audio_frames": round(audio_seconds * AUDIO_RATE),
        "label": "fake" if fake else "real",
        "method": job.method,
        "compression": compression,
        "source_identity": job.identity,
        "source": source_of(job),
        "audio_source": f"audio/{job.audio.relative}" if job.audio is not None else f"real_videos/{job.real.relative}",
        "audio_speaker": job.speaker,
        "seed": job.seed if fake else None,
        "mask": mask_file(job) if fake else None,
        "motion": motion_file(job) if fake else None,
        "frames": frames,
        "mask_frames": mask_frames,
        "job": job.key,
        "provenance": provenance,
    }


def source_of(job: Job) -> str:
    return f"faces/{job.face.relative}" if job.face is not None else f"real_videos/{job.real.relative}"


def frame_names(job: Job, compression: str, indices: list[int]) -> list[str]:
    return [f"{frames_folder(job, compression)}/{i:05d}.png" for i in indices]


def mask_frame_names(job: Job, indices: list[int]) -> list[str]:
    return [f"{mask_frames_folder(job)}/{i:05d}.png" for i in indices]


def deepfakebench(entries: list[dict[str, Any]], dataset: str) -> dict[str, Any]:
    """DeepfakeBench's dataset JSON: {dataset: {label: {split: {compression: {video: {label,
    frames, masks, video}}}}}}, labels "<dataset>-real" and "<dataset>-<method>"."""
    tree: dict[str, Any] = {}
    for item in entries:
        label = bench_label(item, dataset)
        videos = tree.setdefault(label, {}).setdefault(item["split"], {}).setdefault(item["compression"], {})
        videos[item["file"].rsplit("/", 1)[-1].rsplit(".", 1)[0]] = {
            "label": label, "frames": item["frames"], "masks": item["mask_frames"], "video": item["file"]}  # fmt: skip
    return {dataset: tree}


def bench_label(item: dict[str, Any], dataset: str) -> str:
    """An entry's DeepfakeBench label: "<dataset>-real" or "<dataset>-<method>"."""
    return f"{dataset}-{'real' if item['label'] == 'real' else item['method']}"


def label_ids(entries: list[dict[str, Any]], dataset: str) -> dict[str, int]:
    """DeepfakeBench's label_dict: 0 for real, 1 for every fake label."""
    labels = sorted({bench_label(e, dataset) for e in entries})
    return {label: 0 if label.endswith("-real") else 1 for label in labels}
