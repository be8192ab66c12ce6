"""Speech content as phones: pocketsphinx phone recognition, forced alignment, per-frame features.

clip --recognize_phones--> [PhoneSegment] (any speech, no transcript)
clip + text --align_transcript--> [PhoneSegment] (sharper timing; see alignment.py)
[PhoneSegment] --phone_features--> (T, len(PHONES)) share of each video frame's time per phone

Everything runs offline on the en-us acoustic model, phone language model and CMU dictionary
that ship inside the pocketsphinx 5.1.1 wheel, at about 0.05 s per second of audio on one core
here (benchmarks/phones_speed.py). Nothing is loaded at import: the first call creates a
decoder of its own (measured here: 0.02 s and 6 MB for phone recognition, 0.13 s and 28 MB with
the CMU dictionary for alignment), so results never depend on earlier calls and concurrent
calls (the web demo's threads) never share one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..types import AudioClip

log = logging.getLogger("talkinghead")

# The 39 ARPAbet phones of pocketsphinx's en-us model (its CMU dictionary carries no stress
# marks), with SIL first for silence and the noise fillers +NSN+, +SPN+ mapped onto it.
PHONES: tuple[str, ...] = (
    "SIL", "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G",
    "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH",
    "UH", "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
PHONE_INDEX = {name: i for i, name in enumerate(PHONES)}

SAMPLE_RATE = 16000  # the acoustic model's rate
FRAME_RATE = 100  # decoder frames per second, fixed by the acoustic model's training
FRAME_SAMPLES = SAMPLE_RATE // FRAME_RATE


@dataclass(frozen=True)
class PhoneSegment:
    """One phone in time: `phone` is one of PHONES, `start` < `end` in seconds from the clip's start."""

    phone: str
    start: float
    end: float


RECOGNIZERS = ("phones", "words", "both")


@dataclass(frozen=True)
class PhoneConfig:
    """Decoder settings, defaults in one place."""

    language_weight: float = 1.0
    """Weight of the phone language model against the acoustics. pocketsphinx's default (6.5,
    meant for word LMs) labels a third of espeak speech as silence; 0.5-1.5 agreed best with
    forced alignments of five clips (frame agreement 0.55-0.63 against 0.42-0.51 at 8)."""
    beam: float = 1e-48
    """Search beam (pocketsphinx's default); wider is slower and rarely better here."""
    chunk_seconds: float = 30.0
    """Recognition decodes at most this much audio at a time, so memory and latency stay bounded."""
    cut_window_seconds: float = 5.0
    """Each chunk ends at the quietest moment of its last `cut_window_seconds`, so cuts fall in pauses."""
    overlap_seconds: float = 5.0
    """Forced alignment's word pass keeps only the words of each window that end this long
    before the window's end; the next window starts there."""
    piece_seconds: float = 4.0
    """Forced alignment's phone pass runs on pieces at least this long, cut at pauses between
    words (on 10-20 s pieces pocketsphinx's phone alignment often fails)."""
    recognizer: str = "both"
    """What the content mouth hears without a transcript. "phones": the phone loop (about 0.05 s
    per second of audio). "words": pocketsphinx recognises words with its en-us word language
    model (a narrow search: `word_max_hmms`, `word_max_words`) and their phones are aligned to the
    audio, so real words constrain the phones (about 0.25 s per second). "both": the mean of the
    two mouths. Leave-one-person-out over 18 English people (benchmarks/lipsync_alternatives.py),
    lip-gap r mean / worst person: phones 0.34 / -0.06, words 0.38 / 0.15, both 0.39 / 0.11 (better
    than phones on 16 of 21 clips); rendered check of six unseen people (benchmarks/lipsync_real.py):
    phones 0.43 (min 0.19), words 0.34 (0.20), both 0.42 (0.21). "both" is the default: as good
    on the rendered check, clearly better over everyone, and never far off on a clip."""
    parallel: bool = True
    """With "both", recognise phones in a child process while this one recognises words: the
    same hearings, 3.70 s instead of 4.68 s for 34 s of speech on two cores
    (benchmarks/phones_speed.py)."""
    word_max_hmms: int = 1500
    """Word search: at most this many active HMMs per frame (pocketsphinx maxhmmpf). With 1500
    and `word_max_words` 5 the words heard were nearly those of the default search, 3x faster."""
    word_max_words: int = 5
    """Word search: at most this many distinct words ending per frame (pocketsphinx maxwpf)."""
    unknown_words: str = "error"
    """Transcript words missing from the CMU dictionary: "error" (InputError naming them) or
    "skip" (left out; their sound then aligns as silence or noise)."""

    def __post_init__(self) -> None:
        if self.unknown_words not in ("error", "skip"):
            raise InputError(f"unknown_words must be 'error' or 'skip', got {self.unknown_words!r}")
        if self.recognizer not in RECOGNIZERS:
            raise InputError(f"recognizer must be one of {', '.join(RECOGNIZERS)}, got {self.recognizer!r}")


