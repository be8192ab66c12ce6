"""Forced alignment of a transcript with pocketsphinx: which phone of which word is when.

Two passes, because pocketsphinx's phone-level (state) alignment fails on long stretches
(a 16 s audiobook clip: "Alignment failed in frame 814"; 10-20 s pieces of espeak speech)
while the same words align a few seconds at a time:
1. word pass (word_pass): windows of about PhoneConfig.chunk_seconds, each ending in a pause,
   align a prefix of the remaining words; this gives each word's span and the pronunciation
   variant heard ("and(2)"), with memory bounded by the window and not the clip (one pass
   over a whole 5-minute clip found no alignment at all);
2. phone pass (piece_phones): pieces of at least PhoneConfig.piece_seconds, cut at pauses, are
   aligned again at phone level with those exact variants; a piece that fails is halved and
   retried, and a single word that still fails gets its phones spread evenly.
Where the words stop aligning (wrong or partial transcript) the rest of the clip gets
recognised phones and a logged notice. Use it through phones.align_transcript.
"""

from __future__ import annotations

import logging
import re

import numpy as np

from ..errors import InputError
from ..types import AudioClip
from .phones import (
    FRAME_RATE,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    PhoneConfig,
    PhoneSegment,
    chunk_bounds,
    clip_at_16k,
    decode,
    new_decoder,
    frames_to_segments,
    pause_frame,
    recognize_phones,
    tidy,
    to_pcm,
)

log = logging.getLogger("talkinghead")

Unit = tuple[str, int, int]  # (word or phone, first frame, last frame inclusive)


