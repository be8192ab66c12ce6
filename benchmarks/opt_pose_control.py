"""Does the opt pipeline's head follow a reference video, and does the face stay the photo's?

    python benchmarks/opt_pose_control.py --faces F.jpg [F2.jpg ...] --pose-videos V.mp4 [V2.mp4 ...]
                                          [--audio A.wav] [--out DIR] [--pose-gain Y P R]
                                          [--sweep-yaw 25] [--seed 0] [--renderer warp|font]

Pose following: every face is driven by every pose video (another person's real talking clip;
its own soundtrack is the speech unless --audio is given). The evaluator's dlib pose proxies
(eval.metrics.head_pose, independent of the generator) read the yaw, pitch and roll of both the
output and the reference; per axis this prints their correlation and the RMSE after removing
each video's median pose, plus the identity distance of the output to the photo (dlib
descriptors; the same person reads below 0.6). Two more correlations (mean over axes) say where
a shortfall comes from: the output's reading against the pose opt asked for (its own FaceMesh
tracking of the reference: how faithfully the renderer shows a pose), and the evaluator's
reading of the reference against that same tracking (how far the two trackers agree on the
real clip, which bounds the first figure).

Identity at large poses (--sweep-yaw D): the face is also driven by a pose file that turns the
head to +D and -D degrees of yaw and back, next to the baseline pipeline (its own small head
motion) on the same face and speech; identity is reported over all frames and over the fifth of the
frames the evaluator reads as most turned.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.api import load_pipeline  # noqa: E402
from talkinghead.eval import metrics  # noqa: E402
from talkinghead.eval.dlib_models import face_embedding  # noqa: E402
from talkinghead.eval.evaluate import analyse_source  # noqa: E402
from talkinghead.eval.tracking import track_video  # noqa: E402
from talkinghead.motion.opt import upright_changes  # noqa: E402
from talkinghead.pipelines.inputs import PoseControlInputs, TalkingHeadInputs  # noqa: E402

AXES = ("yaw", "pitch", "roll")


def on_grid(poses: np.ndarray, fps: float, count: int, out_fps: float) -> np.ndarray:
    """(count, 3) poses read at the output's frame times (linear; NaN where either side has none)."""
    times = np.arange(count) / out_fps
    source = np.arange(len(poses)) / fps
    out = np.full((count, 3), np.nan)
    for k in range(3):
        ok = np.isfinite(poses[:, k])
        if ok.sum() >= 2:
            out[:, k] = np.interp(times, source[ok], poses[ok, k], left=np.nan, right=np.nan)
    return out


def following(output: np.ndarray, reference: np.ndarray) -> dict:
    """Per axis: Pearson r and RMSE (deg) after removing each curve's median; overall RMSE."""
    ok = np.all(np.isfinite(output) & np.isfinite(reference), axis=1)
    a, b = output[ok] - np.nanmedian(output[ok], axis=0), reference[ok] - np.nanmedian(reference[ok], axis=0)
    row = {"frames": int(ok.sum())}
    for k, axis in enumerate(AXES):
        row[f"r_{axis}"] = float(np.corrcoef(a[:, k], b[:, k])[0, 1])
        row[f"rmse_{axis}"] = float(np.sqrt(np.mean((a[:, k] - b[:, k]) ** 2)))
        row[f"std_ref_{axis}"] = float(np.std(b[:, k]))
        row[f"std_out_{axis}"] = float(np.std(a[:, k]))
    row["r_mean"] = float(np.mean([row[f"r_{axis}"] for axis in AXES]))
    row["rmse"] = float(np.sqrt(np.mean((a - b) ** 2)))
    return row