def model_paths() -> dict[str, str]:
    """Paths inside the pocketsphinx wheel: acoustic model "hmm", phone LM "allphone", word LM
    "words", "dict"."""
    import pocketsphinx

    root = pocketsphinx.get_model_path()
    return {
        "hmm": os.path.join(root, "en-us", "en-us"),
        "allphone": os.path.join(root, "en-us", "en-us-phone.lm.bin"),
        "words": os.path.join(root, "en-us", "en-us.lm.bin"),
        "dict": os.path.join(root, "en-us", "cmudict-en-us.dict"),
    }


def new_decoder(kind: str, config: PhoneConfig):
    """A fresh pocketsphinx Decoder for "allphone" (phone recognition), "words" (word
    recognition) or "align" (forced alignment). Every call gets its own: a decoder carries state from one utterance to the next
    (measured: 2 s of silence decoded as SIL, but as SIL F SIL after a burst of noise), so a
    shared one would make a clip's phones depend on what was decoded before; creating one
    takes 0.02 s (0.13 s with the dictionary)."""
    import pocketsphinx

    paths = model_paths()
    # FATAL: pocketsphinx reports failed searches on stderr; callers handle them and log here.
    common = dict(hmm=paths["hmm"], lm=None, beam=config.beam, loglevel="FATAL")
    if kind == "allphone":
        # No dictionary: phone search needs none, and loading it is 90% of the time and memory.
        return pocketsphinx.Decoder(allphone=paths["allphone"], dict=None, lw=config.language_weight, **common)
    if kind == "words":
        common["lm"] = paths["words"]
        return pocketsphinx.Decoder(dict=paths["dict"], maxhmmpf=config.word_max_hmms, maxwpf=config.word_max_words, **common)
    return pocketsphinx.Decoder(dict=paths["dict"], **common)


def clip_at_16k(clip: AudioClip) -> np.ndarray:
    """(S,) float32 samples in [-1, 1] at 16 kHz, resampled if the clip has another rate."""
    if clip.sample_rate == SAMPLE_RATE:
        return np.asarray(clip.samples, dtype=np.float32)
    from ..io.audio import audio_from_array

    return audio_from_array(clip.samples, clip.sample_rate, SAMPLE_RATE).samples


def to_pcm(samples: np.ndarray) -> bytes:
    """16-bit PCM bytes of (S,) float samples in [-1, 1], with +-1 LSB of fixed-seed dither.

    Exact digital silence (as espeak writes between words) breaks the search: without the
    dither forced alignment of demos/speech.wav fails and half of it is recognised as SIL.
    The fixed seed keeps results deterministic. float32 throughout: a 10-minute clip needs
    about 100 MB of temporaries, not 300.
    """
    scaled = np.asarray(samples, dtype=np.float32) * np.float32(32767.0)
    scaled += np.random.default_rng(0).random(len(scaled), dtype=np.float32) * 2 - 1
    return np.clip(np.round(scaled, out=scaled), -32768, 32767, out=scaled).astype("<i2").tobytes()


def decode(decoder, pcm: bytes) -> list[tuple[str, int, int]]:
    """(name, first frame, last frame inclusive) of each segment the active search finds in one
    utterance; [] when it finds no result."""
    decoder.start_utt()
    # full_utt: the whole chunk is known, so cepstral mean normalisation uses all of it.
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    segments = decoder.seg()
    return [] if segments is None else [(s.word, s.start_frame, s.end_frame) for s in segments]


