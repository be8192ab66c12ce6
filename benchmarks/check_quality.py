"""Measure a talking-head video against the project's acceptance criteria, independently.

    python benchmarks/check_quality.py VIDEO --source IMAGE [--audio AUDIO] [--json]

Runs dlib (not the generator's MediaPipe) on every frame: face found, identity distance to the
source photo, mouth opening and its agreement with the audio, head-pose spread and speed,
landmark jitter and sharpness. Without --audio the video's own audio track is used.
Prints a table (or, with --json, one JSON object) and exits with 0 when every criterion that
could be judged passes, 1 when one fails, 2 when an input cannot be used.
Needs the eval extra: pip install 'talkinghead[eval]'.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.eval import metrics
from talkinghead.eval.dlib_models import FaceTracker, face_embedding, landmarks68
from talkinghead.io.audio import load_audio
from talkinghead.io.image import load_image
from talkinghead.io.video import probe_video, read_video
from talkinghead.types import AudioClip

MAX_LAG = 2  # frames of audio-to-mouth delay searched, either way
# The silent-mouth criterion is judged only on at least this many silent frames: a pause of a
# frame or two between words is too short for anyone to close their lips.
MIN_SILENT_FRAMES = 5


@dataclass(frozen=True)
class Criterion:
    """One acceptance target: `value` must be >= (or <=) `threshold`."""

    name: str
    key: str
    at_least: bool
    threshold: float


CRITERIA = (
    Criterion("face found rate", "face_found_rate", True, 0.95),
    Criterion("identity distance mean", "identity_mean", False, 0.45),
    Criterion("mouth opening std", "mouth_std", True, 0.02),
    Criterion("mouth opening in silence", "mouth_silent", False, 0.03),
    Criterion("yaw std (deg)", "yaw_std", True, 1.0),
)


@dataclass
class Track:
    """What the frame loop collects; T = number of frames, NaN where no face was found.

    landmarks: (T, 68, 2) pixels; poses: (T, 3) yaw, pitch, roll degrees; sharpness: (T,)
    Laplacian variance of the face region at `sharpness_width` px; identity: distances to
    the source for the frames sampled for it.
    """

    landmarks: list = field(default_factory=list)
    poses: list = field(default_factory=list)
    sharpness: list = field(default_factory=list)
    identity: list = field(default_factory=list)
    sharpness_width: int | None = None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", help="the video to evaluate (mp4, mov, mkv)")
    parser.add_argument("--source", required=True, help="the face photo the video was made from")
    parser.add_argument("--audio", help="the speech it should follow (default: the video's own track)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--identity-frames",
        type=int,
        default=50,
        help="at most this many evenly spaced frames get a face descriptor (0.1 s each); 0 = all",
    )
    return parser.parse_args(argv)


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}


def analyse_source(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image (H, W, 3) uint8, landmarks (68, 2), descriptor (128,)) of the source photo."""
    image = load_image(path)
    landmarks = landmarks68(image)
    if landmarks is None:
        raise TalkingHeadError(f"{path}: dlib finds no face in the source image")
    return image, landmarks, face_embedding(image, landmarks)


def track_video(path: str, source_descriptor: np.ndarray, identity_every: int) -> Track:
    """Run the tracker and the per-frame measures over every frame of the video."""
    track = Track()
    tracker = FaceTracker()
    for index, frame in enumerate(read_video(path)):
        landmarks = tracker.update(frame)
        if landmarks is None:
            track.landmarks.append(np.full((68, 2), np.nan))
            track.poses.append((np.nan, np.nan, np.nan))
            track.sharpness.append(np.nan)
            continue
        track.landmarks.append(landmarks)
        track.poses.append(metrics.head_pose(landmarks, frame.shape[:2]))
        box = metrics.face_box(landmarks)
        if track.sharpness_width is None:
            # All frames and the source are compared at the video's first face width.
            track.sharpness_width = box[2] - box[0]
        track.sharpness.append(metrics.sharpness(frame, box, track.sharpness_width))
        if index % identity_every == 0:
            descriptor = face_embedding(frame, landmarks)
            track.identity.append(metrics.identity_distance(descriptor, source_descriptor))
    return track


