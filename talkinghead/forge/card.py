"""The dataset card: README.md in the output folder, written after every run."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .config import CRF, ForgeConfig
from .metadata import label_ids
from .plan import Plan


def dataset_card(config: ForgeConfig, plan: Plan, entries: list[dict[str, Any]], report, command: str) -> str:
    from .. import __version__

    counts = Counter((e["split"], e["method"], e["compression"]) for e in entries)
    rows = [f"| {split} | {method} | {c} | {n} |" for (split, method, c), n in sorted(counts.items())]
    identities = Counter(plan.splits.values())
    lines = [
        f"# {config.dataset}",
        "",
        "Labelled synthetic talking-head forgeries made by talkinghead's `forge` command, with the real videos",
        "they were paired with. Every fake is a whole video generated from one photo (or a real video's",
        "first frame) and a real speech clip: the video is manipulated from its first to its last frame, the",
        "audio is not (`modify_type` = `visual_modified`).",
        "",
        "## Intended use",
        "",
        "Training and testing detectors of synthetic talking heads, and research on them. Not for deceiving",
        "anyone: do not publish these videos as real. Only use faces and voices you have the right to use.",
        "",
        "## Contents",
        "",
        f"- Methods: {', '.join(config.pipelines)} (folders under `manipulated_sequences/`); originals under",
        "  `original_sequences/real/`, re-encoded exactly like the fakes so compression tells nothing.",
        f"- Compressions: {', '.join(f'{c} (H.264 CRF {CRF[c]})' for c in config.compressions)}, as in FaceForensics++;"
        f" x264 preset {config.preset}; AAC audio.",
        f"- Videos: {len(entries)} files, {sum(e['video_frames'] / e['fps'] for e in entries) / 3600:.2f} hours;"
        f" identities: {len(plan.splits)} ({', '.join(f'{identities[s]} {s}' for s in ('train', 'val', 'test'))}).",
        "- Masks: per-frame manipulation masks from the renderer, lossless FFV1 in `.../masks/videos/*.mkv`"
        " (255 = pixel made by the renderer).",
        f"- Frames: {config.frames_per_video} evenly spaced PNG frames per video (and per mask), listed in `deepfakebench.json`."
        if config.frames_per_video else "- Frames: none extracted (`--frames-per-video K` extracts K per video).",
        "",
        "| split | method | compression | videos |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        "## Files",
        "",
        "- `metadata.json`: one entry per video with AV-Deepfake1M's fields (`file`, `original`, `split`,",
        "  `fake_segments`, `fps`, `visual_fake_segments`, `audio_fake_segments`, `audio_model`, `modify_type`,",
        "  `video_frames`, `audio_frames` = samples at 16 kHz) and talkinghead's (`method`, `compression`,",
        "  `source_identity`, `source`, `audio_source`, `audio_speaker`, `seed`, `mask`, `motion`, `frames`,",
        "  `provenance`: pipeline, version, config, checkpoint hashes).",
        "- `deepfakebench.json`: DeepfakeBench's dataset JSON; its `label_dict` for this dataset is",
        f"  `{json.dumps(label_ids(entries, config.dataset))}`.",
        "- `splits.json`: the split of every identity and known speaker. Splits are disjoint by identity: all",
        "  photos and real videos of one person (one subfolder, or one file) share a split, and a speech clip of",
        "  a known speaker is only paired with faces of that speaker's split.",
        "- `errors.json`: inputs that could not be used, and why.",
        "",
        "## How it was made",
        "",
        f"talkinghead {__version__}, seed {config.seed}, splits {config.splits}, longest side {config.max_size} px.",
        "",
        "```",
        command or "(made through the Python API)",
        "```",
        "",
        f"Last run: {len(report.made)} jobs made, {len(report.skipped)} already made, {len(report.failures)} failed.",
        "",
    ]
    return "\n".join(lines)
