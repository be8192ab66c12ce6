"""Is the opt pipeline's mouth the sentence's, not the speaker's? The same sentence in two voices
should give the same mouth within noise.

    python benchmarks/opt_speaker_invariance.py SAME_A.wav SAME_B.wav OTHER.wav [--fps 25]

SAME_A and SAME_B say the same words in different voices (e.g. ../shared/data/audio's
speech_echomimic_en and speech_echomimic_en_girl, a man and a girl); OTHER says something else.
Each mouth (per-frame coefficients of the face model's mouth components, as opt drives them) is
compared along a time alignment of the two clips (DTW on per-clip standardised log-mel, since
two people never speak a sentence at the same pace):
    same words, other voice     SAME_A vs SAME_B
    same voice, added noise     SAME_A vs SAME_A with white noise at 20 dB SNR (the noise floor)
    other words                 SAME_A vs OTHER (what any two mouths share along a DTW path)
for the content mouth (opt's default) and, for contrast, the loudness mouth. Figures: Pearson r
of the mouth opening (first mouth component) and the mean over components, and the RMS
difference relative to the mouth's own RMS motion.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from talkinghead.api import load_pipeline  # noqa: E402
from talkinghead.io.audio import load_audio  # noqa: E402
from talkinghead.types import AudioClip  # noqa: E402


def log_mel(clip: AudioClip, fps: float) -> np.ndarray:
    """(T, 80) per-clip standardised log-mel at the video frame rate (speaker level removed)."""
    from talkinghead.audio.mel import MelConfig, log_mel as mel_frames

    config = MelConfig()
    feats = mel_frames(clip, config).numpy()
    step = config.mel_rate / fps
    feats = feats[np.minimum((np.arange(int(len(feats) / step)) * step).astype(int), len(feats) - 1)]
    return (feats - feats.mean(0)) / (feats.std(0) + 1e-6)


def aligned(a_feats: np.ndarray, b_feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) of the DTW path (cosine distance) between two feature sequences."""
    a = a_feats / np.linalg.norm(a_feats, axis=1, keepdims=True)
    b = b_feats / np.linalg.norm(b_feats, axis=1, keepdims=True)
    cost = 1 - a @ b.T
    total = np.full((len(a) + 1, len(b) + 1), np.inf)
    total[0, 0] = 0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            total[i, j] = cost[i - 1, j - 1] + min(total[i - 1, j], total[i, j - 1], total[i - 1, j - 1])
    i, j, path = len(a), len(b), []
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = np.argmin([total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]])
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    path = np.array(path[::-1])
    return path[:, 0], path[:, 1]


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    """a, b: (P, K) mouth coefficients along an alignment path."""
    rs = [np.corrcoef(a[:, k], b[:, k])[0, 1] for k in range(a.shape[1]) if a[:, k].std() > 1e-6 and b[:, k].std() > 1e-6]
    rel = np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean((a - a.mean(0)) ** 2))
    return {"r_open": float(np.corrcoef(a[:, 0], b[:, 0])[0, 1]), "r_mean": float(np.mean(rs)), "rel_rms": float(rel)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("same_a")
    parser.add_argument("same_b")
    parser.add_argument("other")
    parser.add_argument("--fps", type=float, default=25.0)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}; fps {args.fps:g}")
    a, b, other = (load_audio(p, 16000) for p in (args.same_a, args.same_b, args.other))
    noise = np.random.default_rng(0).standard_normal(len(a.samples)).astype(np.float32)
    noise *= np.sqrt(np.mean(a.samples**2) / np.mean(noise**2)) / 10.0  # 20 dB below the speech
    noisy = AudioClip(np.clip(a.samples + noise, -1, 1), a.sample_rate)
    pairs = {"same words, other voice": (a, b), "same voice, added noise": (a, noisy), "other words": (a, other)}
    with load_pipeline("opt") as pipe:
        motion, basis = pipe.face_motion, pipe.face_model.basis
        for mouth in ("content", "loudness"):
            for label, (x, y) in pairs.items():
                mx, _, _ = motion.mouth_targets(x, args.fps, basis, mouth, None)
                my, _, _ = motion.mouth_targets(y, args.fps, basis, mouth, None)
                i, j = aligned(log_mel(x, args.fps)[: len(mx)], log_mel(y, args.fps)[: len(my)])
                keep = (i < len(mx)) & (j < len(my))
                figures = compare(mx[i[keep]], my[j[keep]])
                print(f"{mouth:9s} {label:26s} r opening {figures['r_open']:.2f}, r mean {figures['r_mean']:.2f}, "
                      f"RMS difference {figures['rel_rms']:.2f} of the mouth's own", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