def transcript_words(text: str) -> list[str]:
    """Lower-case words of `text` as the CMU dictionary spells them: punctuation dropped,
    apostrophes inside words kept ("don't"), curly apostrophes straightened."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return [w.strip("'-") for w in re.findall(r"[\w'-]+", text) if w.strip("'-")]


def dictionary_words(decoder, words: list[str], config: PhoneConfig) -> list[str]:
    """`words` with hyphenated words not in the dictionary split at the hyphens ("twenty-one").

    Raises InputError naming the words still missing, unless config.unknown_words is "skip"
    (then they are left out and a notice is logged).
    """
    known, missing = [], []
    for word in words:
        parts = [word] if decoder.lookup_word(word) is not None else [p for p in word.split("-") if p]
        for part in parts:
            (known if decoder.lookup_word(part) is not None else missing).append(part)
    if missing and config.unknown_words != "skip":
        raise InputError(
            f"transcript words not in the pronunciation dictionary: {', '.join(sorted(set(missing)))}; "
            "spell them as ordinary English words (numbers as words, e.g. 'ten'), or leave out the transcript"
        )
    if missing:
        log.warning("transcript words not in the dictionary, left out of the alignment: %s", ", ".join(sorted(set(missing))))
    return known


def align_words(clip: AudioClip, text: str, config: PhoneConfig = PhoneConfig()) -> list[PhoneSegment]:
    """Phone segments of `text` aligned to `clip`, covering [0, clip.duration]; see
    phones.align_transcript, which is the public entry point."""
    samples = clip_at_16k(clip)
    duration = len(samples) / SAMPLE_RATE
    words = transcript_words(text)
    if not words:
        raise InputError("the transcript contains no words")
    decoder = new_decoder("align", config)
    words = dictionary_words(decoder, words, config)
    if len(samples) < 4 * FRAME_SAMPLES:  # too short for even one word: silence
        return tidy([], duration)
    units, aligned_frames = word_pass(decoder, samples, words, config)
    segments = [seg for piece in pieces(units, config) for seg in piece_phones(decoder, samples, piece)]
    if aligned_frames * FRAME_SAMPLES < len(samples) - FRAME_SAMPLES:
        segments += recognized_rest(clip, aligned_frames, config)
    return tidy(segments, duration)


def align_recognised_words(clip: AudioClip, config: PhoneConfig = PhoneConfig()) -> list[PhoneSegment]:
    """Phone segments of the words pocketsphinx recognises in `clip` (its en-us word language
    model, chunks of about config.chunk_seconds cut in pauses), aligned at phone level within
    the recognised words' spans; covering [0, clip.duration]. Audio where no word is heard
    gets recognize_phones (noise and music are mostly SIL there)."""
    samples = clip_at_16k(clip)
    duration = len(samples) / SAMPLE_RATE
    recogniser = new_decoder("words", config)
    units: list[Unit] = []
    for first, end in chunk_bounds(samples, config):
        if end - first >= 4 * FRAME_SAMPLES:  # fewer frames than the feature window: silence
            offset = first // FRAME_SAMPLES
            units += [(w, a + offset, b + offset) for w, a, b in decode(recogniser, to_pcm(samples[first:end]))]
    if not any(not is_filler(w) and w != "</s>" for w, _, _ in units):
        return recognize_phones(clip, config)
    aligner = new_decoder("align", config)
    words = [u for u in units if u[0] not in ("<s>", "</s>")]
    return tidy([seg for piece in pieces(words, config) for seg in piece_phones(aligner, samples, piece)], duration)


def recognized_rest(clip: AudioClip, aligned_frames: int, config: PhoneConfig) -> list[PhoneSegment]:
    """recognize_phones of the audio after `aligned_frames`, where the transcript stopped
    aligning, in clip time (with a logged notice)."""
    where = "the audio" if aligned_frames == 0 else f"the audio after {aligned_frames / FRAME_RATE:.1f} s"
    log.warning("the transcript does not align to %s (does it match the speech?); using recognised phones there instead", where)
    samples = clip_at_16k(clip)[aligned_frames * FRAME_SAMPLES :]
    offset = aligned_frames / FRAME_RATE
    rest = recognize_phones(AudioClip(samples, SAMPLE_RATE), config)
    return [PhoneSegment(s.phone, s.start + offset, s.end + offset) for s in rest]


def word_pass(decoder, samples: np.ndarray, words: list[str], config: PhoneConfig) -> tuple[list[Unit], int]:
    """Words (with the variant heard, e.g. "and(2)"), pauses (<sil>) and noises of `words`
    aligned to (S,) 16 kHz `samples`, in absolute frames, and how many frames they cover
    (fewer than the clip's when the rest could not be aligned).

    Windows of about config.chunk_seconds, each ending at a pause, keep memory bounded and
    make one bad stretch cost only the rest of the clip: each window aligns a prefix of the
    remaining words; its last overlap_seconds are aligned again in the next window (see kept_units).
    """
    total = len(samples) // FRAME_SAMPLES
    units: list[Unit] = []
    frame, done = 0, 0
    while done < len(words):
        end = window_end(samples, frame, total, config)
        final = end >= total
        found = window_words(decoder, samples[frame * FRAME_SAMPLES : end * FRAME_SAMPLES], words[done:], final, config)
        if found is None:
            return units, frame
        kept = found if final else kept_units(found, end - frame, config)
        units += [(w, frame + a, frame + b) for w, a, b in kept]
        done += sum(not is_filler(w) for w, _, _ in kept)
        frame = total if final else frame + (kept[-1][2] + 1 if kept else end - frame)
    # Words used up before the last window: what follows them was not in the transcript.
    return units, frame


def window_end(samples: np.ndarray, frame: int, total: int, config: PhoneConfig) -> int:
    """End frame (exclusive) of the word-pass window starting at `frame`: the clip's end when
    that is near, else the quietest moment of the last cut_window_seconds of chunk_seconds."""
    limit = int(config.chunk_seconds * FRAME_RATE)
    if total - frame <= limit * 1.2:  # a short last window would align badly alone
        return total
    window = max(1, int(config.cut_window_seconds * FRAME_RATE))
    return pause_frame(samples, frame + max(1, limit - window), frame + limit)


def window_words(decoder, samples: np.ndarray, words: list[str], final: bool, config: PhoneConfig) -> list[Unit] | None:
    """Units found by aligning `words` (all of them when `final`, else any prefix) to one
    window's samples, frames relative to it; None when the search fails."""
    if not final:  # at most 8 words a second: fast speech says about 5
        words = words[: int(8 * config.chunk_seconds) + 1]
    try:
        grammar_for(decoder, words, final)
        units = [unit for unit in decode(decoder, to_pcm(samples)) if unit[0] not in ("<s>", "</s>")]
    except RuntimeError as exc:  # pocketsphinx's way of saying the search failed
        log.debug("word alignment failed: %s", exc)
        return None
    heard = heard_words(units)
    ok = heard == words if final else heard == words[: len(heard)]
    return units if ok else None


def heard_words(units: list[Unit]) -> list[str]:
    """The words among `units`, variant marks dropped ("and(2)" -> "and").

    Compared with the words asked for, because the search can end "successfully" with words
    missing (e.g. "the" against silence gives only <sil>; "the lips" vanished from a 4 s piece).
    """
    return [re.sub(r"\(\d+\)$", "", word) for word, _, _ in units if not is_filler(word)]


def grammar_for(decoder, words: list[str], final: bool) -> None:
    """Activate a search that accepts `words` in order (pauses and noises allowed between
    them), all of them when `final`, else any non-empty prefix."""
    if final:
        decoder.set_align_text(" ".join(words))
        return
    count = len(words)
    transitions = [(i, i + 1, 1.0, word) for i, word in enumerate(words)]
    transitions += [(i, count, 1.0) for i in range(1, count)]  # null exits: stop after any word
    decoder.add_fsg("prefix", decoder.create_fsg("prefix", 0, count, transitions))
    decoder.activate_search("prefix")


def kept_units(found: list[Unit], window_frames: int, config: PhoneConfig) -> list[Unit]:
    """The units of a non-final window that are sure to be right: those up to the last word
    that ends `overlap_seconds` before the window's end (the rest is aligned again in the
    next window), or up to its first word, so that every window makes progress.

    Near its end a window's last words may be cut off or, when the search stops early,
    squeezed in before speech taken for a long pause (seen on espeak speech, whose sounds
    the silence model matches easily: 2 s of words before the end of a 26 s window).
    """
    limit = window_frames - int(config.overlap_seconds * FRAME_RATE)
    words = [i for i, (w, _, _) in enumerate(found) if not is_filler(w)]
    sure = [i for i in words if found[i][2] < limit]
    return found[: (sure or words)[-1] + 1] if words else []


def is_filler(word: str) -> bool:
    """True for a pause or noise unit (<sil>, [NOISE], [SPEECH]) rather than a word."""
    return word.startswith(("<", "["))


def pieces(units: list[Unit], config: PhoneConfig) -> list[list[Unit]]:
    """Runs of consecutive words, cut at the first pause after `piece_seconds`, or at any word
    boundary after twice that. Pauses and noises belong to no piece (they become SIL)."""
    limit = int(config.piece_seconds * FRAME_RATE)
    groups: list[list[Unit]] = []
    current: list[Unit] = []
    for unit in units:
        span = current[-1][2] - current[0][1] + 1 if current else 0
        if current and (span >= 2 * limit or (is_filler(unit[0]) and span >= limit)):
            groups.append(current)
            current = []
        if not is_filler(unit[0]):
            current.append(unit)
    return groups + [current] if current else groups


def piece_phones(decoder, samples: np.ndarray, piece: list[Unit]) -> list[PhoneSegment]:
    """Phone segments of the words of `piece`, aligned again at phone level on its own audio.
    A piece that fails is split in two halves and each retried; one word that still fails
    gets its dictionary phones spread evenly over its span."""
    first, last = piece[0][1], piece[-1][2]
    pcm = to_pcm(samples[first * FRAME_SAMPLES : (last + 1) * FRAME_SAMPLES])
    try:
        decoder.set_align_text(" ".join(word for word, _, _ in piece))
        if heard_words(decode(decoder, pcm)) == heard_words(piece):
            decoder.set_alignment()  # a second pass over the same audio tracks phones and states
            decode(decoder, pcm)
            phones = [(p.name, p.start, p.start + p.duration - 1) for p in decoder.get_alignment().phones()]
            return frames_to_segments(phones, first)
        reason = "words missing"
    except RuntimeError as exc:
        reason = str(exc)
    log.debug("phone alignment of %d words at %.2f s failed (%s)", len(piece), first / FRAME_RATE, reason)
    if len(piece) > 1:
        half = len(piece) // 2
        return piece_phones(decoder, samples, piece[:half]) + piece_phones(decoder, samples, piece[half:])
    return frames_to_segments(even_phones(decoder, piece), 0)


def even_phones(decoder, piece: list[Unit]) -> list[Unit]:
    """Each word's dictionary phones sharing its span equally (the fallback of piece_phones)."""
    units: list[Unit] = []
    for word, first, last in piece:
        phones = (decoder.lookup_word(word) or "").split()
        bounds = np.linspace(first, last + 1, len(phones) + 1).round().astype(int)
        units += [(phone, int(a), int(b) - 1) for phone, a, b in zip(phones, bounds, bounds[1:]) if b > a]
    return units
