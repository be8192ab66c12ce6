"""Training MFR-Net's listener diffusion model.

    talkinghead train mfr --from-monologues DIR --out DIR    (a corpus constructed from talking clips)
    talkinghead train mfr --pairs DIR --out DIR              (real speaker/listener pairs, ViCo layout)

Both sources become `ListenerExample`s (speaker features, listener motion, listener identity,
attitude); windows of `window` frames are cut every `stride` frames and the denoiser learns to
recover them from noise (MFRNet.loss). Whole speakers are held out for validation. CPU here,
GPU unchanged (--device cuda).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..audio.phones import phone_features
from ..facemodel.face_model import FaceModel
from ..errors import InputError, TalkingHeadError
from ..face.tracking import TrackerConfig
from ..io.audio import load_audio, load_video_audio
from ..motion.feature_aggregation import ATTITUDES, NO_ATTITUDE
from ..motion.mfr import MFRNet, MFRNetConfig
from ..motion.speaker_features import SPEAKER_NAMES, SpeakerFeatures, phone_classes, speaker_features
from ..motion.tracked import TrackedFace, analyse_track, tracked_pose
from ..types import resampled_rows
from .articulation_recipe import clip_phones, person_of
from .listener_corpus import ListenerCorpusConfig, ListenerExample, build_corpus
from .videos import Tracker, cached_track
from .vico import ListenerPair

log = logging.getLogger("talkinghead")


@dataclass(frozen=True)
class MFRTrainConfig:
    steps: int = 4000
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    stride: int = 8
    """Training windows start every `stride` frames."""
    val_every: int = 500
    seed: int = 0
    device: str = "cpu"


@dataclass(frozen=True)
class Windows:
    """motion (N, W, C) physical units; speaker (N, W, S); identity (N, E); attitude (N,) long."""

    motion: torch.Tensor
    speaker: torch.Tensor
    identity: torch.Tensor
    attitude: torch.Tensor

    def __len__(self) -> int:
        return len(self.motion)

    def take(self, index: torch.Tensor) -> "Windows":
        return Windows(self.motion[index], self.speaker[index], self.identity[index], self.attitude[index])

    def to(self, device: str) -> "Windows":
        return Windows(*(t.to(device) for t in (self.motion, self.speaker, self.identity, self.attitude)))


def cut_windows(examples: list[ListenerExample], window: int, stride: int) -> Windows:
    """Every example's windows of `window` frames starting every `stride` frames (examples shorter
    than a window are padded by holding their last frame)."""
    motion, speaker, identity, attitude = [], [], [], []
    for ex in examples:
        frames = max(len(ex.motion), window)
        m = np.concatenate([ex.motion, np.repeat(ex.motion[-1:], frames - len(ex.motion), axis=0)])
        s = ex.speaker.with_length(frames).values
        for start in range(0, frames - window + 1, stride):
            motion.append(m[start : start + window])
            speaker.append(s[start : start + window])
            identity.append(ex.identity)
            attitude.append(ex.attitude)
    as_tensor = lambda rows: torch.as_tensor(np.stack(rows), dtype=torch.float32)  # noqa: E731
    return Windows(as_tensor(motion), as_tensor(speaker), as_tensor(identity), torch.as_tensor(attitude, dtype=torch.long))


def train_mfr(train: list[ListenerExample], val: list[ListenerExample], net_config: MFRNetConfig,
              config: MFRTrainConfig = MFRTrainConfig()) -> tuple[MFRNet, dict]:  # fmt: skip
    """Fit MFRNet on `train`'s windows; the report has the losses and the held-out loss curve."""
    from diffusers import DDPMScheduler  # imported on use: diffusers takes seconds to import

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    data = cut_windows(train, net_config.window, config.stride)
    held = cut_windows(val, net_config.window, net_config.window) if val else None
    model = MFRNet(net_config)
    model.set_normalisation(data.motion)
    model.to(config.device).train()
    data = data.to(config.device)
    scheduler = DDPMScheduler(num_train_timesteps=net_config.train_timesteps, beta_schedule=net_config.beta_schedule,
                              prediction_type="sample", clip_sample=False)  # fmt: skip
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=config.steps, pct_start=0.05)
    report = {"train_windows": len(data), "val_windows": len(held) if held else 0, "curve": []}
    started, recent = time.time(), []
    for step in range(1, config.steps + 1):
        batch = data.take(torch.randint(0, len(data), (config.batch,), generator=generator).to(config.device))
        losses = model.loss(batch.motion, batch.speaker, batch.identity, batch.attitude, scheduler)
        optimiser.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        recent.append(float(losses["loss"].detach()))
        if step % config.val_every == 0 or step == config.steps:
            point = {"step": step, "train_loss": float(np.mean(recent)),
                     "val_loss": validation_loss(model, held, scheduler, config.seed) if held else None}  # fmt: skip
            report["curve"].append(point)
            log.info("step %d: train loss %.4f, held-out %s (%.0f s)", step, point["train_loss"],
                     "-" if point["val_loss"] is None else f"{point['val_loss']:.4f}", time.time() - started)  # fmt: skip
            recent = []
    report.update(train_seconds=time.time() - started, config=asdict(config))
    return model.eval(), report


