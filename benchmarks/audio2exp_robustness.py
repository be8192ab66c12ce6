"""How the learned mouth behaves on different voices and on hard audio (no video needed).

    python benchmarks/audio2exp_robustness.py SPEECH.wav [SPEECH.wav ...]

For every speech file, and for that file with noise at 10 dB SNR, plus a synthetic music clip and
speech after 10 s of silence, the baseline pipeline's mouth targets (audio2exp, speech gate on)
are turned into the lip gap they open (canonical units: inter-ocular distance) and reported:
  gap_speech   mean gap while the audio is voiced      gap_silence  mean gap while silent
  gap_std      spread of the gap                        r_energy     best r with log-energy, +-2 frames
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from talkinghead.eval import metrics
from talkinghead.info import machine_summary
from talkinghead.io.audio import load_audio
from talkinghead.motion.baseline import BaselineMotion
from talkinghead.facemodel.learned_basis import LearnedBasis
from talkinghead.train.audio2exp_recipe import with_noise
from talkinghead.types import AudioClip

FPS = 25.0
RATE = 16000


def music(seconds: float = 8.0) -> AudioClip:
    """Chords of harmonic tones changing every half second over a kick-drum beat."""
    t = np.arange(int(seconds * RATE)) / RATE
    roots = np.array([220.0, 261.6, 196.0, 246.9])[(t * 2).astype(int) % 4]
    chord = sum(np.sin(2 * np.pi * roots * ratio * t) / (1 + k) for k, ratio in enumerate((1.0, 1.26, 1.5, 2.0)))
    beat = np.exp(-30 * (t % 0.5)) * np.sin(2 * np.pi * 60 * t)
    return AudioClip((0.15 * chord + 0.4 * beat).astype(np.float32), RATE)


def figures(clip: AudioClip, motion: BaselineMotion, basis: LearnedBasis) -> dict[str, float]:
    targets, columns, _ = motion.mouth_targets(clip, FPS, basis)
    gap = targets @ basis.gap_per_unit[columns]
    silent = metrics.silent_frames(clip, FPS, len(gap))
    energy = metrics.audio_log_energy(clip, FPS, len(gap))
    r, _ = metrics.lagged_correlation(gap, energy, 2)
    mean = lambda mask: float(gap[mask].mean()) if mask.any() else float("nan")  # noqa: E731
    return {"gap_speech": mean(~silent), "gap_silence": mean(silent), "gap_std": float(gap.std()), "r_energy": r}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("speech", nargs="+")
    args = parser.parse_args()
    motion, basis = BaselineMotion(), LearnedBasis()
    rng = np.random.default_rng(0)
    cases = {}
    for path in args.speech:
        clip = load_audio(path, RATE)
        name = Path(path).stem
        cases[name] = clip
        cases[f"{name} +noise 10 dB"] = with_noise(clip, rng, (10.0, 10.0))
    first = load_audio(args.speech[0], RATE)
    cases["10 s silence, then speech"] = AudioClip(np.concatenate([np.zeros(10 * RATE, np.float32), first.samples]), RATE)
    cases["music (synthetic)"] = music()
    print(f"{'audio':40} {'gap_speech':>10} {'gap_silence':>11} {'gap_std':>8} {'r_energy':>8}")
    for name, clip in cases.items():
        f = figures(clip, motion, basis)
        print(f"{name:40} {f['gap_speech']:10.3f} {f['gap_silence']:11.3f} {f['gap_std']:8.3f} {f['r_energy']:8.2f}")
    print(f"({machine_summary()}, {FPS:g} fps)")


if __name__ == "__main__":
    main()
