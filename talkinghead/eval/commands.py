"""`talkinghead eval` and `talkinghead bench`: argument parsing and printing only.

    talkinghead eval VIDEO [--source IMG] [--reference REAL.mp4] [--audio AUDIO] [--json]
    talkinghead eval LISTENER.mp4 --speaker-video SPEAKER.mp4 --source LISTENER.jpg [--json]   (listener measures)
    talkinghead bench MANIFEST [--pipelines baseline] [--seeds 0 1 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json

# (label, key, format) of the eval table; nested keys as "pose_std.yaw". None prints as "-".
EVAL_ROWS = (
    ("frames", "frames", "{:d}"),
    ("face found rate", "face_found_rate", "{:.1%}"),
    ("identity distance (dlib, mean)", "identity_distance", "{:.3f}"),
    ("identity distance (dlib, max)", "identity_distance_max", "{:.3f}"),
    ("PSNR, aligned face (dB)", "psnr", "{:.2f}"),
    ("SSIM, aligned face", "ssim", "{:.4f}"),
    ("LMD, 68 points (px @ face scale)", "lmd", "{:.2f}"),
    ("LMD, mouth (px @ face scale)", "lmd_mouth", "{:.2f}"),
    ("  face scale: eye-corner distance (px)", "lmd_face_scale_px", "{:g}"),
    ("lip sync r (energy vs mouth)", "sync_r", "{:.3f}"),
    ("  best lag (frames, + = mouth later)", "sync_lag", "{:+d}"),
    ("  lags searched (+/- frames)", "sync_window_frames", "{:d}"),
    ("mouth opening in silence", "mouth_silent", "{:.4f}"),
    ("mouth opening in speech", "mouth_voiced", "{:.4f}"),
    ("  voice activity from", "vad", "{}"),
    ("mouth opening std", "mouth_std", "{:.4f}"),
    ("yaw / pitch / roll std (deg)", "pose_std", "{yaw:.2f} / {pitch:.2f} / {roll:.2f}"),
    ("yaw / pitch / roll speed (deg/s)", "pose_speed", "{yaw:.1f} / {pitch:.1f} / {roll:.1f}"),
    ("  while speaking (deg/s)", "pose_speed_speaking", "{:.1f}"),
    ("  in pauses (deg/s)", "pose_speed_pauses", "{:.1f}"),
    ("blinks per minute", "blinks_per_min", "{:.1f}"),
    ("landmark jitter (eye dist / frame^2)", "jitter", "{:.4f}"),
    ("background change (grey levels)", "background_change", "{:.3f}"),
    ("sharpness ratio video / source", "sharpness_ratio", "{:.3f}"),
    ("evaluation time (s)", "seconds", "{:.1f}"),
)


def add_eval_parser(commands) -> None:
    p = commands.add_parser("eval", help="measure a talking-head video (identity, sync, motion, reconstruction)")
    p.add_argument("video", help="the video to evaluate (mp4, mov, mkv)")
    p.add_argument("--source", help="the face photo it was made from (identity distance, sharpness ratio)")
    p.add_argument("--reference", help="a real video to compare with frame by frame (PSNR, SSIM, LMD)")
    p.add_argument("--audio", help="the speech it should follow (default: the video's own audio track)")
    p.add_argument("--identity-frames", type=int, default=None, help="face descriptors on at most this many frames (default 20)")
    p.add_argument("--arcface-weights", help="ArcFace iResNet weights (.pth) for a CSIM figure too")
    p.add_argument("--syncnet-weights", help="SyncNet weights for LSE-C / LSE-D too")
    p.add_argument("--speaker-video", help="the speaker video a listener video responds to: listener measures instead "
                                           "(mouth closed, not talking along, nods, smiles, response after pauses)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def eval_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    if args.speaker_video:
        return listener_eval_command(args)

    from .evaluate import EvalConfig, evaluate_video
    from .standard import standard_measures

    config = EvalConfig()
    if args.identity_frames is not None:
        config = replace(config, identity_frames=args.identity_frames)
    standard = standard_measures(args)  # first: a bad weights file fails before the long part
    evaluation = evaluate_video(args.video, source=args.source, reference=args.reference, audio=args.audio, config=config)
    summary = {**evaluation.summary, **standard}
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_table(summary))
    return 0


def listener_eval_command(args: argparse.Namespace) -> int:
    from .listener import evaluate_listener

    kwargs = {} if args.identity_frames is None else {"identity_frames": args.identity_frames}
    summary = evaluate_listener(args.video, args.source, args.speaker_video, **kwargs).summary()
    if args.json:
        print(json.dumps(summary))
    else:
        print("\n".join(f"{key:28s} {'-' if value is None else f'{value:.3f}' if isinstance(value, float) else value}"
                        for key, value in summary.items()))  # fmt: skip
    return 0


def format_table(summary: dict) -> str:
    """The summary as aligned 'measure  value' lines, with any notes at the end."""
    lines = [f"{'measure':40s} value"]
    for label, key, spec in EVAL_ROWS:
        lines.append(f"{label:40s} {_format(summary.get(key), spec)}")
    for key in ("csim_arcface", "lse_c", "lse_d"):
        if key in summary:
            lines.append(f"{key:40s} {_format(summary[key], '{:.3f}')}")
    if summary.get("audio_note"):
        lines.append(f"note: {summary['audio_note']}")
    return "\n".join(lines)


def _format(value, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        if any(v is None for v in value.values()):
            return "-"
        return spec.format(**value)
    return spec.format(value)


def add_bench_parser(commands) -> None:
    p = commands.add_parser("bench", help="run pipelines over a manifest of inputs and tabulate the evaluation")
    p.add_argument("manifest", help="CSV or YAML with columns image,audio[,reference] (or reference only: reconstruction)")
    p.add_argument("--pipelines", nargs="+", default=["baseline"], help="pipelines to compare (default: baseline)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds per input (default: 0 1 2)")
    p.add_argument("--out", default="bench_out", help="output folder (default: bench_out)")


def bench_command(args: argparse.Namespace) -> int:
    """0 when every run was made and evaluated, 1 when some failed (listed on stderr)."""
    import sys

    from ..registry import PIPELINES
    from .bench import BenchConfig, run_bench

    for name in args.pipelines:
        PIPELINES.get(name)  # an unknown name fails now, not after the first runs
    config = BenchConfig(pipelines=tuple(args.pipelines), seeds=tuple(args.seeds))
    results = run_bench(args.manifest, args.out, config, progress=True)
    for failed in results["failed"]:
        print(f"talkinghead: {failed['name']} failed: {failed['error']}: {failed['message']}", file=sys.stderr)
    print(f"wrote {args.out}/results.json, results.csv, table.md and plots/")
    return 1 if results["failed"] else 0
