"""check_dataset(): what a user (or a test) checks before trusting a dataset folder.

Every entry's file exists once and decodes to the frame count it states; every fake has a
lossless mask with something in it and visual fake segments; each c40 file is smaller than
its c23 twin; no identity or known speaker is in two splits; no partial file is left.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


def check_dataset(out: str | Path, *, decode: bool = True) -> list[str]:
    """The problems found in the dataset folder `out` ([] when there are none).

    decode: decode every video and mask to count frames (slower; False checks sizes only).
    """
    out = Path(out)
    try:
        entries = json.loads((out / "metadata.json").read_text())
    except (OSError, ValueError) as exc:
        return [f"{out}/metadata.json: cannot read it ({exc})"]
    problems = [f"{name}: listed {n} times" for name, n in Counter(e["file"] for e in entries).items() if n > 1]
    for item in entries:
        problems += check_entry(out, item, decode)
    problems += check_sizes(out, entries) + check_splits(entries)
    problems += [f"{path}: partial file left" for path in out.rglob(".*.partial*")]
    return problems


def check_entry(out: Path, item: dict[str, Any], decode: bool) -> list[str]:
    name, problems = item["file"], []
    if not (out / name).is_file():
        return [f"{name}: missing"]
    if decode and (frames := count_frames(out / name)) != item["video_frames"]:
        problems.append(f"{name}: {frames} frames decoded, {item['video_frames']} stated")
    if item["label"] == "fake":
        if not item["visual_fake_segments"]:
            problems.append(f"{name}: a fake without visual fake segments")
        mask = out / item["mask"] if item.get("mask") else None
        if mask is None or not mask.is_file():
            problems.append(f"{name}: mask missing")
        elif decode and not mask_has_content(mask, item["video_frames"]):
            problems.append(f"{item['mask']}: empty, or not {item['video_frames']} frames")
    problems += [f"{frame}: missing" for frame in item.get("frames", []) + item.get("mask_frames", []) if not (out / frame).is_file()]
    return problems


def check_sizes(out: Path, entries: list[dict[str, Any]]) -> list[str]:
    """c40 files must be smaller than their c23 twins (else the compressions are mislabelled)."""
    by_job = defaultdict(dict)
    for item in entries:
        by_job[item["job"]][item["compression"]] = out / item["file"]
    problems = []
    for job, files in by_job.items():
        if {"c23", "c40"} <= set(files) and all(f.is_file() for f in files.values()):
            if files["c40"].stat().st_size >= files["c23"].stat().st_size:
                problems.append(f"{job}: c40 file is not smaller than its c23 twin")
    return problems


def check_splits(entries: list[dict[str, Any]]) -> list[str]:
    """No person (a source identity, or a known speaker: one namespace) in two splits."""
    people = defaultdict(set)
    for item in entries:
        for who in {item["source_identity"], item.get("audio_speaker")} - {None}:
            people[who].add(item["split"])
    return [f"{who} is in {', '.join(sorted(s))}" for who, s in people.items() if len(s) > 1]


def count_frames(path: Path) -> int:
    from ..io.video import read_video

    return sum(1 for _ in read_video(path))


def mask_has_content(path: Path, frames: int) -> bool:
    from ..io.video import read_video

    count, content = 0, False
    for frame in read_video(path):
        count += 1
        content = content or bool(frame.any())
    return content and count == frames
