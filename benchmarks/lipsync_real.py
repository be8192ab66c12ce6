"""Lip sync on real talking clips: the first frame driven by the clip's own audio, against the clip.

    python benchmarks/lipsync_real.py CLIP.mp4 [CLIP.mp4 ...] [--mouth content audio2exp-v2 audio2exp loudness]
                                      [--articulation DIR] [--audio2exp-v2 DIR] [--recognizer phones|words|both] [--json OUT]

For every clip and mouth model (the baseline pipeline's `mouth` setting), the first frame is
animated with the clip's audio (head kept still, so only the mouth differs), and dlib's 68-point
inner-lip gap is measured on the generated and on the real video. Reported per clip:
  r_real     Pearson r between the generated and the real mouth-opening series
  r_energy   best Pearson r of the generated opening with the audio's log-energy within +-2 frames
  lag        that best lag in frames (positive: the mouth moves after the sound)
  silent_open  mean generated opening over frames the audio marks silent (0 = closed)
  std_ratio  std of the generated opening / std of the real one (1 = as much articulation)
--articulation / --audio2exp-v2: the articulation table (content and audio2exp-v2 mouths) and
audio2exp v2 (its gain) to use (e.g. fitted with `talkinghead train articulation|audio2exp-v2 --hold-out ...` without the
clips' people).
The real video's own figures are printed as the row "real". Needs the eval extra.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from talkinghead.api import load_pipeline
from talkinghead.eval import metrics
from talkinghead.eval.tracking import track_video
from talkinghead.info import machine_summary
from talkinghead.io.audio import load_audio
from talkinghead.io.video import probe_video, read_video

MAX_LAG = 2


def mouth_series(path: str | Path) -> np.ndarray:
    """(T,) dlib inner-lip gap per frame, NaN where no face was found."""
    return track_video(str(path), embeddings=0).mouth


def measures(opening: np.ndarray, energy: np.ndarray, silent: np.ndarray, real: np.ndarray | None) -> dict[str, float]:
    n = min(len(opening), len(energy))
    filled = np.where(np.isnan(opening), np.nanmean(opening), opening)[:n]
    r_energy, lag = metrics.lagged_correlation(filled, energy[:n], MAX_LAG)
    out = {"r_energy": r_energy, "lag": lag, "silent_open": float(np.nanmean(opening[:n][silent[:n]])) if silent[:n].any() else float("nan")}
    if real is not None:
        m = min(n, len(real))
        out["r_real"] = metrics.pearson(opening[:m], real[:m])
        out["std_ratio"] = metrics.std_ratio(opening[:m], real[:m])
    return out


def first_frame(path: str) -> np.ndarray:
    return next(iter(read_video(path)))


def evaluate_clip(path: str, mouths: list[str], workdir: Path, settings: dict[str, str]) -> dict[str, dict[str, float]]:
    info = probe_video(path)
    clip = load_audio(path)
    real = mouth_series(path)
    energy = metrics.audio_log_energy(clip, info.fps, len(real))
    silent = metrics.silent_frames(clip, info.fps, len(real))
    rows = {"real": measures(real, energy, silent, None)}
    image = first_frame(path)
    for mouth in mouths:
        # The loudness mouth drives the geometric basis' jaw_open, as it always did.
        face_model = {"basis": "geometric" if mouth == "loudness" else "learned"}
        motion = {"mouth": mouth, **settings}
        pipeline = load_pipeline("baseline", overrides={"motion": motion, "face_model": face_model})
        try:
            result = pipeline.generate(image, clip, seed=0, fps=info.fps, still=True)
        finally:
            pipeline.close()
        out = workdir / f"{Path(path).stem}-{mouth}.mp4"
        result.save(out)
        rows[mouth] = measures(mouth_series(out), energy, silent, real)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="+")
    parser.add_argument("--mouth", nargs="+", default=["content", "audio2exp-v2", "audio2exp", "loudness"])
    parser.add_argument("--articulation", default=None, help="articulation checkpoint folder for the content mouth (default: shipped)")
    parser.add_argument("--audio2exp-v2", default=None, help="audio2exp v2 checkpoint folder for the content mouth (default: shipped)")
    parser.add_argument("--recognizer", choices=["phones", "words", "both"], default=None, help="what the content mouth hears (default: the config's)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    started = time.time()
    settings = {k: v for k, v in (("articulation_checkpoint", args.articulation), ("audio2exp_v2_checkpoint", args.audio2exp_v2),
                                     ("recognizer", args.recognizer)) if v}  # fmt: skip
    report = {"machine": machine_summary(), "clips": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.clips:
            report["clips"][Path(path).stem] = evaluate_clip(path, args.mouth, Path(tmp), settings)
    report["seconds"] = time.time() - started
    print(f"settings: mouths {args.mouth}, articulation {args.articulation or 'shipped'}, audio2exp v2 {args.audio2exp_v2 or 'shipped'}, head still, seed 0")
    print(f"{'clip':18} {'mouth':10} {'r_real':>7} {'std_ratio':>9} {'r_energy':>8} {'lag':>4} {'silent_open':>11}")
    for name, rows in report["clips"].items():
        for mouth, m in rows.items():
            print(f"{name:18} {mouth:10} {m.get('r_real', float('nan')):7.2f} {m.get('std_ratio', float('nan')):9.2f} "
                  f"{m['r_energy']:8.2f} {m['lag']:4d} {m['silent_open']:11.3f}")  # fmt: skip
    for mouth in args.mouth:
        values = [rows[mouth]["r_real"] for rows in report["clips"].values()]
        ratios = [rows[mouth]["std_ratio"] for rows in report["clips"].values()]
        print(f"mean r_real {mouth}: {np.mean(values):.2f} (min {np.min(values):.2f}), mean std_ratio {np.mean(ratios):.2f}")
    print(f"({report['seconds']:.0f} s, {report['machine']})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
