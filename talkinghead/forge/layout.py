"""Where every file of a dataset goes, relative to its folder (FaceForensics++'s layout).

    original_sequences/real/<c>/videos/<id>.mp4          real videos, re-encoded like the fakes
    manipulated_sequences/<method>/<c>/videos/<id>.mp4   fakes, one folder per pipeline
    manipulated_sequences/<method>/masks/videos/<id>.mkv manipulation masks, lossless (FFV1)
    manipulated_sequences/<method>/motion/<id>.npz       the motion each fake was rendered with
    .../<c>/frames/<id>/000.png, .../masks/frames/<id>/  extracted frames (--frames-per-video)
    metadata.json, deepfakebench.json, splits.json, errors.json, README.md, forge_report.json
    .forge/                                              job records (resume) and first frames
"""

from __future__ import annotations

from pathlib import Path

from .plan import Job

ORIGINALS = "original_sequences/real"
FAKES = "manipulated_sequences"
STATE = ".forge"


def method_folder(job: Job) -> str:
    return ORIGINALS if job.is_real else f"{FAKES}/{job.method}"


def video_file(job: Job, compression: str) -> str:
    return f"{method_folder(job)}/{compression}/videos/{job.video_id}.mp4"


def frames_folder(job: Job, compression: str) -> str:
    return f"{method_folder(job)}/{compression}/frames/{job.video_id}"


def mask_file(job: Job) -> str:
    return f"{method_folder(job)}/masks/videos/{job.video_id}.mkv"


def mask_frames_folder(job: Job) -> str:
    return f"{method_folder(job)}/masks/frames/{job.video_id}"


def motion_file(job: Job) -> str:
    return f"{method_folder(job)}/motion/{job.video_id}.npz"


def record_file(job: Job) -> str:
    """The job's record: written last, so its presence means the job is finished."""
    return f"{STATE}/jobs/{job.method}/{job.video_id}.json"


def first_frame_file(job: Job) -> str:
    return f"{STATE}/first_frames/{job.video_id}.png"


def work_folder(out: Path) -> Path:
    """Scratch space of running jobs (frames being extracted); emptied before and after a run."""
    return out / STATE / "work"
