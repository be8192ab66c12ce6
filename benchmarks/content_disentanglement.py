"""Does the content stream carry who is speaking? Speaker classification on real talking clips.

    python benchmarks/content_disentanglement.py ../shared/data/talking --speaker-encoder PATH/pretrained.pt [--cache DIR] [--seconds 1.6] [--english-only]

Every clip with audio is cut into segments of `--seconds`; each segment's person (clips of one
person share the label) is predicted by a multinomial logistic regression trained on the first
60 % of every clip's segments and tested on the last 40 % (so a test segment is never beside a
training one). Features per segment:
  phones        the content features: mean per-frame phone shares of the recognised phones (40)
  articulation  the content mouth: mean and std of the articulation model's mouth coefficients
  mel (clip-normalised)  the mel stream as the content mouth model sees it: per-clip
                standardised log-mel, mean and std per band over the segment
  mel (raw)     the same without the per-clip standardisation, for scale
  speaker       the GE2E speaker embedding (audio/speaker_embedding.py, Resemblyzer's weights)
Chance is the share of the most frequent person among the test segments. Prints accuracy per
feature with the machine and settings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from talkinghead.audio.mel import MelConfig, frame_windows, log_mel
from talkinghead.audio.phones import PhoneSegment, phone_features
from talkinghead.audio.speaker_embedding import SpeakerEncoder, at_rate
from talkinghead.errors import InputError
from talkinghead.facemodel.learned_basis import LearnedBasis
from talkinghead.info import machine_summary
from talkinghead.motion.articulation import Articulation
from talkinghead.train.articulation_recipe import clip_phones, is_english_training_clip, person_of
from talkinghead.train.videos import load_talking_clips
from talkinghead.types import AudioClip

FPS = 25.0
TRAIN_SHARE = 0.6


def segment_features(clip, encoder, articulation, seconds: float, cache) -> tuple[dict[str, np.ndarray], int]:
    """Per feature name, (S, D) one row per whole segment of the clip; and S."""
    audio = AudioClip(at_rate(clip.audio, 16000), 16000, None)
    frames = int(audio.duration * FPS)
    per = int(round(seconds * FPS))
    count = frames // per
    segments = [PhoneSegment(s.phone, s.start, s.end) for s in clip_phones(clip.audio, clip.name, cache)]
    shares = phone_features(segments, frames, FPS)
    mouth = articulation(segments, frames, FPS)
    mel_config = MelConfig(window_seconds=0.04)
    mel = frame_windows(log_mel(audio, mel_config), FPS, frames, mel_config).mean(1).numpy()
    normalised = (mel - mel.mean(0)) / (mel.std(0) + 1e-3)
    out: dict[str, list] = {k: [] for k in ("phones", "articulation", "mel (clip-normalised)", "mel (raw)", "speaker")}
    for k in range(count):
        span = slice(k * per, (k + 1) * per)
        out["phones"].append(shares[span].mean(0))
        out["articulation"].append(np.concatenate([mouth[span].mean(0), mouth[span].std(0)]))
        out["mel (clip-normalised)"].append(np.concatenate([normalised[span].mean(0), normalised[span].std(0)]))
        out["mel (raw)"].append(np.concatenate([mel[span].mean(0), mel[span].std(0)]))
        samples = audio.samples[int(k * seconds * 16000) : int((k + 1) * seconds * 16000)]
        out["speaker"].append(encoder.embed(AudioClip(samples, 16000, None)) if encoder else np.zeros(1))
    return {k: np.array(v, np.float32) for k, v in out.items()}, count


def logistic_accuracy(x_train, y_train, x_test, y_test, classes: int, l2: float = 1e-2, steps: int = 300) -> tuple[float, float]:
    """Test accuracy and balanced accuracy (mean recall per person) of an L2-regularised multinomial logistic regression (LBFGS) on
    standardised features."""
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    xt = torch.tensor((x_train - mean) / std)
    xv = torch.tensor((x_test - mean) / std)
    yt = torch.tensor(y_train)
    torch.manual_seed(0)
    layer = torch.nn.Linear(xt.shape[1], classes)
    optimiser = torch.optim.LBFGS(layer.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(xt), yt) + l2 * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    with torch.no_grad():
        predicted = layer(xv).argmax(1).numpy()
    recalls = [np.mean(predicted[y_test == c] == c) for c in np.unique(y_test)]
    return float(np.mean(predicted == y_test)), float(np.mean(recalls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos")
    parser.add_argument("--speaker-encoder", required=True, help="Resemblyzer's resemblyzer/pretrained.pt")
    parser.add_argument("--cache", default=None, help="face-track and phone cache (default VIDEOS/.talkinghead-cache)")
    parser.add_argument("--english-only", action="store_true", help="only the English clips (so the phones' language does not name the speaker)")
    parser.add_argument("--seconds", type=float, default=1.6, help="segment length (1.6 s: one partial of the speaker encoder)")
    args = parser.parse_args()
    started = time.time()
    torch.set_num_threads(1)
    try:
        encoder = SpeakerEncoder.load(args.speaker_encoder)
    except InputError as exc:
        raise SystemExit(f"content_disentanglement: {exc}") from None
    articulation = Articulation.load()
    LearnedBasis()  # fail early if the package data is missing
    cache = args.cache or str(Path(args.videos) / ".talkinghead-cache")
    clips = [c for c in load_talking_clips(args.videos, cache) if c.audio is not None and (is_english_training_clip(c.name) or not args.english_only)]
    people = sorted({person_of(c.name) for c in clips})
    rows: dict[str, tuple[list, list, list, list]] = {}
    for clip in clips:
        features, count = segment_features(clip, encoder, articulation, args.seconds, cache)
        cut = int(round(count * TRAIN_SHARE))
        label = people.index(person_of(clip.name))
        for name, x in features.items():
            xtr, ytr, xte, yte = rows.setdefault(name, ([], [], [], []))
            xtr.append(x[:cut])
            ytr.extend([label] * cut)
            xte.append(x[cut:])
            yte.extend([label] * (count - cut))
    y_test = np.array(rows["phones"][3])
    chance = np.bincount(y_test).max() / len(y_test)
    print(f"machine: {machine_summary()}")
    print(f"{len(clips)} clips, {len(people)} people, {args.seconds:g} s segments: {len(rows['phones'][1])} train, {len(y_test)} test")
    print(f"chance: accuracy {chance:.3f} (always the most frequent person), balanced 1/{len(people)} = {1 / len(people):.3f}")
    for name, (xtr, ytr, xte, yte) in rows.items():
        accuracy, balanced = logistic_accuracy(np.concatenate(xtr), np.array(ytr), np.concatenate(xte), np.array(yte), len(people))
        print(f"  {name:24} dims {np.concatenate(xtr).shape[1]:4d}  speaker accuracy {accuracy:.3f}  balanced {balanced:.3f}")
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
