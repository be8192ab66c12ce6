"""Recipe: learn the articulation table (phone -> mouth shape) from real talking clips.

For every clip with audio: the face track is analysed (pose removed, the clip's closed-mouth
neutral), projected onto the learned basis' mouth coefficients (targets), the inner-lip gap is
measured on the tracked landmarks, and the audio's phones are recognised with pocketsphinx
(audio.phones.recognize_phones; the segments can be cached). `fit_articulation` then estimates
each clip's audio-video offset and the table. Whole people are held out with `hold_out`.
CPU only; a minute or two beyond the phone recognition (about real time).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import InputError
from ..facemodel.learned_basis import LearnedBasis
from ..io.atomic import write_atomically
from ..motion.articulation import Articulation, ArticulationConfig, ArticulationExample, Segment, fit_articulation
from ..motion.tracked import analyse_track, tracked_mouth
from ..types import AudioClip
from .videos import TalkingClip

log = logging.getLogger("talkinghead")

# Clips of one person under several names (keep them on one side of any split).
SAME_PERSON = {
    "vox_rdj_glasses": "vox_rdj",
    "vox_aldridge_cut": "vox_aldridge",
    "studio_man_a": "studio_man",
    "studio_man_b": "studio_man",
    "woman_blue_graphics_1080p": "hdtf_woman_blue",  # possibly the same woman: kept together to be safe
}
ENGLISH_PREFIXES = ("news_cnn_anchor_en", "hdtf_", "vox_", "studio_man_", "mead_m030_sad")
OTHER_LANGUAGES_OR_NOISE = ("man_zh", "speech_macron_fr", "news_anchor_de", "noisy_restaurant")


def person_of(name: str) -> str:
    """The person a clip shows (clip names of one person map to one name)."""
    return SAME_PERSON.get(name, name)


def is_english_training_clip(name: str) -> bool:
    """English speech clips used for training (other languages and the noisy restaurant are
    measured separately; the 1080p medium shot with graphics needs a crop and is left out)."""
    return name.startswith(ENGLISH_PREFIXES) and name not in OTHER_LANGUAGES_OR_NOISE


def audio_digest(clip: AudioClip) -> str:
    return hashlib.sha1(np.ascontiguousarray(clip.samples).tobytes() + str(clip.sample_rate).encode()).hexdigest()[:16]


def clip_phones(clip: AudioClip, name: str, cache: str | Path | None = None, recognise: Callable | None = None) -> list[Segment]:
    """Recognised phone segments of `clip` (cached as JSON in `cache` when given, keyed by the
    audio and the recogniser)."""
    settings = ""
    if recognise is None:
        from ..audio import phones

        recognise = phones.recognize_phones
        # the recogniser's settings and code: a change to either recognises again
        settings = repr(phones.PhoneConfig()) + hashlib.sha1(Path(phones.__file__).read_bytes()).hexdigest()
    key = hashlib.sha1((audio_digest(clip) + settings).encode()).hexdigest()[:16]
    path = Path(cache) / f"phones-{name}-{key}.json" if cache else None
    if path is not None and path.exists():
        return [Segment(*row) for row in json.loads(path.read_text())]
    started = time.time()
    segments = [Segment(s.phone, float(s.start), float(s.end)) for s in recognise(clip)]
    log.info("phones of %s: %d segments (%.0f s)", name, len(segments), time.time() - started)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda p: Path(p).write_text(json.dumps([[s.phone, s.start, s.end] for s in segments])))
    return segments


def mouth_names(basis: LearnedBasis) -> tuple[str, ...]:
    return tuple(n for n in basis.names if n.startswith("mouth"))


def clip_example(clip: TalkingClip, basis: LearnedBasis, names: Sequence[str], phone_cache=None, recognise=None) -> ArticulationExample:
    """Targets, tracked lip gap and phones of one clip."""
    tracked = analyse_track(clip.track)
    coefficients, gaps = tracked_mouth(tracked, basis, names)
    segments = clip_phones(clip.audio, clip.name, phone_cache, recognise)
    return ArticulationExample(clip.name, segments, coefficients, gaps, float(tracked.fps))


def prepare_examples(clips: list[TalkingClip], basis: LearnedBasis, phone_cache=None, recognise=None) -> list[ArticulationExample]:
    names = mouth_names(basis)
    return [clip_example(c, basis, names, phone_cache, recognise) for c in clips if c.audio is not None]


def select(examples: list[ArticulationExample], hold_out: Sequence[str] = (), english_only: bool = True) -> tuple[list, list]:
    """(training, held-out) examples: every clip of a person named in `hold_out` (a clip or a
    person name) is held out; with english_only the training side has English clips only."""
    people = {person_of(h) for h in hold_out}
    known = {person_of(e.name) for e in examples}
    missing = people - known
    if missing:
        raise InputError(f"--hold-out {sorted(missing)}: no such clip or person among {sorted(known)}")
    held = [e for e in examples if person_of(e.name) in people]
    train = [e for e in examples if person_of(e.name) not in people and (not english_only or is_english_training_clip(e.name))]
    return train, held


def train_articulation(
    clips: list[TalkingClip],
    basis: LearnedBasis,
    config: ArticulationConfig | None = None,
    hold_out: Sequence[str] = (),
    phone_cache=None,
    recognise=None,
) -> tuple[Articulation, dict]:
    """Fit on the English clips of every person not held out; returns the model and a report."""
    started = time.time()
    examples = prepare_examples(clips, basis, phone_cache, recognise)
    train, held = select(examples, hold_out)
    if not train:
        raise InputError("no English talking clips with audio left to learn the articulation table from")
    names = mouth_names(basis)
    columns = [basis.index(n) for n in names]
    model, fit = fit_articulation(train, phone_list(), names, basis.gap_per_unit[columns], basis.opening[columns], config)
    model.info.update(
        basis=list(basis.names),
        fps=sorted({e.fps for e in train}),
        train_clips=[e.name for e in train],
        held_out=[e.name for e in held],
    )
    report = {**fit, "train_clips": [e.name for e in train], "held_out": [e.name for e in held], "seconds": time.time() - started}
    report["settings"] = asdict(model.config)
    return model, report


def phone_list() -> tuple[str, ...]:
    from ..audio.phones import PHONES

    return tuple(PHONES)


CROSS_VALIDATION_HEADING = "## Cross-validation"


def kept_cross_validation(existing: str | Path | None) -> str:
    """The cross-validation section of an existing card (written from the benchmark, which a
    retraining does not rerun), with a leading newline; "" when there is none."""
    if existing is None or not Path(existing).is_file():
        return ""
    text = Path(existing).read_text()
    return "\n" + text[text.index(CROSS_VALIDATION_HEADING) :] if CROSS_VALIDATION_HEADING in text else ""


def articulation_card(report: dict, videos: str, existing: str | Path | None = None) -> str:
    """CARD.md text for a trained table: data, command, offsets, gain, training fit; the
    cross-validation section of an existing card (written from the benchmark) is kept."""
    from ..info import machine_summary

    people = sorted({person_of(n) for n in report["train_clips"]})
    offsets = ", ".join(f"{k} {v['offset_s']:+.2f} s (r {v['r']:.2f})" for k, v in sorted(report["offsets"].items()))
    fit = report["train_gap_r"]
    kept = kept_cross_validation(existing)
    return f"""# Articulation table (phone -> mouth shape in the learned expression basis)

