"""MFR-Net's listener: prosody, speaker features, the constructed corpus, the diffusion model
(training, seeded sampling, window joins, save/load) and the `mfr` pipeline's listener video."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.audio.prosody import frame_pitch, prosody_features, time_since
from talkinghead.motion.feature_aggregation import ATTITUDES
from talkinghead.motion.mfr import MFRNet, MFRNetConfig
from talkinghead.motion.speaker_features import CONTENT_NAMES, SPEAKER_NAMES, SpeakerFeatures, phone_classes
from talkinghead.audio.phones import PHONES
from talkinghead.types import AudioClip

from .conftest import syllables

EXPRESSION = ("mouth_1", "brows_1")
FPS = 25.0


def tiny_config(**changes) -> MFRNetConfig:
    settings = dict(window=16, overlap=4, dim=32, layers=1, heads=2, train_timesteps=50, sample_steps=5, dropout=0.0)
    return MFRNetConfig(expression_names=EXPRESSION, speaker_names=SPEAKER_NAMES, **{**settings, **changes})


def speaker_with_pauses(seconds: float = 6.0, period: float = 1.5) -> SpeakerFeatures:
    """Synthetic speaker features: speech for 2/3 of every `period`, then a pause."""
    t = np.arange(int(seconds * FPS)) / FPS
    voiced = ((t % period) < period * 2 / 3).astype(np.float32)
    values = np.zeros((len(t), len(SPEAKER_NAMES)), np.float32)
    values[:, SPEAKER_NAMES.index("voiced")] = voiced
    values[:, SPEAKER_NAMES.index("loudness")] = voiced * 0.7
    values[:, SPEAKER_NAMES.index("pause")] = time_since(voiced < 0.5, FPS, 2.0)
    return SpeakerFeatures(values, FPS)


# -- prosody and speaker features ------------------------------------------------------------------
def test_pitch_of_a_tone_and_silence():
    rate = 16000
    t = np.arange(rate) / rate
    tone = AudioClip((0.3 * np.sin(2 * np.pi * 150.0 * t)).astype(np.float32), rate)
    hz, strength = frame_pitch(tone, FPS, 25)
    assert np.allclose(hz[2:-2], 150.0, rtol=0.02) and strength[5] > 0.9
    silent = AudioClip(np.zeros(rate, np.float32), rate)
    assert not frame_pitch(silent, FPS, 25)[0].any()


def test_prosody_marks_pauses_between_syllable_bursts():
    clip = AudioClip(syllables(3.0, pause=(1.0, 2.0)), 16000)
    features = prosody_features(clip, FPS)
    assert features.values.shape == (75, 6)
    pause = features.column("pause")
    assert pause[45] > 0.3 and pause[:25].max() < 0.15  # the time since speech stopped grows in the long pause only
    assert features.column("voiced")[45] == 0.0 and features.column("voiced")[:25].mean() > 0.5


def test_phone_classes_sum_to_one():
    shares = np.zeros((3, len(PHONES)), np.float32)
    shares[0, PHONES.index("SIL")] = 1
    shares[1, PHONES.index("AA")] = 0.5
    shares[1, PHONES.index("M")] = 0.5
    shares[2, PHONES.index("S")] = 1
    classes = phone_classes(shares)
    assert classes.shape == (3, len(CONTENT_NAMES)) and np.allclose(classes.sum(axis=1), 1)
    assert classes[1].tolist() == [0.0, 0.5, 0.5, 0.0] and classes[2, 3] == 1


# -- the constructed corpus ----------------------------------------------------------------------
def corpus_listener(attitude: str, seed: int = 0) -> np.ndarray:
    from talkinghead.train.listener_corpus import ExpressionDirections, ListenerCorpusConfig, construct_listener

    config = ListenerCorpusConfig()
    speaker = speaker_with_pauses(30.0)
    directions = ExpressionDirections(smile=np.array([1.0, 0.0], np.float32), frown=np.array([0.0, 1.0], np.float32))
    idle = np.zeros((len(speaker), 3))
    return construct_listener(speaker, idle, config.attitudes[attitude], directions, config, np.random.default_rng(seed))


def test_constructed_listeners_nod_and_smile_by_attitude():
    positive, negative = corpus_listener("positive"), corpus_listener("negative")
    assert positive.shape == (750, 3 + 2 + 2)
    nod_depth = lambda m: np.mean(np.abs(np.diff(m[:, 1])))  # noqa: E731 (pitch activity)
    assert nod_depth(positive) > 2 * nod_depth(negative)
    assert positive[:, 3].mean() > 0.2 > negative[:, 3].mean()  # the smile coefficient
    assert negative[:, 4].mean() > positive[:, 4].mean()  # the frown


def test_nods_start_shortly_after_pauses_start():
    listener = corpus_listener("positive")
    speaker = speaker_with_pauses(30.0)
    pitch = listener[:, 1] - np.median(listener[:, 1])
    rest = np.convolve(pitch <= 0.05, np.ones(4), "full")[: len(pitch)] == 4  # still for the last 4 frames
    onsets = np.flatnonzero((pitch[1:] > 0.05) & rest[:-1]) + 1  # a nod's start, not its second cycle's
    pauses = np.flatnonzero(np.diff(speaker.column("voiced")) < 0) + 1
    delays = np.array([(t - pauses[pauses <= t].max()) / FPS for t in onsets if (pauses <= t).any()])
    assert len(onsets) >= 10 and np.all((delays >= 0.1) & (delays <= 0.7)), delays


# -- the diffusion model -------------------------------------------------------------------------
def tiny_examples(count: int = 6):
    from talkinghead.train.listener_corpus import ListenerExample

    examples = []
    for k in range(count):
        attitude = k % 3
        speaker = speaker_with_pauses(3.0)
        motion = np.zeros((len(speaker), 7), np.float32)
        motion[:, 1] = (2.0 - attitude) * np.sin(np.arange(len(speaker)) / 3.0)  # pitch activity by attitude
        motion[:, 3] = 1.0 - attitude * 0.5
        examples.append(ListenerExample(f"c{k}", speaker, motion, np.zeros(2, np.float32), attitude, f"p{k}"))
    return examples


def test_a_few_training_steps_lower_the_loss():
    from talkinghead.train.mfr_recipe import MFRTrainConfig, train_mfr

    config = MFRTrainConfig(steps=60, batch=16, lr=3e-3, val_every=20, stride=4)
    model, report = train_mfr(tiny_examples(), tiny_examples(3), tiny_config(), config)
    curve = report["curve"]
    assert curve[-1]["train_loss"] < 0.7 * curve[0]["train_loss"], curve
    assert curve[-1]["val_loss"] is not None


@pytest.fixture(scope="module")
def model() -> MFRNet:
    torch.manual_seed(0)
    return MFRNet(tiny_config()).eval()


def test_forward_shapes_and_backward(model):
    b, w, c = 3, 16, len(model.config.channels)
    args = (torch.randn(b, w, c), torch.tensor([0, 10, 49]), torch.zeros(b, w, c), torch.zeros(b, w, 1),
            torch.randn(b, w, len(SPEAKER_NAMES)), torch.zeros(b, 2), torch.tensor([0, 1, 3]))  # fmt: skip
    out = model(*args)
    assert out.shape == (b, w, c)
    out.square().mean().backward()
    assert all(p.grad is not None for p in model.fam.parameters())
    model.zero_grad()


def test_sampling_is_seeded_and_any_length(model):
    speaker = speaker_with_pauses(2.3).values  # 57 frames: four windows of 16, the last cut short
    a = model.sample(speaker, np.zeros(2), 0, seed=3)
    b = model.sample(speaker, np.zeros(2), 0, seed=3)
    other = model.sample(speaker, np.zeros(2), 0, seed=4)
    assert a.shape == (57, len(model.config.channels)) and np.isfinite(a).all()
    assert np.array_equal(a, b) and not np.allclose(a, other)


def test_windows_continue_each_other_without_jumps():
    from talkinghead.train.mfr_recipe import MFRTrainConfig, train_mfr

    trained, _ = train_mfr(tiny_examples(), [], tiny_config(), MFRTrainConfig(steps=150, batch=16, lr=3e-3, val_every=150, stride=2))
    a = trained.sample(speaker_with_pauses(4.0).values, np.zeros(2), 0, seed=0)
    steps = np.abs(np.diff(a / trained.motion_std.numpy(), axis=0)).max(axis=1)  # in units of each channel's spread
    stride, overlap = 12, 4
    seams = [k * stride + overlap - 1 for k in range(1, len(a) // stride)]  # the last given frame -> the first new one
    assert np.median(steps[seams]) <= 3 * np.median(steps), (steps[seams], np.median(steps))


def test_diversity_zero_gives_one_motion_for_every_seed(model):
    speaker = speaker_with_pauses(1.0).values
    assert np.allclose(model.sample(speaker, np.zeros(2), 1, seed=0, diversity=0.0),
                       model.sample(speaker, np.zeros(2), 1, seed=5, diversity=0.0), atol=1e-5)  # fmt: skip


def test_save_load_round_trip(model, tmp_path):
    model.save(tmp_path / "mfr")
    loaded = MFRNet.load(tmp_path / "mfr")
    assert loaded.config == model.config
    speaker = speaker_with_pauses(1.0).values
    assert np.array_equal(loaded.sample(speaker, np.zeros(2), 2, seed=1), model.sample(speaker, np.zeros(2), 2, seed=1))


def test_attitudes_are_the_embedding_order():
    assert ATTITUDES == ("positive", "neutral", "negative")


# -- the pipeline and `talkinghead listen` ----------------------------------------------------------
def write_speaker_video(path, seconds: float = 1.6, sound: bool = True, face: bool = True, fps: float = 10.0):
    from PIL import Image

    from talkinghead.io.video import write_video
    from talkinghead.types import RenderedChunk

    from .conftest import DEMO_IMAGE

    frame = np.asarray(Image.open(DEMO_IMAGE).convert("RGB").resize((256, 256)))
    if not face:
        frame = np.full_like(frame, 90)
    frames = np.repeat(frame[None], int(seconds * fps), axis=0)
    audio = AudioClip(syllables(seconds), 16000) if sound else None
    write_video(path, [RenderedChunk(frames, np.zeros(frames.shape[:3], np.uint8), 0)], fps=fps, audio=audio)
    return str(path)


@pytest.fixture(scope="module")
def speaker_video(tmp_path_factory):
    return write_speaker_video(tmp_path_factory.mktemp("speaker") / "speaker.mp4")


def listen(args, capsys) -> tuple[int, str, str]:
    from talkinghead.cli import main

    code = main(["listen", *args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_listen_side_by_side_carries_the_speakers_sound_and_length(speaker_video, tmp_path, capsys):
    from talkinghead.io.video import probe_video
    from talkinghead.io.audio import load_audio

    from .conftest import DEMO_IMAGE

    out = tmp_path / "listener.mp4"
    code, _, err = listen(["--image", str(DEMO_IMAGE), "--speaker-video", speaker_video, "--out", str(out), "--fps", "10",
                           "--attitude", "positive", "--side-by-side", "--seed", "0"], capsys)  # fmt: skip
    assert code == 0, err
    from PIL import Image

    info = probe_video(out)
    width, height = Image.open(DEMO_IMAGE).size
    assert abs(info.duration - 1.6) <= 0.2 and abs(load_audio(out).duration - 1.6) <= 0.2
    assert info.height == height and info.width == width + height  # the square speaker video beside the photo


def test_listen_refuses_a_silent_or_faceless_speaker_video_in_one_line(tmp_path, capsys):
    from .conftest import DEMO_IMAGE

    silent = write_speaker_video(tmp_path / "silent.mp4", sound=False)
    code, _, err = listen(["--image", str(DEMO_IMAGE), "--speaker-video", silent, "--out", str(tmp_path / "a.mp4")], capsys)
    assert code != 0 and "has no sound" in err and len(err.strip().splitlines()) == 1, err
    faceless = write_speaker_video(tmp_path / "noface.mp4", face=False)
    code, _, err = listen(["--image", str(DEMO_IMAGE), "--speaker-video", faceless, "--out", str(tmp_path / "b.mp4")], capsys)
    assert code != 0 and "speaker video" in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.glob("*a.mp4")) and not list(tmp_path.glob(".*"))


def test_attitudes_change_the_listener(speaker_video):
    from talkinghead.api import load_pipeline
    from talkinghead.pipelines.inputs import ListenerInputs

    from .conftest import DEMO_IMAGE

    with load_pipeline("mfr") as pipe:
        inputs = ListenerInputs(str(DEMO_IMAGE), speaker_video)
        positive = pipe(inputs, seed=0, fps=10.0, attitude="positive").motion
        negative = pipe(inputs, seed=0, fps=10.0, attitude="negative").motion
        still = pipe(inputs, seed=0, fps=10.0, still=True).motion
    assert not np.allclose(positive.expression, negative.expression)
    assert not still.rotation.any()


def test_train_mfr_on_a_tiny_vico_layout(tmp_path, capsys):
    """`train mfr --pairs`: real-pair training reads the ViCo challenge layout end to end."""
    import json

    from talkinghead.cli import main
    from talkinghead.io.audio import write_wav

    videos, audios = tmp_path / "vico" / "videos", tmp_path / "vico" / "audios"
    videos.mkdir(parents=True)
    audios.mkdir()
    rows = ["video_id,uuid,speaker_id,listener_id,attitude"]
    for k, attitude in enumerate(("positive", "negative")):
        uuid = f"pair{k}"
        write_speaker_video(videos / f"{uuid}.speaker.mp4", seconds=3.0, sound=False)
        write_speaker_video(videos / f"{uuid}.listener.mp4", seconds=3.0, sound=False)
        write_wav(audios / f"{uuid}.wav", AudioClip(syllables(3.0), 16000))
        rows.append(f"{k},{uuid},spk{k},lis{k},{attitude}")
    (tmp_path / "vico" / "train.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "model"
    assert main(["train", "mfr", "--pairs", str(tmp_path / "vico"), "--out", str(out), "--steps", "4", "--hold-out", "spk1"]) == 0
    report = json.loads((out / "training_report.json").read_text())
    assert report["train_examples"] == 1 and report["val_examples"] == 1 and report["source"].startswith("ViCo pairs")
    assert "Real speaker/listener pairs" in (out / "CARD.md").read_text()
    assert MFRNet.load(out).config.speaker_names == SPEAKER_NAMES
