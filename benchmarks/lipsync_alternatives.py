"""Alternatives to the content mouth's phone input, under the same leave-one-person-out folds.

    python benchmarks/lipsync_alternatives.py ../shared/data/talking [--cache DIR] [--no-words]

For every English person the articulation table is fitted on the other people's clips (as in
articulation_cross_validation.py) and the held-out clips' mouths are predicted from:
  phones       the recognised phones (the shipped content mouth)
  words        pocketsphinx word recognition with its en-us word language model, then forced
               alignment of the recognised words (audio.phones.align_transcript): phones
               constrained by words
  lw 0.6/1.6   phone recognition at other language weights
  shift 5/12   phone recognition of the audio delayed by 5 / 12 ms (a different frame grid)
  average      the mean of the shapes from phones, lw 0.6/1.6 and shift 5/12 (a crude posterior)
  phones & words  the mean of the shapes from phones and from recognised words
               (`recognizer: both`)
  words fast   the same with a narrower search (at most 1500 HMMs and 5 words per frame)
  recognised words  what the content mouth hears with `recognizer: words`
               (audio.alignment.align_recognised_words): the narrow search's own word spans
               aligned at phone level (no forced word pass)
  ..., refit   the table fitted on the training people's word-aligned phones instead
  +loudness    a ridge-linear mix, fitted on the training people, of the phones' lip gap, its
               +-1 frame shifts, loudness and its +-1/2 frame shifts and gap x loudness
Measured as the cross-validation does: Pearson r (r0) of the predicted inner-lip gap with the
tracked one, clips of a person averaged first; with the time each input took to compute.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from talkinghead.audio import phones as recognition
from talkinghead.audio.alignment import align_recognised_words
from talkinghead.eval.metrics import pearson
from talkinghead.facemodel.learned_basis import LearnedBasis
from talkinghead.info import machine_summary
from talkinghead.motion.articulation import Segment, fit_articulation
from talkinghead.motion.baseline import BaselineMotion, BaselineMotionConfig
from talkinghead.train.articulation_recipe import clip_phones, is_english_training_clip, mouth_names, person_of, phone_list, prepare_examples
from talkinghead.train.videos import load_talking_clips
from talkinghead.types import AudioClip

RIDGE = 1e-2


def phones_with(language_weight: float = 1.0, delay_s: float = 0.0):
    """A recogniser at another language weight, or of the audio delayed by `delay_s`."""

    def recognise(clip: AudioClip) -> list:
        samples = recognition.clip_at_16k(clip)
        if delay_s:
            samples = np.concatenate([np.zeros(int(delay_s * 16000), np.float32), samples])
        config = replace(recognition.PhoneConfig(), language_weight=language_weight)
        found = recognition.recognize_phones(AudioClip(samples, 16000), config)
        return [Segment(s.phone, s.start - delay_s, s.end - delay_s) for s in found]

    return recognise


def words_then_alignment(clip: AudioClip, **search) -> list:
    """Word recognition with the en-us word LM (pocketsphinx search settings `search`), then
    forced alignment of those words."""
    import pocketsphinx

    paths = recognition.model_paths()
    word_lm = str(Path(paths["allphone"]).with_name("en-us.lm.bin"))
    decoder = pocketsphinx.Decoder(hmm=paths["hmm"], lm=word_lm, dict=paths["dict"], loglevel="FATAL", **search)
    decoder.start_utt()
    decoder.process_raw(recognition.to_pcm(recognition.clip_at_16k(clip)), full_utt=True)
    decoder.end_utt()
    words = decoder.hyp().hypstr if decoder.hyp() else ""
    if not words.strip():
        return []
    found = recognition.align_transcript(clip, words, replace(recognition.PhoneConfig(), unknown_words="skip"))
    return [Segment(s.phone, s.start, s.end) for s in found]


def mix_features(gap: np.ndarray, loudness: np.ndarray) -> np.ndarray:
    """(T, 10) inputs of the ridge-linear mix."""
    shift = np.roll
    return np.stack([gap, gap * loudness, loudness, shift(loudness, 1), shift(loudness, -1), shift(loudness, 2),
                     shift(loudness, -2), shift(gap, 1), shift(gap, -1), np.ones_like(gap)], axis=1)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos")
    parser.add_argument("--cache", default=None, help="face-track and phone cache (default VIDEOS/.talkinghead-cache)")
    parser.add_argument("--no-words", action="store_true", help="skip word recognition (0.5-1x real time)")
    args = parser.parse_args()
    started = time.time()
    cache = Path(args.cache or Path(args.videos) / ".talkinghead-cache")
    clips = {c.name: c for c in load_talking_clips(args.videos, str(cache)) if c.audio is not None and is_english_training_clip(c.name)}
    basis = LearnedBasis()
    names = mouth_names(basis)
    columns = [basis.index(n) for n in names]
    examples = prepare_examples(list(clips.values()), basis, str(cache))
    inputs = {"lw 0.6": phones_with(0.6), "lw 1.6": phones_with(1.6), "shift 5": phones_with(delay_s=0.005), "shift 12": phones_with(delay_s=0.012)}
    if not args.no_words:
        inputs["words"] = words_then_alignment
        inputs["words fast"] = lambda clip: words_then_alignment(clip, maxhmmpf=1500, maxwpf=5)
        inputs["recognised words"] = align_recognised_words  # recognizer: words, the recogniser's own word spans
    segments, seconds = {}, {}
    for label, recognise in inputs.items():
        tic = time.time()
        folder = cache / f"alternative-{label.replace(' ', '-')}"  # the recogniser is not in the cache key: one folder each
        segments[label] = {e.name: clip_phones(clips[e.name].audio, e.name, folder, recognise) for e in examples}
        seconds[label] = time.time() - tic
    loudness_mouth = BaselineMotion(BaselineMotionConfig(mouth="loudness"))
    loudness = {e.name: np.resize(loudness_mouth.jaw_opening(clips[e.name].audio, e.fps)[1], len(e.gaps)) for e in examples}
    gap_per_unit = basis.gap_per_unit[columns]
    results: dict[str, dict[str, list[float]]] = {}
    for person in sorted({person_of(e.name) for e in examples}):
        train = [e for e in examples if person_of(e.name) != person]
        model, report = fit_articulation(train, phone_list(), names, gap_per_unit, basis.opening[columns])
        x, y = [], []
        for e in train:  # the mix is fitted on the training people, each at its own offset
            saved, model.offset = model.offset, report["offsets"][e.name]["offset_s"]
            x.append(mix_features(model.lip_gap(model(e.segments, len(e.gaps), e.fps)), loudness[e.name]))
            model.offset = saved
            y.append(e.gaps)
        x, y = np.concatenate(x), np.concatenate(y)
        weights = np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ y)
        refits = {}  # tables fitted on the word-aligned phones themselves
        for label in [k for k in inputs if "words" in k]:
            on_words = [replace(e, segments=segments[label][e.name]) for e in train]
            refits[label], _ = fit_articulation(on_words, phone_list(), names, gap_per_unit, basis.opening[columns])
        for e in (e for e in examples if person_of(e.name) == person):
            shapes = {"phones": model(e.segments, len(e.gaps), e.fps)}
            shapes.update({label: model(segments[label][e.name], len(e.gaps), e.fps) for label in inputs})
            gaps = {label: s @ gap_per_unit for label, s in shapes.items()}
            gaps["average"] = np.mean([shapes[k] for k in ("phones", "lw 0.6", "lw 1.6", "shift 5", "shift 12")], axis=0) @ gap_per_unit
            gaps["+loudness"] = mix_features(gaps["phones"], loudness[e.name]) @ weights
            if "recognised words" in shapes:
                gaps["phones & words"] = (shapes["phones"] + shapes["recognised words"]) / 2 @ gap_per_unit
            for label, refit in refits.items():
                gaps[f"{label}, refit"] = refit.lip_gap(refit(segments[label][e.name], len(e.gaps), e.fps))
            for label, gap in gaps.items():
                results.setdefault(label, {}).setdefault(person, []).append(pearson(gap, e.gaps))
    print(f"machine: {machine_summary()}")
    print(f"{len(examples)} English clips, {len({person_of(e.name) for e in examples})} people, leave-one-person-out ({time.time() - started:.0f} s)")
    print(f"{'input':12} {'r0 mean':>8} {'worst person':>13} {'better clips':>13}  recognition time")
    base = results["phones"]
    for label, per_person in results.items():
        means = [np.mean(v) for v in per_person.values()]
        better = sum(a > b for p in per_person for a, b in zip(per_person[p], base[p]))
        timing = f"{seconds[label]:.0f} s" if label in seconds else "-"
        print(f"{label:12} {np.mean(means):8.3f} {min(means):13.3f} {better:>8d} / {len(examples)}  {timing}")


if __name__ == "__main__":
    main()