- Data: {len(report['train_clips'])} English talking clips with their own voices from `{videos}`,
  {len(people)} people: {', '.join(report['train_clips'])}. Held out: {', '.join(report['held_out']) or 'none'}.
  Not used for training: other languages and noise ({', '.join(OTHER_LANGUAGES_OR_NOISE)}).
- Command: `{report.get('command', 'talkinghead train articulation')}` ({report.get('total_seconds', report['seconds']):.0f} s on
  {report.get('machine', machine_summary())}; phone recognition with pocketsphinx is most of it, cached afterwards).
- What it is: per phone (ARPAbet + SIL) the mouth coefficients mouth_1..K of the learned basis
  (checkpoints/expression_pca), least squares of the dominance-blended table against each tracked
  frame, pulled towards each phone's weighted mean shape; SIL = the closed neutral (weak inside
  speech, dominant in pauses of {report['settings']['pause_s']} s or more, where the mouth closes); coarticulation by
  dominance blending (anticipation {report['settings']['anticipation_s']} s, carry-over {report['settings']['carryover_s']} s);
  bilabials close the lips fully at prediction time; table scaled by the gain {report['gain']:.2f} so
  the predicted lip gap has the tracked speakers' std (median over clips).
- Audio-video offset per clip (best lag of the tracked lip gap against the phones' openness
  within +-{report['settings']['max_offset_s']} s; positive = the mouth follows the phone timings): {offsets}.
  Median {report['offset']:+.3f} s, applied at prediction.
- Training-clip lip-gap Pearson r at each clip's offset: mean {np.mean(list(fit.values())):.2f}
  (min {min(fit.values()):.2f}). Held-out figures: the cross-validation section.
- Settings: {report['settings']}.
{kept}"""
