"""The articulation model: phone segments -> mouth coefficients, its fitting and the content mouth."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.motion.articulation import Articulation, ArticulationConfig, ArticulationExample, Segment, fit_articulation

from .conftest import DEMO_SPEECH

PHONES = ("SIL", "AA", "IY", "M", "UW", "T", "S")
NAMES = ("mouth_1", "mouth_2", "mouth_3")
GAP_PER_UNIT = np.array([0.2, 0.05, 0.0])
OPENING = np.array([4.0, 1.0, 0.5])  # 4*0.2 + 1*0.05 = 0.85 IOD of gap per unit of this vector
TABLE = np.array(
    [
        [0.0, 0.0, 0.0],  # SIL
        [0.8, 0.2, 0.1],  # AA: wide open
        [0.3, -0.4, 0.3],  # IY: spread
        [0.1, 0.1, -0.2],  # M
        [0.4, 0.3, -0.6],  # UW: rounded
        [0.25, 0.0, 0.1],  # T
        [0.15, -0.2, 0.2],  # S
    ]
)
FPS = 25.0


def model(**settings) -> Articulation:
    return Articulation(PHONES, NAMES, TABLE, GAP_PER_UNIT, OPENING, ArticulationConfig(**settings))


def speech(*phones_and_lengths: tuple[str, float], start: float = 0.0) -> list[Segment]:
    out, t = [], start
    for phone, length in phones_and_lengths:
        out.append(Segment(phone, t, t + length))
        t += length
    return out


SENTENCE = speech(("SIL", 1.0), ("T", 0.08), ("AA", 0.2), ("M", 0.1), ("IY", 0.15), ("S", 0.1), ("UW", 0.2), ("SIL", 1.5))


def gap(coefficients: np.ndarray) -> np.ndarray:
    return coefficients @ GAP_PER_UNIT


def test_shapes_and_silence_closed():
    out = model()(SENTENCE, 84, FPS)
    assert out.shape == (84, len(NAMES)) and out.dtype == np.float32
    times = np.arange(84) / FPS
    silent = (times < 0.5) | (times > 2.2)  # half a second from any speech
    assert np.abs(out[silent]).max() < 0.01  # SIL is the closed neutral
    assert np.abs(out[-5:]).max() < 1e-6
    speaking = (times > 1.1) & (times < 1.8)
    assert gap(out[speaking]).max() > 0.1
    assert gap(out).min() >= -1e-9  # never a negative lip gap


def test_bilabials_close_the_lips():
    art = model()
    out = art(SENTENCE, 84, FPS)
    m = SENTENCE[3]
    times = art.frame_times(84, FPS)
    middle = int(np.argmin(np.abs(times - (m.start + m.end) / 2)))
    assert gap(out[middle]) == pytest.approx(0.0, abs=1e-9)  # the lips meet
    inside = (times >= m.start) & (times <= m.end)
    assert gap(out[inside]).max() < 0.7 * gap(out[~inside]).max()  # the segment is shut more than the vowels
    assert gap(out[~inside]).max() > 0.1  # the neighbouring vowels stay open
    whole = model(closure_half_s=1.0)(SENTENCE, 84, FPS)  # closure over the whole segment
    np.testing.assert_allclose(gap(whole[inside]), 0.0, atol=1e-9)
    # a bilabial shorter than a frame still closes the nearest frame
    short = speech(("SIL", 0.5), ("AA", 0.3), ("M", 0.02), ("AA", 0.3), ("SIL", 0.5))
    assert gap(art(short, 41, FPS)).min() == pytest.approx(0.0, abs=1e-9)


def test_the_mouth_anticipates_the_next_vowel():
    art = model(smoothing_s=0.0)
    segments = speech(("SIL", 1.0), ("AA", 0.3), ("SIL", 1.0))
    fps = 100.0
    g = gap(art(segments, 230, fps))
    start = int(round((1.0 + art.offset) * fps))
    before = g[start - 10 : start]  # the 100 ms before the vowel's segment
    assert before[0] > 0.02 * g.max()  # already opening 100 ms ahead
    assert np.all(np.diff(before) > 0)  # and rising into it
    assert g[start - 60] < 1e-3  # but closed well before


def test_any_fps_and_determinism():
    art = model()
    a, b = art(SENTENCE, 84, FPS), art(SENTENCE, 84, FPS)
    np.testing.assert_array_equal(a, b)
    high = art(SENTENCE, 201, 60.0)
    assert high.shape == (201, 3)
    # the same time at two frame rates gives about the same shape
    np.testing.assert_allclose(high[::12][:17], a[::5][:17], atol=0.08)
    assert art([], 10, FPS).shape == (10, 3) and np.abs(art([], 10, FPS)).max() == 0
    assert art(SENTENCE, 0, FPS).shape == (0, 3)


def test_checkpoint_round_trip(tmp_path):
    art = model(anticipation_s=0.09)
    art.offset = 0.04
    art.info = {"gain": 1.3}
    art.save(tmp_path / "art", card="# card\n")
    loaded = Articulation.load(tmp_path / "art")
    assert loaded.phones == PHONES and loaded.expression_names == NAMES
    assert loaded.config == art.config and loaded.offset == pytest.approx(0.04) and loaded.info["gain"] == 1.3
    np.testing.assert_allclose(loaded(SENTENCE, 84, FPS), art(SENTENCE, 84, FPS), atol=1e-6)
    assert (tmp_path / "art" / "CARD.md").read_text() == "# card\n"


def random_speech(rng: np.random.Generator, seconds: float) -> list[Segment]:
    segments, t = [], 0.3
    segments.append(Segment("SIL", 0.0, t))
    while t < seconds - 0.5:
        phone = PHONES[int(rng.integers(1, len(PHONES)))] if rng.random() > 0.08 else "SIL"
        length = float(rng.uniform(0.05, 0.25))
        segments.append(Segment(phone, t, t + length))
        t += length
    segments.append(Segment("SIL", t, seconds))
    return segments


def test_fitting_recovers_the_phone_shapes_and_offsets():
    rng = np.random.default_rng(0)
    truth = model()
    examples = []
    for k, offset in enumerate((0.0, 0.08, -0.04)):
        segments = random_speech(rng, 30.0)
        n = int(30.0 * FPS)
        truth.offset = offset
        coefficients = truth.blend(segments, n, FPS) + rng.normal(0, 0.01, (n, 3))
        examples.append(ArticulationExample(f"clip{k}", segments, coefficients, gap(coefficients), FPS))
    fitted, report = fit_articulation(examples, PHONES, NAMES, GAP_PER_UNIT, OPENING, ArticulationConfig(match_std=False))
    np.testing.assert_allclose(fitted.table, TABLE, atol=0.05)
    assert [report["offsets"][f"clip{k}"]["offset_s"] for k in range(3)] == pytest.approx([0.0, 0.08, -0.04], abs=0.041)
    assert fitted.offset == pytest.approx(0.0, abs=0.041)
    assert min(report["train_gap_r"].values()) > 0.8


def test_content_mouth_through_the_baseline_motion():
    pytest.importorskip("pocketsphinx")
    from talkinghead.eval.metrics import silent_frames
    from talkinghead.facemodel.learned_basis import LearnedBasis
    from talkinghead.io.audio import load_audio
    from talkinghead.motion.baseline import BaselineMotion, BaselineMotionConfig

    clip = load_audio(DEMO_SPEECH, 16000)
    clip = type(clip)(clip.samples[: 16000 * 6], 16000)
    basis = LearnedBasis()
    motion = BaselineMotion(BaselineMotionConfig(mouth="content"))
    targets, columns, loudness = motion.mouth_targets(clip, FPS, basis)
    assert targets.shape == (150, 8) and len(loudness) == 150
    assert [basis.names[c] for c in columns] == list(motion.articulation.expression_names)
    lip_gap = targets @ basis.gap_per_unit[columns]
    silent = silent_frames(clip, FPS, len(lip_gap))
    assert lip_gap.min() >= -1e-6
    assert lip_gap[~silent].std() > 0.01 and lip_gap[~silent].max() > 0.05  # it articulates
    longer = type(clip)(np.concatenate([clip.samples, np.zeros(16000, np.float32)]), 16000)  # + 1 s of silence
    closed = motion.mouth_targets(longer, FPS, basis)[0] @ basis.gap_per_unit[columns]
    assert len(closed) == 175 and np.abs(closed[-15:]).max() < 0.01 * closed.max()  # closed in a pause
    assert "articulation" in motion.checkpoints()
    sequence = motion(clip, FPS, basis, np.zeros(len(basis.names), np.float32), seed=0)
    np.testing.assert_allclose(sequence.expression[:, columns], targets)


def test_content_mouth_falls_back_to_loudness_without_the_learned_basis(caplog):
    """68-point faces (face_alignment) have only the geometric basis: the default mouth must still work."""
    from talkinghead.facemodel.geometric_basis import GeometricBasis
    from talkinghead.io.audio import load_audio
    from talkinghead.motion.baseline import BaselineMotion, BaselineMotionConfig

    clip = load_audio(DEMO_SPEECH, 16000)
    clip = type(clip)(clip.samples[:16000], 16000)
    basis = GeometricBasis()
    content = BaselineMotion(BaselineMotionConfig(mouth="content"))
    with caplog.at_level("INFO", logger="talkinghead"):
        targets, columns, _ = content.mouth_targets(clip, FPS, basis)
    loud, loud_columns, _ = BaselineMotion(BaselineMotionConfig(mouth="loudness")).mouth_targets(clip, FPS, basis)
    assert columns == loud_columns == [basis.names.index("jaw_open")] and np.array_equal(targets, loud)
    assert "using the loudness mouth" in caplog.text


def test_holding_out_a_person_holds_out_all_their_clips():
    from talkinghead.errors import InputError
    from talkinghead.train.articulation_recipe import select

    def example(name):
        return ArticulationExample(name, [], np.zeros((3, 3)), np.zeros(3), FPS)

    examples = [example(n) for n in ("vox_rdj", "vox_rdj_glasses", "hdtf_markey", "man_zh", "studio_man_a", "studio_man_b")]
    train, held = select(examples, ["vox_rdj", "studio_man_b"])
    assert sorted(e.name for e in held) == ["studio_man_a", "studio_man_b", "vox_rdj", "vox_rdj_glasses"]
    assert [e.name for e in train] == ["hdtf_markey"]  # man_zh: not English, never trained on
    with pytest.raises(InputError, match="nobody"):
        select(examples, ["nobody"])


def test_the_card_keeps_its_cross_validation_section(tmp_path):
    from talkinghead.train.articulation_recipe import CROSS_VALIDATION_HEADING, articulation_card

    report = {
        "train_clips": ["a", "b"], "held_out": [], "offsets": {"a": {"offset_s": 0.04, "r": 0.5}, "b": {"offset_s": 0.0, "r": 0.4}},
        "offset": 0.02, "gain": 1.5, "train_gap_r": {"a": 0.5, "b": 0.4}, "settings": {"max_offset_s": 0.2, "pause_s": 0.5,
        "anticipation_s": 0.08, "carryover_s": 0.04}, "seconds": 1.0,
    }
    old = tmp_path / "CARD.md"
    old.write_text(f"# old\n\n{CROSS_VALIDATION_HEADING}\n\n| table |\n")
    card = articulation_card(report, "videos", old)
    assert card.startswith("# Articulation table") and card.endswith(f"{CROSS_VALIDATION_HEADING}\n\n| table |\n")


def test_noise_keeps_the_content_mouth_closed_with_a_notice(caplog):
    pytest.importorskip("pocketsphinx")
    from talkinghead.facemodel.learned_basis import LearnedBasis
    from talkinghead.motion.baseline import BaselineMotion
    from talkinghead.types import AudioClip

    noise = AudioClip((0.2 * np.random.default_rng(0).standard_normal(16000 * 3)).astype(np.float32), 16000)
    basis = LearnedBasis()
    with caplog.at_level("INFO", logger="talkinghead"):
        targets, columns, _ = BaselineMotion().mouth_targets(noise, FPS, basis)
    assert np.abs(targets @ basis.gap_per_unit[columns]).max() < 0.02
    assert "no speech recognised" in caplog.text