def identity(video: str, source_path: str, frames: int = 30) -> tuple[float, float, float]:
    """(mean identity distance over `frames` evenly spaced frames, the same over the fifth of
    the frames whose evaluator yaw is furthest from the video's median, that fifth's mean |yaw|)."""
    from talkinghead.io.video import read_video

    source = analyse_source(source_path)
    track = track_video(video, embeddings=0)
    even = set(np.linspace(0, track.num_frames - 1, frames).astype(int).tolist())
    yaw = np.abs(track.poses[:, 0] - np.nanmedian(track.poses[:, 0]))
    found = np.flatnonzero(track.found)
    turned = set(found[np.argsort(-yaw[found])[: max(1, len(found) // 5)]].tolist())
    turned = set(sorted(turned)[:: max(1, len(turned) // frames)])
    distances: dict[int, float] = {}
    for index, frame in enumerate(read_video(video)):
        if (index in even or index in turned) and track.found[index]:
            distances[index] = metrics.identity_distance(face_embedding(frame, track.landmarks[index]), source.descriptor)
    mean = lambda keys: float(np.mean([distances[k] for k in keys if k in distances]))  # noqa: E731
    return mean(even), mean(turned), float(np.mean(yaw[sorted(turned)]))


def sweep_file(path: Path, degrees: float, seconds: float) -> None:
    """Keyframes turning the head to +degrees, back, to -degrees and back, repeated."""
    rows, t, period = ["time,yaw"], 0.0, 4.0
    while t <= seconds + period:
        rows += [f"{t:.2f},0", f"{t + 1:.2f},{degrees:g}", f"{t + 2:.2f},0", f"{t + 3:.2f},{-degrees:g}"]
        t += period
    path.write_text("\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", nargs="+", required=True)
    parser.add_argument("--pose-videos", nargs="+", required=True)
    parser.add_argument("--audio", default=None, help="speech for every run (default: each pose video's own)")
    parser.add_argument("--out", default=None, help="folder for the videos (default: a temporary one)")
    parser.add_argument("--pose-gain", nargs=3, type=float, default=None, metavar=("YAW", "PITCH", "ROLL"))
    parser.add_argument("--sweep-yaw", type=float, default=25.0, help="0 = skip the large-pose identity check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--renderer", default=None, help="default: the pipeline's (warp)")
    args = parser.parse_args()

    out = Path(args.out or tempfile.mkdtemp(prefix="opt_pose_"))
    out.mkdir(parents=True, exist_ok=True)
    overrides = {"motion": {"pose_gain": args.pose_gain}} if args.pose_gain else {}
    if args.renderer:
        overrides["renderer"] = args.renderer
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}; "
          f"pose gain {args.pose_gain or 'default'}, renderer {args.renderer or 'default'}, seed {args.seed}, videos in {out}")  # fmt: skip
    rows = []
    with load_pipeline("opt", overrides=overrides) as opt:
        for face in args.faces:
            for video in args.pose_videos:
                name = f"{Path(face).stem}_{Path(video).stem}"
                result = opt(PoseControlInputs(face, args.audio or video, pose_video=video), seed=args.seed)
                made = str(result.save(out / f"{name}.mp4"))
                generated, reference = track_video(made, embeddings=0), track_video(video, embeddings=0)
                ref = on_grid(reference.poses, reference.fps, generated.num_frames, generated.fps)
                row = {"run": name, **following(generated.poses, ref), "identity": identity(made, face)[0]}
                # The pose opt asked for, as the upright changes the evaluator reads (FaceMesh's tracking).
                asked = upright_changes(result.motion.rotation, opt.face_model.frame(result.source).rotation)
                row["r_rendered"] = following(generated.poses, asked)["r_mean"]
                row["r_trackers"] = following(ref, asked)["r_mean"]
                rows.append(row)
                print(f"{name}: r yaw/pitch/roll {row['r_yaw']:.2f}/{row['r_pitch']:.2f}/{row['r_roll']:.2f} "
                      f"(mean {row['r_mean']:.2f}), RMSE {row['rmse_yaw']:.1f}/{row['rmse_pitch']:.1f}/{row['rmse_roll']:.1f} "
                      f"(all {row['rmse']:.1f}) deg, std output/reference " + "  ".join(f"{row[f'std_out_{a}']:.1f}/{row[f'std_ref_{a}']:.1f}" for a in AXES)
                      + f", identity {row['identity']:.3f}; r of the output with the pose asked for {row['r_rendered']:.2f}, "
                      f"of the two trackers on the reference {row['r_trackers']:.2f}", flush=True)  # fmt: skip
        if rows:
            means = {k: np.mean([r[k] for r in rows]) for k in ("r_mean", "rmse", "identity")}
            print(f"mean over {len(rows)} runs: r {means['r_mean']:.2f}, RMSE {means['rmse']:.2f} deg, "
                  f"identity {means['identity']:.3f}; worst r {min(r['r_mean'] for r in rows):.2f}, "
                  f"worst RMSE {max(r['rmse'] for r in rows):.2f}")  # fmt: skip
        if args.sweep_yaw > 0:
            sweep_identity(opt, args, out)


def sweep_identity(opt, args, out: Path) -> None:
    audio = args.audio or args.pose_videos[0]
    pose = out / f"sweep_{args.sweep_yaw:g}.csv"
    sweep_file(pose, args.sweep_yaw, 120.0)
    with load_pipeline("baseline") as baseline:
        for face in args.faces:
            swept = str(opt(PoseControlInputs(face, audio, pose=str(pose)), seed=args.seed).save(out / f"{Path(face).stem}_sweep.mp4"))
            plain = str(baseline(TalkingHeadInputs(face, audio), seed=args.seed).save(out / f"{Path(face).stem}_baseline.mp4"))
            opt_all, opt_turned, yaw = identity(swept, face)
            base_all, base_turned, base_yaw = identity(plain, face)
            print(f"{Path(face).stem}: identity with yaw swept to ±{args.sweep_yaw:g} deg: {opt_all:.3f} over all frames, "
                  f"{opt_turned:.3f} over the most turned fifth (evaluator |yaw| {yaw:.1f} deg); baseline {base_all:.3f}, "
                  f"{base_turned:.3f} (|yaw| {base_yaw:.1f} deg)", flush=True)  # fmt: skip

if __name__ == "__main__":
    main()