def audio_measures(clip: AudioClip, fps: float, mouth: np.ndarray) -> dict[str, object]:
    """Mouth opening in silent and voiced frames, and its best correlation with loudness.

    mouth: (T,) mouth_opening per frame, NaN without a face.
    """
    num_frames = len(mouth)
    silent = metrics.silent_frames(clip, fps, num_frames)
    if silent.all():
        # A track of digital silence (some real clips have one) says nothing about the mouth.
        return {"audio": "silent track: audio measures skipped"}
    found = np.isfinite(mouth)
    energy = metrics.audio_log_energy(clip, fps, num_frames)
    r, lag = metrics.lagged_correlation(energy, mouth, MAX_LAG)
    quiet = silent & found
    return {
        "silent_frames": int(np.sum(quiet)),
        "voiced_frames": int(np.sum(~silent & found)),
        "mouth_silent": _mean(mouth[quiet]) if np.sum(quiet) >= MIN_SILENT_FRAMES else float("nan"),
        "mouth_voiced": _mean(mouth[~silent & found]),
        "mouth_audio_r": r,
        "mouth_audio_lag": lag,
    }


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def evaluate(video: str, source: str, audio: str | None, identity_frames: int) -> dict[str, object]:
    """Every figure of the report, as a flat dict of numbers (NaN where not measurable)."""
    info = probe_video(video)
    source_image, source_landmarks, source_descriptor = analyse_source(source)
    identity_every = 1 if identity_frames <= 0 else max(1, math.ceil(info.num_frames / identity_frames))
    track = track_video(video, source_descriptor, identity_every)
    landmarks = np.array(track.landmarks, dtype=np.float64).reshape(-1, 68, 2)
    num_frames = len(landmarks)
    if num_frames == 0:
        raise TalkingHeadError(f"{video}: no frames decoded")
    found = np.all(np.isfinite(landmarks), axis=(1, 2))
    mouth = np.array([metrics.mouth_opening(lm) if ok else np.nan for lm, ok in zip(landmarks, found)])
    report: dict[str, object] = {
        "frames": num_frames,
        "fps": info.fps,
        "face_found_rate": float(np.mean(found)),
        "identity_mean": _mean(np.array(track.identity)),
        "identity_max": float(np.max(track.identity)) if track.identity else float("nan"),
        "identity_frames": len(track.identity),
        "mouth_std": float(np.nanstd(mouth)) if found.any() else float("nan"),
        "mouth_mean": float(np.nanmean(mouth)) if found.any() else float("nan"),
    }
    clip = _load_audio(video, audio, info.has_audio)
    if clip is None:
        report["audio"] = "no audio track: audio measures skipped"
    else:
        report.update(audio_measures(clip, info.fps, mouth))
    report.update(metrics.pose_stats(np.array(track.poses)))
    report["jitter"] = metrics.jitter(landmarks, metrics.eye_distance(landmarks))
    source_sharpness = metrics.sharpness(source_image, metrics.face_box(source_landmarks), track.sharpness_width)
    report["sharpness_ratio"] = metrics.sharpness_ratio(np.array(track.sharpness), source_sharpness)
    return report


def _load_audio(video: str, audio: str | None, video_has_audio: bool) -> AudioClip | None:
    """The AudioClip to compare with: --audio, else the video's track, else None."""
    if audio is not None:
        return load_audio(audio)
    return load_audio(video) if video_has_audio else None


def judge(report: dict[str, object]) -> list[dict[str, object]]:
    """Each criterion with its value and "PASS", "FAIL" or "n/a" (value not measurable)."""
    results = []
    for criterion in CRITERIA:
        value = report.get(criterion.key, float("nan"))
        if not np.isfinite(value):
            verdict = "n/a"
        elif criterion.at_least:
            verdict = "PASS" if value >= criterion.threshold else "FAIL"
        else:
            verdict = "PASS" if value <= criterion.threshold else "FAIL"
        sign = ">=" if criterion.at_least else "<="
        results.append({"name": criterion.name, "key": criterion.key, "value": value,
                        "target": f"{sign} {criterion.threshold:g}", "verdict": verdict})  # fmt: skip
    return results


