"""Per-input table of a `talkinghead bench` run: head motion, seed diversity, identity, lip sync.

    talkinghead bench m.csv --pipelines osm baseline --seeds 0 1 2 3 4 --out OUT
    python benchmarks/osm_table.py OUT/results.json

One Markdown row per input and pipeline, figures over that input's seeds as read back by the
evaluation suite (dlib): yaw / pitch / roll std (mean, and the lowest seed's in brackets),
head change per frame (mean; while speaking / in pauses), the mean and the smallest pose
distance between two seeds, the largest identity distance and the mean lip-sync r.
The last row is the real clips' range (reference_real.json).
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def seeds_of(runs: list[dict], name: str, pipeline: str) -> list[dict]:
    return [r for r in runs if r["input"] == name and r["pipeline"] == pipeline]


def mean(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else float("nan")


def row(name: str, pipeline: str, rows: list[dict], diversity: dict) -> str:
    stds = " / ".join(f"{mean(rows, f'pose_std_{a}'):.1f} ({min(r[f'pose_std_{a}'] for r in rows):.1f})" for a in ("yaw", "pitch", "roll"))
    fps = rows[0]["fps"]
    speed = f"{mean(rows, 'pose_speed_mean') / fps:.2f} ({mean(rows, 'pose_speed_speaking') / fps:.2f} / {mean(rows, 'pose_speed_pauses') / fps:.2f})"
    seeds = f"{diversity['pose_diversity']:.2f} ({diversity['pose_distance_min']:.2f})"
    identity = max(r["identity_distance"] for r in rows)
    return f"| {name} | {pipeline} | {stds} | {speed} | {seeds} | {identity:.3f} | {mean(rows, 'sync_r'):.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    results = json.load(open(parser.parse_args().results))
    runs, pipelines = results["runs"], results["settings"]["pipelines"]
    print("| input | pipeline | yaw / pitch / roll std, deg (lowest seed) | change deg/frame (speaking / pauses) "
          "| seed distance deg (smallest pair) | identity (max) | sync r |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in dict.fromkeys(r["input"] for r in runs):
        for pipeline in pipelines:
            print(row(name, pipeline, seeds_of(runs, name, pipeline), results["by_input"][pipeline][name]))
    real = results["real_video"]
    rng = lambda k, scale=1.0: f"{real[k][0] / scale:.2f}-{real[k][1] / scale:.2f}"  # noqa: E731
    print(f"| real clips | - | {rng('pose_std_yaw')} / {rng('pose_std_pitch')} / {rng('pose_std_roll')} "
          f"| {rng('pose_speed_mean', 25.0)} | - | {rng('identity_distance')} | {rng('sync_r')} |")  # fmt: skip
    print(f"\n{results['machine']}; seeds {results['settings']['seeds']}.")


if __name__ == "__main__":
    main()
