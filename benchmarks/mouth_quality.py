"""Identity, head motion, sharpness and the mouth in silence, per mouth model, on portraits.

    python benchmarks/mouth_quality.py PORTRAIT [PORTRAIT ...] --audio SPEECH [--pipeline osm]
                                       [--mouth content audio2exp] [--seed 0] [--json OUT]

Each portrait is animated with the speech once per mouth (`--mouth`, the same seed, so the head
motion and blinks are the same draw) and every video is read back by talkinghead.eval (dlib), as
benchmarks/check_quality.py does. Prints per portrait and mouth: identity distance to the photo,
mouth-opening std, mean opening in silence / when voiced, yaw/pitch/roll std (deg), jitter and
the sharpness ratio video/photo; and the p/b/m closures (metrics.bilabial_closures on the
recognised phones). Shows whether a new mouth changes anything besides the mouth.
Needs the eval extra.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from talkinghead.api import load_pipeline
from talkinghead.audio.phones import recognize_phones
from talkinghead.eval import metrics
from talkinghead.eval.evaluate import EvalConfig, evaluate_video, flat_summary
from talkinghead.eval.tracking import track_video
from talkinghead.info import machine_summary
from talkinghead.io.audio import load_audio

COLUMNS = (
    ("identity", "identity_distance", "{:.3f}"),
    ("mouth std", "mouth_std", "{:.3f}"),
    ("silent", "mouth_silent", "{:.3f}"),
    ("voiced", "mouth_voiced", "{:.3f}"),
    ("yaw", "pose_std_yaw", "{:.1f}"),
    ("pitch", "pose_std_pitch", "{:.1f}"),
    ("roll", "pose_std_roll", "{:.1f}"),
    ("jitter", "jitter", "{:.3f}"),
    ("sharpness", "sharpness_ratio", "{:.2f}"),
)


def measure(video: Path, portrait: str, audio: str, fps: float) -> dict:
    summary = flat_summary(evaluate_video(str(video), source=portrait, audio=audio, config=EvalConfig()).summary)
    mouth = track_video(str(video), embeddings=0).mouth
    closed, counted = metrics.bilabial_closures(mouth, recognize_phones(load_audio(audio, 16000)), fps)
    return {**{k: summary.get(k) for _, k, _ in COLUMNS}, "bilabials_closed": closed, "bilabials": counted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("portraits", nargs="+")
    parser.add_argument("--audio", required=True)
    parser.add_argument("--pipeline", default="osm")
    parser.add_argument("--mouth", nargs="+", default=["content", "audio2exp"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    started = time.time()
    pipe = load_pipeline(args.pipeline)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for portrait in args.portraits:
            for mouth in args.mouth:
                result = pipe.generate(portrait, args.audio, seed=args.seed, mouth=mouth)
                video = Path(tmp) / f"{Path(portrait).stem}-{mouth}.mp4"
                result.save(video)
                rows[f"{Path(portrait).stem} / {mouth}"] = measure(video, portrait, args.audio, result.fps)
    print(f"machine: {machine_summary()}")
    print(f"settings: pipeline {args.pipeline}, audio {args.audio}, seed {args.seed}, {time.time() - started:.0f} s")
    print(f"{'portrait / mouth':28}" + "".join(f" {label:>9}" for label, _, _ in COLUMNS) + "  p/b/m closed")
    for name, row in rows.items():
        cells = "".join(f" {('-' if row[k] is None or not np.isfinite(row[k]) else spec.format(row[k])):>9}" for _, k, spec in COLUMNS)
        print(f"{name:28}{cells}  {row['bilabials_closed']}/{row['bilabials']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_summary(), "settings": vars(args), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