# (label, key, format) of the table's rows; a key missing from the report prints as "-".
ROWS = (
    ("frames", "frames", "{:d}"),
    ("face found rate", "face_found_rate", "{:.1%}"),
    ("identity distance mean", "identity_mean", "{:.3f}"),
    ("identity distance max", "identity_max", "{:.3f}"),
    ("  frames with a descriptor", "identity_frames", "{:d}"),
    ("mouth opening std", "mouth_std", "{:.4f}"),
    ("mouth opening mean", "mouth_mean", "{:.4f}"),
    ("mouth opening in silence", "mouth_silent", "{:.4f}"),
    ("  silent frames", "silent_frames", "{:d}"),
    ("mouth opening when voiced", "mouth_voiced", "{:.4f}"),
    ("  voiced frames", "voiced_frames", "{:d}"),
    ("mouth-loudness r (best lag)", "mouth_audio_r", "{:.3f}"),
    ("  lag (frames, + = mouth later)", "mouth_audio_lag", "{:+d}"),
    ("yaw std (deg)", "yaw_std", "{:.2f}"),
    ("pitch std (deg)", "pitch_std", "{:.2f}"),
    ("roll std (deg)", "roll_std", "{:.2f}"),
    ("yaw abs change (deg/frame)", "yaw_speed", "{:.3f}"),
    ("pitch abs change (deg/frame)", "pitch_speed", "{:.3f}"),
    ("roll abs change (deg/frame)", "roll_speed", "{:.3f}"),
    ("mean abs change (deg/frame)", "speed", "{:.3f}"),
    ("jitter (eye dist / frame^2)", "jitter", "{:.4f}"),
    ("sharpness ratio video/source", "sharpness_ratio", "{:.3f}"),
    ("evaluation time (s)", "seconds", "{:.1f}"),
)


def print_table(report: dict[str, object], results: list[dict[str, object]]) -> None:
    """The report as aligned rows, with target and verdict beside each criterion."""
    print()
    verdicts = {r["key"]: r for r in results}
    print(f"{'measure':34s} {'value':>10s}  {'target':9s} result")
    for label, key, spec in ROWS:
        value = report.get(key)
        text = "-" if value is None or (isinstance(value, float) and not np.isfinite(value)) else spec.format(value)
        row = f"{label:34s} {text:>10s}"
        if key in verdicts:
            criterion = next(c for c in CRITERIA if c.key == key)
            target = (">= " if criterion.at_least else "<= ") + spec.format(criterion.threshold)
            row += f"  {target:9s} {verdicts[key]['verdict']}"
        print(row)
    print(f"{'overall':34s} {'':>10s}  {'':9s} {overall(results)}")
    if "audio" in report:
        print(f"note: {report['audio']}")


def overall(results: list[dict[str, object]]) -> str:
    """FAIL if any criterion fails, else PASS (criteria that could not be measured are skipped)."""
    return "FAIL" if any(r["verdict"] == "FAIL" for r in results) else "PASS"


def _json_safe(value: object) -> object:
    """NaN (not valid JSON) as null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    header = {"machine": machine(), "arguments": vars(args)}
    if not args.json:
        # Printed before the work starts, so a slow or failing run still says what it ran on.
        print("machine    {platform}, python {python}, {cpus} CPUs".format(**header["machine"]))
        print("arguments  " + " ".join(f"{k}={v}" for k, v in vars(args).items()), flush=True)
    start = time.perf_counter()
    try:
        report = evaluate(args.video, args.source, args.audio, args.identity_frames)
    except (TalkingHeadError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report["seconds"] = time.perf_counter() - start
    results = judge(report)
    if args.json:
        output = {**header, "report": {k: _json_safe(v) for k, v in report.items()},
                  "criteria": [{k: _json_safe(v) for k, v in r.items()} for r in results],
                  "overall": overall(results)}  # fmt: skip
        print(json.dumps(output))
    else:
        print_table(report, results)
    return 1 if overall(results) == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
