"""A listening corpus built from monologues, for when no real speaker/listener recordings exist.

Each example pairs a real speaker (a tracked talking clip: its motion, prosody and phones) with
a constructed listener whose behaviour follows what studies of listeners report, on top of real
head motion:
- idle motion: the real head pose of another person's clip, slowed (Gaussian smoothing) and
  damped (listeners move their heads less than speakers);
- mirroring: a share of the speaker's own head motion, mirrored and delayed by about a second
  (posture and gesture mirroring lags the partner by a second or more);
- backchannels at the speaker's pauses (and, less often, at loudness peaks), after a short
  delay: nods (chin down and back up, 1-2 cycles at about 2 Hz) whose rate and depth grow with
  a positive attitude; a negative listener shakes the head instead now and then, frowns and
  keeps the chin up;
- smiles: a positive listener keeps a slight smile with brief broader ones at pauses, a neutral
  one rarely smiles, a negative one turns the mouth corners down. The mouth never opens;
- blinks at human rates (motion.blinks).
The card of a model trained on it says so: its responses are these rules' timing and shapes,
learned from real speakers, with real head motion beneath, not real listeners.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..face.layout import get_layout
from ..facemodel.face_model import FaceModel
from ..facemodel.geometric_basis import GeometricBasis
from ..motion.blinks import blinks
from ..motion.feature_aggregation import ATTITUDES
from ..motion.speaker_features import POSE_UNIT_DEG, SpeakerFeatures
from ..motion.tracked import TrackedFace, tracked_pose
from ..types import resampled_rows


@dataclass(frozen=True)
class Backchannel:
    """How one attitude responds: probabilities per speaker pause, sizes in degrees / basis units."""

    nod_probability: float
    nod_degrees: tuple[float, float]
    shake_probability: float
    smile_rest: tuple[float, float]
    """The smile held throughout (negative: mouth corners down)."""
    smile_burst_probability: float
    smile_burst: tuple[float, float]
    frown: tuple[float, float]
    """Brow lowering held throughout."""
    chin_up_degrees: tuple[float, float]


DEFAULT_ATTITUDES = {
    "positive": Backchannel(0.85, (5.0, 9.0), 0.0, (0.25, 0.45), 0.6, (0.7, 1.0), (0.0, 0.0), (-1.0, 0.5)),
    "neutral": Backchannel(0.45, (3.0, 6.0), 0.05, (0.0, 0.1), 0.1, (0.2, 0.35), (0.0, 0.1), (-0.5, 0.5)),
    "negative": Backchannel(0.15, (2.0, 4.0), 0.35, (-0.35, -0.15), 0.0, (0.0, 0.0), (0.3, 0.6), (1.5, 3.5)),
}


@dataclass(frozen=True)
class ListenerCorpusConfig:
    fps: float = 25.0
    idle_scale: float = 0.6
    """Listeners' heads move less than speakers': their pose is taken at this share of a speaker's."""
    idle_smoothing_frames: float = 4.0
    mirror_gain: float = 0.25
    mirror_lag_seconds: tuple[float, float] = (0.6, 1.4)
    response_delay_seconds: tuple[float, float] = (0.15, 0.6)
    min_pause_seconds: float = 0.25
    emphasis_share: float = 0.35
    """Loudness peaks draw responses with this share of a pause's probability."""
    nod_hz: tuple[float, float] = (1.8, 2.8)
    shake_degrees: tuple[float, float] = (4.0, 8.0)
    smile_seconds: tuple[float, float] = (1.0, 2.5)
    per_clip: int = 3
    """Constructed listeners per speaker clip and attitude."""
    attitudes: dict[str, Backchannel] = field(default_factory=lambda: dict(DEFAULT_ATTITUDES))


@dataclass(frozen=True)
class ListenerExample:
    """motion: (T, C) float32 listener motion in MFRNetConfig.channels order (degrees, absolute
    expression coefficients, eyelid closure) at the speaker features' fps; identity: (E,) the
    idle motion's person's own expression coefficients; attitude: index into ATTITUDES."""

    name: str
    speaker: SpeakerFeatures
    motion: np.ndarray
    identity: np.ndarray
    attitude: int
    speaker_person: str


@dataclass(frozen=True)
class ExpressionDirections:
    """(E,) basis coefficients of a smile (mouth corners out and up, lips closed) and of a frown."""

    smile: np.ndarray
    frown: np.ndarray


def expression_directions(face_model: FaceModel, neutral: np.ndarray, layout_name: str) -> ExpressionDirections:
    """The hand-made basis' smile and brow fields on `neutral` (N, 3), projected on the face
    model's basis (a learned basis has no component named "smile")."""
    layout = get_layout(layout_name)
    fields = GeometricBasis().deltas(neutral, layout)
    names = GeometricBasis.names
    project = lambda d: face_model.basis.project(d[None], neutral, layout)[0].astype(np.float32)  # noqa: E731
    return ExpressionDirections(smile=project(fields[names.index("mouth_wide")]),
                                frown=project(-fields[names.index("brow_raise")]))  # fmt: skip


