"""Speech content as phones (talkinghead.audio.phones): recognition, forced alignment, features.

Runs pocketsphinx on demos/speech.wav (espeak-ng English, text in demos/make_examples.py).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import wave

import numpy as np
import pytest

from talkinghead.audio.phones import (
    PHONES,
    PhoneConfig,
    PhoneSegment,
    align_transcript,
    new_decoder,
    phone_features,
    recognize_phones,
    recognize_speech,
)
from talkinghead.errors import InputError
from talkinghead.io.audio import load_audio
from talkinghead.types import AudioClip

from .conftest import DEMO_SPEECH, ROOT

pytest.importorskip("pocketsphinx")


@pytest.fixture(scope="module")
def speech() -> AudioClip:
    return load_audio(DEMO_SPEECH, 16000)


@pytest.fixture(scope="module")
def sentences() -> str:
    sys.path.insert(0, str(ROOT))
    from demos.make_examples import SENTENCES

    return SENTENCES


@pytest.fixture(scope="module")
def aligned(speech, sentences) -> list[PhoneSegment]:
    return align_transcript(speech, sentences)


def assert_covers(segments: list[PhoneSegment], duration: float) -> None:
    """In order, contiguous, from 0 to `duration`, each phone one of PHONES."""
    assert segments[0].start == 0.0
    assert segments[-1].end == pytest.approx(duration, abs=1e-9)
    for a, b in zip(segments, segments[1:]):
        assert a.end == pytest.approx(b.start, abs=1e-9)
    assert all(s.end > s.start and s.phone in PHONES for s in segments)


def spoken(segments: list[PhoneSegment]) -> list[str]:
    return [s.phone for s in segments if s.phone != "SIL"]


def pronunciations(word: str) -> list[list[str]]:
    """Every CMU dictionary pronunciation of `word` ("word", "word(2)", ...)."""
    decoder = new_decoder("align", PhoneConfig())
    names = [word] + [f"{word}({i})" for i in range(2, 6)]
    return [p.split() for p in (decoder.lookup_word(n) for n in names) if p]


def test_recognized_phones_cover_the_clip_and_are_plausible(speech):
    segments = recognize_phones(speech)
    assert_covers(segments, speech.duration)
    voiced = sum(s.end - s.start for s in segments if s.phone != "SIL") / speech.duration
    assert 0.3 < voiced < 0.9  # espeak speech with pauses between words
    assert len(set(spoken(segments))) >= 15  # many different phones, not one label for sound


def test_alignment_gives_the_dictionary_phones_of_the_words(aligned, speech, sentences):
    from talkinghead.audio.alignment import transcript_words

    assert_covers(aligned, speech.duration)
    first = [s for s in aligned if s.phone != "SIL"][:4]
    assert [s.phone for s in first] in (["HH", "AH", "L", "OW"], ["HH", "EH", "L", "OW"])
    assert first[0].start < 0.3
    rest = spoken(aligned)
    for word in transcript_words(sentences):  # each word's phones, one of its pronunciations
        match = next((p for p in pronunciations(word) if rest[: len(p)] == p), None)
        assert match is not None, f"{word}: {rest[:6]} is none of {pronunciations(word)}"
        rest = rest[len(match) :]
    assert rest == []


def test_silence_and_short_audio_give_sil():
    silence = AudioClip(np.zeros(32000, np.float32), 16000)
    assert [s.phone for s in recognize_phones(silence)] == ["SIL"]
    short = AudioClip(np.zeros(20, np.float32), 16000)
    assert recognize_phones(short) == [PhoneSegment("SIL", 0.0, 20 / 16000)]
    assert recognize_phones(AudioClip(np.zeros(0, np.float32), 16000)) == []
    assert align_transcript(short, "hello") == [PhoneSegment("SIL", 0.0, 20 / 16000)]


def test_alignment_helpers():
    from talkinghead.audio.alignment import even_phones, kept_units, pieces

    units = [("a", 0, 99), ("<sil>", 100, 149), ("b", 150, 449), ("<sil>", 450, 499), ("c", 500, 599)]
    config = PhoneConfig(piece_seconds=2.0, overlap_seconds=1.5)
    # cut at the first pause after 2 s of words; pauses belong to no piece
    assert pieces(units, config) == [[("a", 0, 99), ("b", 150, 449)], [("c", 500, 599)]]
    # a window of 6 s keeps the words ending 1.5 s before its end, always at least one word
    assert kept_units(units, 600, config) == units[:3]
    assert kept_units(units[:1], 100, config) == units[:1]
    assert kept_units([("<sil>", 0, 99)], 100, config) == []
    decoder = new_decoder("align", PhoneConfig())
    assert even_phones(decoder, [("hello", 10, 49)]) == [("HH", 10, 19), ("AH", 20, 29), ("L", 30, 39), ("OW", 40, 49)]
    with pytest.raises(InputError, match="unknown_words"):
        PhoneConfig(unknown_words="guess")


def test_phone_features_are_frame_shares():
    segments = [PhoneSegment("SIL", 0.0, 0.5), PhoneSegment("AA", 0.5, 0.9), PhoneSegment("M", 0.9, 1.0)]
    features = phone_features(segments, num_frames=5, fps=4.0)  # frames of 0.25 s; the last one is past the end
    assert features.shape == (5, len(PHONES)) and features.dtype == np.float32
    np.testing.assert_allclose(features.sum(axis=1), 1.0, atol=1e-6)
    aa, m, sil = PHONES.index("AA"), PHONES.index("M"), PHONES.index("SIL")
    np.testing.assert_allclose(features[:, aa], [0, 0, 1, 0.6, 0], atol=1e-6)
    np.testing.assert_allclose(features[:, m], [0, 0, 0, 0.4, 0], atol=1e-6)
    np.testing.assert_allclose(features[:, sil], [1, 1, 0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(phone_features([], 3, 25.0)[:, sil], 1.0)


def test_phone_features_of_real_phones(aligned, speech):
    features = phone_features(aligned, speech.num_frames(25.0), 25.0)
    assert features.shape == (speech.num_frames(25.0), len(PHONES))
    assert features.min() >= 0 and features.max() <= 1
    np.testing.assert_allclose(features.sum(axis=1), 1.0, atol=1e-5)


def test_unknown_words_are_named_or_skipped(speech, caplog):
    with pytest.raises(InputError, match="zqxj"):
        align_transcript(speech, "Hello zqxj and welcome")
    with pytest.raises(InputError, match="no words"):
        align_transcript(speech, " ,. ")
    clip = AudioClip(speech.samples[:16000], 16000)  # "hello"
    with caplog.at_level(logging.WARNING, logger="talkinghead"):
        segments = align_transcript(clip, "hello zqxj", PhoneConfig(unknown_words="skip"))
    assert "zqxj" in caplog.text
    assert spoken(segments)[:2] == ["HH", "AH"] or spoken(segments)[:2] == ["HH", "EH"]


def test_a_transcript_that_does_not_fit_falls_back_to_recognition(speech, caplog):
    clip = AudioClip(speech.samples[:24000], 16000)  # 1.5 s cannot hold forty words
    with caplog.at_level(logging.WARNING, logger="talkinghead"):
        segments = align_transcript(clip, " ".join(["photograph"] * 40))
    assert "recognised phones" in caplog.text
    assert_covers(segments, clip.duration)


def test_long_audio_is_decoded_in_chunks(speech, sentences):
    gap = np.zeros(16000, np.float32)
    samples = np.concatenate([np.concatenate([speech.samples, gap])] * 5)  # about 75 s
    long = AudioClip(samples, 16000)
    config = PhoneConfig(chunk_seconds=20.0)  # several chunks and word-pass windows
    recognized = recognize_phones(long, config)
    assert_covers(recognized, long.duration)
    aligned = align_transcript(long, " ".join([sentences] * 5), config)
    assert_covers(aligned, long.duration)
    period = speech.duration + 1.0
    single = spoken(align_transcript(speech, sentences))
    for k in range(5):  # every copy aligned with the same words in its own time span
        copy = [s for s in aligned if k * period <= s.start < (k + 1) * period]
        assert abs(len(spoken(copy)) - len(single)) <= 3
        assert spoken(copy)[:4] in (["HH", "AH", "L", "OW"], ["HH", "EH", "L", "OW"])


def test_other_sample_rates_and_threads(speech):
    with wave.open(str(DEMO_SPEECH)) as f:  # espeak writes 22050 Hz
        rate, pcm = f.getframerate(), np.frombuffer(f.readframes(f.getnframes()), "<i2")
    native = AudioClip((pcm[: rate * 3] / 32768.0).astype(np.float32), rate)
    assert rate != 16000
    assert_covers(recognize_phones(native), native.duration)
    clip = AudioClip(speech.samples[:48000], 16000)
    expected = recognize_phones(clip)
    results: list = [None] * 3

    def run(i: int) -> None:
        results[i] = recognize_phones(clip)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


def test_import_loads_no_model():
    code = "import sys, talkinghead.audio.phones, talkinghead.audio.alignment; print('pocketsphinx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_results_do_not_depend_on_earlier_calls():
    """A decoder keeps state between utterances: every call must start from a fresh one."""
    from .conftest import syllables

    silence = AudioClip(np.zeros(32000, np.float32), 16000)
    first = recognize_phones(silence)
    recognize_phones(AudioClip(syllables(2.0), 16000))
    assert recognize_phones(silence) == first == [PhoneSegment("SIL", 0.0, 2.0)]


def test_recognised_words_give_phones_covering_the_clip():
    from talkinghead.audio.phones import PhoneConfig, recognize_phones, recognize_speech

    clip = load_audio(DEMO_SPEECH, 16000)
    clip = type(clip)(clip.samples[: 16000 * 5], 16000)
    (segments,) = recognize_speech(clip, PhoneConfig(recognizer="words"))
    assert segments[0].start == 0.0 and abs(segments[-1].end - 5.0) < 0.011
    assert all(a.end == b.start for a, b in zip(segments, segments[1:]))
    spoken = [s.phone for s in segments if s.phone != "SIL"]
    assert len(spoken) > 20 and {"AH", "IY", "OW"} & set(spoken)
    silence = type(clip)(np.zeros(16000 * 2, np.float32), 16000)
    assert {s.phone for s in recognize_speech(silence, PhoneConfig(recognizer="words"))[0]} == {"SIL"}
    phones, words = recognize_speech(clip, PhoneConfig(recognizer="both"))
    assert phones == recognize_phones(clip) and words == segments
    assert recognize_speech(clip, PhoneConfig(recognizer="phones")) == [phones]
    with pytest.raises(InputError, match="recognizer must be one of phones, words, both"):
        PhoneConfig(recognizer="whisper")


def test_the_content_mouth_uses_the_configured_recognizer_and_averages_two_hearings(monkeypatch):
    from talkinghead.audio import phones
    from talkinghead.facemodel.learned_basis import LearnedBasis
    from talkinghead.motion.articulation import Segment
    from talkinghead.motion.baseline import BaselineMotion, BaselineMotionConfig

    open_vowel = [Segment("SIL", 0.0, 0.5), Segment("AA", 0.5, 1.5), Segment("SIL", 1.5, 2.0)]
    silence = [Segment("SIL", 0.0, 2.0)]
    seen = []

    def hearings(clip, config):
        seen.append(config.recognizer)
        return [open_vowel] if config.recognizer != "both" else [open_vowel, silence]

    monkeypatch.setattr(phones, "recognize_speech", hearings)
    clip = AudioClip(np.zeros(32000, np.float32), 16000)
    basis = LearnedBasis()
    mouths = {r: BaselineMotion(BaselineMotionConfig(recognizer=r)).mouth_targets(clip, 25.0, basis)[0] for r in (None, "words", "both")}
    assert seen == [phones.PhoneConfig().recognizer, "words", "both"]
    # the mean with a closed mouth: its spread is already the hearings' average (half the vowel's)
    np.testing.assert_allclose(mouths["both"], mouths["words"] / 2, atol=1e-6)


def test_the_mean_of_disagreeing_hearings_keeps_their_spread():
    from talkinghead.motion.baseline import mean_mouth

    gap_per_unit = np.array([0.2, 0.05])
    t = np.arange(100)
    early = np.stack([np.clip(np.sin(t / 3.0), 0, None), np.zeros(100)], axis=1)
    late = np.roll(early, 4, axis=0)  # the same syllables heard 4 frames later
    mean = mean_mouth([early, late], gap_per_unit)
    assert mean.dtype == np.float32 and mean.shape == (100, 2)
    assert np.isclose(np.std(mean @ gap_per_unit), np.std(early @ gap_per_unit), rtol=1e-5)
    assert np.std((early + late) / 2 @ gap_per_unit) < 0.9 * np.std(early @ gap_per_unit)  # what it corrects
    assert np.all(mean[(early[:, 0] == 0) & (late[:, 0] == 0)] == 0)  # closed where both are closed
    np.testing.assert_array_equal(mean_mouth([early], gap_per_unit), early.astype(np.float32))


def test_the_phone_loop_in_a_child_process_gives_the_same_hearings(speech, monkeypatch):
    from talkinghead.audio import phone_process

    serial = recognize_speech(speech, PhoneConfig(parallel=False))
    started = []
    monkeypatch.setattr(phone_process.PhoneProcess, "__init__", _spy(phone_process.PhoneProcess.__init__, started))
    assert recognize_speech(speech, PhoneConfig(parallel=True)) == serial and started


def test_a_failing_phone_process_falls_back_to_recognising_here(speech, monkeypatch):
    serial = recognize_speech(speech, PhoneConfig(parallel=False))
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child exits 1 at once
    assert recognize_speech(speech, PhoneConfig(parallel=True)) == serial
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # no child at all
    assert recognize_speech(speech, PhoneConfig(parallel=True)) == serial


def _spy(function, calls: list):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return wrapper