@torch.no_grad()
def validation_loss(model: MFRNet, held: Windows, scheduler, seed: int) -> float:
    """The loss on held-out windows with fixed noise, steps and masks (comparable across steps)."""
    model.eval()
    generator = torch.Generator().manual_seed(seed + 1)
    held = held.to(str(model.motion_mean.device))
    values = [float(model.loss(*_fields(held.take(torch.arange(i, min(i + 64, len(held))))), scheduler, generator)["loss"])
              for i in range(0, len(held), 64)]  # fmt: skip
    model.train()
    return float(np.mean(values))


def _fields(w: Windows) -> tuple[torch.Tensor, ...]:
    return w.motion, w.speaker, w.identity, w.attitude


# -- data -------------------------------------------------------------------------------------
def monologue_speakers(clips, face_model: FaceModel, fps: float, phone_cache) -> tuple[dict[str, SpeakerFeatures], dict[str, TrackedFace]]:
    """Speaker features of every clip with audio, and every clip's analysed track."""
    tracks = {c.name: analyse_track(c.track) for c in clips}
    speakers = {}
    for clip in clips:
        if clip.audio is None:
            continue
        frames = clip.audio.num_frames(fps)
        content = phone_classes(phone_features(clip_phones(clip.audio, clip.name, phone_cache), frames, fps))
        speakers[clip.name] = speaker_features(tracks[clip.name], clip.audio, face_model.pivot, fps, content=content)
    return speakers, tracks


def split_by_person(examples: list[ListenerExample], hold_out: list[str]) -> tuple[list, list]:
    """Examples whose speaker is one of `hold_out` (clip names or people) go to validation."""
    held = {person_of(n) for n in hold_out}
    return [e for e in examples if e.speaker_person not in held], [e for e in examples if e.speaker_person in held]


def monologue_corpus(videos: str, cache: str | None, face_model: FaceModel, fps: float, seed: int,
                     corpus: ListenerCorpusConfig = ListenerCorpusConfig()) -> list[ListenerExample]:  # fmt: skip
    from .videos import load_talking_clips

    clips = load_talking_clips(videos, cache)
    phone_cache = cache or str(Path(videos) / ".talkinghead-cache")
    speakers, tracks = monologue_speakers(clips, face_model, fps, phone_cache)
    return build_corpus(speakers, tracks, face_model, person_of, replace(corpus, fps=fps), seed=seed)


def listener_targets(tracked: TrackedFace, face_model: FaceModel, fps: float, frames: int) -> np.ndarray:
    """(frames, C) float32 a real listener's motion as MFR-Net's training target: pose in degrees
    about the clip's median, absolute expression coefficients (0 = its closed-mouth neutral),
    eyelid closure; resampled to `fps` and cut or held to `frames`."""
    rotation, _, _ = tracked_pose(tracked, face_model.pivot)
    expression = face_model.basis.project(tracked.deformations, tracked.neutral, tracked.layout)
    values = np.concatenate([rotation - np.median(rotation, axis=0), expression, tracked.eyelids], axis=1)
    return SpeakerFeatures(resampled_rows(values, tracked.fps, fps), fps, ()).with_length(frames).values


def pair_examples(pairs: list[ListenerPair], face_model: FaceModel, fps: float, cache: Path) -> list[ListenerExample]:
    """ListenerExamples of real speaker/listener pairs (train.vico): both videos tracked (and
    cached), the speaker's features from their video and sound, the listener's motion as the
    target. Pairs whose files cannot be read are skipped with a notice. A pair without an
    attitude label trains the "no attitude" entry."""
    cache.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(TrackerConfig())
    out = []
    try:
        for pair in pairs:
            try:
                out.append(pair_example(pair, face_model, fps, cache, tracker))
            except TalkingHeadError as exc:
                log.info("skipping pair %s: %s", pair.name, exc)
    finally:
        tracker.close()
    return out