def phone_name(name: str) -> str:
    """PHONES name of a decoder unit: stress digits dropped; SIL, fillers (+NSN+, +SPN+, <sil>,
    [NOISE]) and anything unknown become SIL."""
    name = name.rstrip("012")
    return name if name in PHONE_INDEX else "SIL"


def tidy(segments: list[PhoneSegment], duration: float) -> list[PhoneSegment]:
    """Segments in order covering [0, duration] exactly: gaps filled and overlaps trimmed,
    consecutive SIL merged, empty segments dropped. [] for a zero-length clip."""
    out: list[PhoneSegment] = []
    cursor = 0.0
    for seg in sorted(segments, key=lambda s: s.start):
        start, end = max(seg.start, cursor), min(seg.end, duration)
        if end <= start:
            continue
        if start > cursor:
            _append(out, PhoneSegment("SIL", cursor, start))
        _append(out, PhoneSegment(seg.phone, start, end))
        cursor = end
    if duration > cursor:
        _append(out, PhoneSegment("SIL", cursor, duration))
    return out


def _append(out: list[PhoneSegment], seg: PhoneSegment) -> None:
    if out and seg.phone == "SIL" and out[-1].phone == "SIL":
        out[-1] = PhoneSegment("SIL", out[-1].start, seg.end)
    else:
        out.append(seg)


def chunk_bounds(samples: np.ndarray, config: PhoneConfig) -> list[tuple[int, int]]:
    """[(first, end) sample index] of consecutive chunks of at most `chunk_seconds`, on the
    decoder's 10 ms frame grid, each ending at the quietest moment of its last
    `cut_window_seconds` (see pause_frame)."""
    total = len(samples) // FRAME_SAMPLES
    limit = int(config.chunk_seconds * FRAME_RATE)
    window = max(1, int(config.cut_window_seconds * FRAME_RATE))
    cuts = [0]
    while total - cuts[-1] > limit * 1.2:  # a short tail would decode badly alone: keep it with the rest
        cuts.append(pause_frame(samples, cuts[-1] + max(1, limit - window), cuts[-1] + limit))
    ends = [c * FRAME_SAMPLES for c in cuts[1:]] + [len(samples)]
    return [(c * FRAME_SAMPLES, e) for c, e in zip(cuts, ends)]