def response_times(speaker: SpeakerFeatures, config: ListenerCorpusConfig) -> list[tuple[int, float]]:
    """(frame, weight) of moments a listener may respond to: pause starts (weight 1) and
    loudness peaks inside speech (weight `emphasis_share`)."""
    voiced = speaker.column("voiced") > 0.5
    fps = speaker.fps
    min_pause = int(round(config.min_pause_seconds * fps))
    out = []
    for t in range(1, len(voiced) - min_pause):
        if voiced[t - 1] and not voiced[t : t + min_pause].any():
            out.append((t, 1.0))
    loud = gaussian_filter1d(speaker.column("loudness").astype(np.float64), 3)
    peaks = [t for t in range(1, len(loud) - 1) if voiced[t] and loud[t] > 0.8 and loud[t] >= loud[t - 1] and loud[t] > loud[t + 1]]
    last = -10**9
    for t in peaks:
        if t - last > 2 * fps:
            out.append((t, config.emphasis_share))
            last = t
    return sorted(out)


def idle_pose(tracked: TrackedFace, pivot, frames: int, fps: float, config: ListenerCorpusConfig) -> np.ndarray:
    """(frames, 3) degrees: another person's real head pose, slowed, damped, looped (mirrored
    in time, so there is no jump) to `frames`."""
    rotation, _, _ = tracked_pose(tracked, pivot)
    rotation = resampled_rows(rotation - np.median(rotation, axis=0), tracked.fps, fps)
    rotation = gaussian_filter1d(rotation, config.idle_smoothing_frames, axis=0) * config.idle_scale
    looped = rotation
    while len(looped) < frames:
        looped = np.concatenate([looped, looped[::-1]])
    return looped[:frames]


def _bump(frames: int, start: int, length: int) -> np.ndarray:
    """(frames,) float64 a smooth 0 -> 1 -> 0 envelope over frames [start, start + length)."""
    t = np.arange(frames) - start
    return np.where((t >= 0) & (t < length), np.sin(np.pi * (t + 0.5) / length) ** 2, 0.0)


def construct_listener(speaker: SpeakerFeatures, idle: np.ndarray, attitude: Backchannel, directions: ExpressionDirections,
                       config: ListenerCorpusConfig, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """(T, 3 + E + 2) float32 listener motion responding to `speaker` (see the module docstring)."""
    frames, fps = len(speaker), speaker.fps
    pose = idle.astype(np.float64).copy()
    lag = int(round(rng.uniform(*config.mirror_lag_seconds) * fps))
    spk = np.stack([speaker.column(n) for n in ("yaw", "pitch", "roll")], axis=1) * POSE_UNIT_DEG
    delayed = np.concatenate([np.repeat(spk[:1], lag, axis=0), spk])[:frames]
    pose += config.mirror_gain * delayed * np.array([-1.0, 1.0, -1.0])  # facing each other: yaw and roll mirrored
    pose[:, 1] -= rng.uniform(*attitude.chin_up_degrees)
    rest = rng.uniform(*attitude.smile_rest)
    smile = np.full(frames, rest)
    frown = np.full(frames, rng.uniform(*attitude.frown))
    for t, weight in response_times(speaker, config):
        start = t + int(round(rng.uniform(*config.response_delay_seconds) * fps))
        if rng.random() < weight * attitude.nod_probability:
            hz, cycles = rng.uniform(*config.nod_hz), int(rng.integers(1, 3))
            n = int(round(cycles * fps / hz))
            idx = np.arange(max(0, start), min(frames, start + n))
            pose[idx, 1] += rng.uniform(*attitude.nod_degrees) * 0.5 * (1 - np.cos(2 * np.pi * hz * (idx - start) / fps))
        elif rng.random() < weight * attitude.shake_probability:
            hz, n = rng.uniform(2.0, 3.0), int(round(1.5 * fps / 2.5))
            idx = np.arange(max(0, start), min(frames, start + n))
            envelope = np.sin(np.pi * (idx - start + 0.5) / n)
            pose[idx, 0] += rng.uniform(*config.shake_degrees) * envelope * np.sin(2 * np.pi * hz * (idx - start) / fps)
        if rng.random() < weight * attitude.smile_burst_probability:
            length = int(round(rng.uniform(*config.smile_seconds) * fps))
            smile = np.maximum(smile, rest + _bump(frames, start, length) * (rng.uniform(*attitude.smile_burst) - rest))
    expression = smile[:, None] * directions.smile + frown[:, None] * directions.frown
    eyelids = blinks(rng, frames, fps)
    return np.concatenate([pose, expression, eyelids], axis=1).astype(np.float32)


def build_corpus(speakers: dict[str, SpeakerFeatures], tracks: dict[str, TrackedFace], face_model: FaceModel,
                 person_of, config: ListenerCorpusConfig = ListenerCorpusConfig(), seed: int = 0) -> list[ListenerExample]:  # fmt: skip
    """`per_clip` constructed listeners per speaker clip and attitude.

    speakers: clip name -> its SpeakerFeatures at config.fps; tracks: clip name -> TrackedFace
    (idle motion and identity come from a clip of another person); person_of: clip name ->
    person (a listener is never the speaker's own person)."""
    rng = np.random.default_rng(seed)
    names = sorted(tracks)
    out = []
    for name in sorted(speakers):
        others = [n for n in names if person_of(n) != person_of(name)]
        for a, attitude in enumerate(ATTITUDES):
            for k in range(config.per_clip):
                other = others[int(rng.integers(len(others)))]
                track = tracks[other]
                directions = expression_directions(face_model, track.neutral, track.layout.name)
                identity = face_model.basis.estimate(track.neutral, track.layout).astype(np.float32)
                idle = idle_pose(track, face_model.pivot, len(speakers[name]), config.fps, config)
                motion = construct_listener(speakers[name], idle, config.attitudes[attitude], directions, config, rng)
                out.append(ListenerExample(f"{name}/{attitude}/{k}", speakers[name], motion, identity, a, person_of(name)))
    return out