def pair_example(pair: ListenerPair, face_model: FaceModel, fps: float, cache: Path, tracker: Tracker) -> ListenerExample:
    audio = load_audio(pair.audio) if pair.audio is not None else load_video_audio(pair.speaker_video)
    if audio is None:
        raise InputError(f"{pair.speaker_video}: no sound and no audio file")
    speaker = analyse_track(cached_track(pair.speaker_video, cache, tracker))
    listener = analyse_track(cached_track(pair.listener_video, cache, tracker))
    frames = audio.num_frames(fps)
    content = phone_classes(phone_features(clip_phones(audio, pair.name, cache), frames, fps))
    features = speaker_features(speaker, audio, face_model.pivot, fps, content=content)
    identity = face_model.basis.estimate(listener.neutral, listener.layout).astype(np.float32)
    attitude = NO_ATTITUDE if pair.attitude is None else ATTITUDES.index(pair.attitude)
    person = pair.speaker_id or pair.name
    return ListenerExample(pair.name, features, listener_targets(listener, face_model, fps, frames), identity, attitude, person)


def new_config(face_model: FaceModel, **changes) -> MFRNetConfig:
    return MFRNetConfig(expression_names=tuple(face_model.expression_names), speaker_names=SPEAKER_NAMES, **changes)


def attitude_counts(examples: list[ListenerExample]) -> dict[str, int]:
    return {a: sum(e.attitude == i for e in examples) for i, a in enumerate(ATTITUDES)}


def mfr_examples(args, face_model: FaceModel, fps: float) -> tuple[list[ListenerExample], list[ListenerExample], str]:
    """(training, validation examples, a line on where they came from) for `train mfr`'s arguments.
    ViCo pairs with official splits validate on the non-training splits; otherwise the
    --hold-out speakers are kept out."""
    if args.pairs:
        from .vico import find_pairs

        pairs = find_pairs(args.pairs)
        examples = pair_examples(pairs, face_model, fps, Path(args.cache or Path(args.pairs) / ".talkinghead-cache"))
        if not examples:
            raise InputError(f"{args.pairs}: none of the {len(pairs)} pairs could be read")
        splits = {p.name: p.split for p in pairs}
        if not args.hold_out and any(splits.get(e.name) not in (None, "train") for e in examples):
            train = [e for e in examples if splits.get(e.name) in (None, "train")]
            return train, [e for e in examples if e not in train], f"ViCo pairs in {args.pairs} (official splits)"
        train, val = split_by_person(examples, args.hold_out)
        return train, val, f"ViCo pairs in {args.pairs}"
    examples = monologue_corpus(args.from_monologues, args.cache, face_model, fps, args.seed)
    train, val = split_by_person(examples, args.hold_out)
    return train, val, f"listeners constructed for the talking clips in {args.from_monologues}"


BENCHMARK_HEADING = "## Measured listener behaviour"


def mfr_card(report: dict, existing: str | Path | None = None) -> str:
    """CARD.md text: data (saying plainly what the listeners are), command, training figures;
    the measured-behaviour section of an existing card (written from the benchmark) is kept."""
    from ..info import machine_summary

    kept = ""
    if existing is not None and Path(existing).is_file() and BENCHMARK_HEADING in Path(existing).read_text():
        text = Path(existing).read_text()
        kept = "\n" + text[text.index(BENCHMARK_HEADING) :]
    constructed = report["source"].startswith("listeners constructed")
    what = ("No real listener is in this data. Each speaker is a real talking clip (its tracked motion, its sound);\n"
            "  each listener is constructed (train/listener_corpus.py): another person's real head motion, slowed and\n"
            "  damped, plus a lagged mirror of the speaker's pose, with nods, head shakes, smiles and frowns placed at\n"
            "  the speaker's pauses and loudness peaks by rules from studies of listeners, per attitude, and blinks.\n"
            "  The model has learned those rules' timing and shapes from real speech, not real listeners' behaviour:\n"
            "  retrain with `--pairs` on real pairs (ViCo) for that." if constructed else
            "Real speaker/listener pairs.")  # fmt: skip
    last = report["curve"][-1]
    return f"""# MFR-Net listener motion (diffusion model over listener pose, expression, eyelids)

- Data: {report['source']}: {report['train_examples']} training examples ({report['train_windows']} windows),
  attitudes {report['attitudes']}; held out for validation (whole speakers): {', '.join(report['hold_out']) or 'none'}.
- What that means: {what}
- Command: `{report.get('command', 'talkinghead train mfr')}` ({report.get('total_seconds', report['train_seconds']):.0f} s on
  {report.get('machine', machine_summary())}).
- Model: motion/mfr.py (denoiser, DDPM training / DDIM sampling with diffusers' schedulers) and
  motion/feature_aggregation.py (speaker features x listener identity x attitude); settings {report['config']}.
- Loss (clean-window MSE + velocity L1, standardised units): training {last['train_loss']:.3f},
  held-out {'-' if last['val_loss'] is None else f"{last['val_loss']:.3f}"} (curve in training_report.json).
{kept}"""