def pause_frame(samples: np.ndarray, lo: int, hi: int) -> int:
    """The 10 ms frame in [lo, hi) of (S,) 16 kHz samples where the mean energy of the 200 ms
    around it is lowest: a real pause, not one quiet frame inside a stop consonant."""
    first = max(0, lo - 10)
    framed = samples[first * FRAME_SAMPLES : (hi + 10) * FRAME_SAMPLES]
    framed = framed[: len(framed) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    energy = np.einsum("ij,ij->i", framed, framed, dtype=np.float64)  # no float64 copy of the audio
    smooth = np.convolve(energy, np.ones(20) / 20, mode="same")[lo - first : hi - first]
    return lo + int(np.argmin(smooth)) if len(smooth) else lo


def frames_to_segments(units: list[tuple[str, int, int]], offset_frames: int) -> list[PhoneSegment]:
    """PhoneSegments (seconds) of decoder units (name, first, last frame) found at `offset_frames`."""
    return [
        PhoneSegment(phone_name(name), (offset_frames + first) / FRAME_RATE, (offset_frames + last + 1) / FRAME_RATE)
        for name, first, last in units
        if last >= first
    ]


def recognize_phones(clip: AudioClip, config: PhoneConfig = PhoneConfig()) -> list[PhoneSegment]:
    """Phones heard in `clip` (any rate, mono float32 in [-1, 1]) by pocketsphinx's phone decoder
    with the en-us phone language model.

    Returns segments in order covering [0, clip.duration] exactly; silence and noise are SIL;
    a clip too short to decode is one SIL segment, a zero-length one [].
    Long clips are decoded in chunks of about `config.chunk_seconds`, cut in pauses; about
    0.05 s per second of audio on one core here.
    """
    samples = clip_at_16k(clip)
    duration = len(samples) / SAMPLE_RATE
    segments: list[PhoneSegment] = []
    decoder = new_decoder("allphone", config)  # one for all chunks of this clip
    for first, end in chunk_bounds(samples, config):
        if end - first >= 4 * FRAME_SAMPLES:  # fewer frames than the feature window: silence
            segments += frames_to_segments(decode(decoder, to_pcm(samples[first:end])), first // FRAME_SAMPLES)
    return tidy(segments, duration)


def recognize_speech(clip: AudioClip, config: PhoneConfig = PhoneConfig()) -> list[list[PhoneSegment]]:
    """The phones of `clip` as the content mouth hears them without a transcript, one segment
    list per hearing (each in order, covering [0, clip.duration]): recognize_phones for
    config.recognizer "phones", recognised words aligned at phone level for "words", both lists
    for "both" (the mouth then takes the mean of the two)."""
    from .alignment import align_recognised_words

    if config.recognizer == "phones":
        return [recognize_phones(clip, config)]
    if config.recognizer == "words":
        return [align_recognised_words(clip, config)]
    # pocketsphinx holds the GIL, so the phone loop runs in a child process while this one
    # recognises words: on two cores both hearings take about as long as the words alone.
    child = phones_elsewhere(clip, config) if config.parallel else None
    try:
        words = align_recognised_words(clip, config)
        phones = child.result() if child is not None else None
    finally:
        if child is not None:
            child.kill()  # already finished, unless the words failed or were interrupted
    return [phones if phones is not None else recognize_phones(clip, config), words]


def phones_elsewhere(clip: AudioClip, config: PhoneConfig):
    """A PhoneProcess recognising the clip's phones, or None where no child can start (the
    caller then recognises them itself)."""
    from .phone_process import PhoneProcess

    try:
        return PhoneProcess(clip, config)
    except OSError as exc:
        log.debug("no child process for the phone recogniser (%s); recognising the phones here", exc)
        return None


def align_transcript(clip: AudioClip, text: str, config: PhoneConfig = PhoneConfig()) -> list[PhoneSegment]:
    """Phones of the words of `text` placed in `clip` by forced alignment with the CMU dictionary.

    Returns segments in order covering [0, clip.duration], pauses as SIL. Words missing from
    the dictionary raise InputError naming them (or are skipped, see PhoneConfig.unknown_words).
    When the words cannot be aligned to the audio (wrong transcript, no speech), logs a notice
    and returns recognize_phones(clip) instead.
    """
    # Imported here because alignment.py builds on this module's decoders and segments.
    from .alignment import align_words

    return align_words(clip, text, config)


def phone_features(segments: list[PhoneSegment], num_frames: int, fps: float) -> np.ndarray:
    """(num_frames, len(PHONES)) float32 in [0, 1]: row t is the share of video frame t's time,
    [t / fps, (t + 1) / fps), covered by each phone. Rows sum to 1; time that no segment covers
    (after the last one, or everything for []) counts as SIL."""
    edges = np.arange(num_frames + 1, dtype=np.float64) / fps
    covered = np.zeros((num_frames, len(PHONES)), dtype=np.float64)
    if segments:
        starts = np.array([s.start for s in segments])
        ends = np.array([s.end for s in segments])
        index = np.array([PHONE_INDEX[s.phone] for s in segments])
        for p in np.unique(index):
            covered[:, p] = np.diff(_time_covered(starts[index == p], ends[index == p], edges))
    covered *= fps  # seconds -> share of the frame
    covered[:, 0] += np.clip(1.0 - covered.sum(axis=1), 0.0, None)
    return (covered / covered.sum(axis=1, keepdims=True)).astype(np.float32)


def _time_covered(starts: np.ndarray, ends: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(N,) seconds before each of `times` that lie inside the disjoint intervals [starts, ends).

    The covered time grows piecewise linearly with knots at the interval ends, so one np.interp
    gives it at every time: O(N + K) memory even for hours of audio.
    """
    order = np.argsort(starts)
    starts, ends = starts[order], ends[order]
    before = np.concatenate([[0.0], np.cumsum(ends - starts)])
    knots = np.stack([starts, ends], axis=1).ravel()
    values = np.stack([before[:-1], before[1:]], axis=1).ravel()
    return np.interp(times, knots, values, left=0.0, right=before[-1])
