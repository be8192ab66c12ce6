"""Articulation: from phone segments to mouth shapes in the learned expression basis.

Each phone has a target mouth shape (a row of K absolute mouth coefficients, 0 = the closed
neutral face), learned from tracked real talking clips (`fit_articulation`). Speech blends the
targets with coarticulation in the dominance style: every segment has a dominance that is its
class' weight inside the segment and decays exponentially outside it, faster after the segment
(carry-over, `carryover_s`) than before it (anticipation, `anticipation_s`, about 100 ms), so a
vowel's opening starts rising before its segment begins. Each frame's shape is the
dominance-weighted mean of the targets. Then:
  - a light temporal smoothing that keeps 2-3 frame closures (`smoothing_s`),
  - full lip closure on bilabials (P, B, M): on the frames at the middle of each P/B/M segment
    (`closure_half_s`) the lip gap is removed along the basis' opening direction, so it is
    exactly 0 there (the bilabial targets, learned and dominant, keep the neighbouring frames
    nearly shut); no frame has a negative gap,
  - SIL is the closed neutral (all coefficients 0): weak inside speech (a short SIL there is
    mostly a stop's closure or the recogniser's gap), dominant in pauses of `pause_s` or more,
    so the mouth shuts in silence.
The amplitude is calibrated at fitting time so that the std of the predicted lip gap matches
the tracked speakers' (the table is stored already scaled; `gain` records the factor).

Phone timings from a recogniser are not frame-exact and a video's sound may be out of sync:
the fitting estimates each clip's audio-video offset (the best lag of the tracked lip gap
against the phones' openness within +-`max_offset_s`) and stores the median as `offset`, which
prediction applies (positive: the mouth follows the phone timings by that many seconds).

Shapes: segments -> (T, K) float32 coefficients for `expression_names` at any fps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..errors import InputError
from ..eval.metrics import lagged_correlation, pearson, std_ratio
from ..io.checkpoint import load_checkpoint, resolve_checkpoint, save_checkpoint

CHECKPOINT_NAME = "articulation"
SILENCE = "SIL"

BILABIALS = frozenset({"P", "B", "M"})
LABIODENTALS = frozenset({"F", "V"})
ROUNDED = frozenset({"UW", "UH", "OW", "OY", "AO", "W"})
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})
WEAK = frozenset({"HH"})
# Rough openness per class, only used to find each clip's audio-video offset before a table exists.
CRUDE_OPENNESS = {"bilabial": 0.0, "labiodental": 0.15, "rounded": 0.6, "vowel": 1.0, "consonant": 0.35, "weak": 0.5, "silence": 0.0}


def phone_class(phone: str) -> str:
    """"bilabial", "labiodental", "rounded", "vowel", "weak", "consonant" or "silence"."""
    if phone == SILENCE:
        return "silence"
    if phone in BILABIALS:
        return "bilabial"
    if phone in LABIODENTALS:
        return "labiodental"
    if phone in ROUNDED:
        return "rounded"
    if phone in VOWELS:
        return "vowel"
    if phone in WEAK:
        return "weak"
    return "consonant"


@dataclass(frozen=True)
class ArticulationConfig:
    """Coarticulation and fitting settings (the defaults live here only)."""

    anticipation_s: float = 0.08
    """Time constant of a segment's dominance before it starts (the mouth anticipates)."""
    carryover_s: float = 0.04
    """Time constant of a segment's dominance after it ends."""
    smoothing_s: float = 0.02
    """Gaussian sigma of the final smoothing, seconds (about half a frame at 25 fps)."""
    dominance: dict[str, float] = field(
        default_factory=lambda: {"bilabial": 2.0, "labiodental": 1.5, "rounded": 1.2, "vowel": 1.0, "consonant": 0.6, "weak": 0.3, "silence": 0.2}
    )
    """Dominance of each phone class inside its segment: strong classes (lip closure) win over
    weak neighbours, weak ones (h, t, d...) take their neighbours' shape. A short SIL inside
    speech (a stop's closure, a recogniser's gap) is weak; a pause is `pause_dominance`."""
    pause_s: float = 0.5
    """A SIL segment at least this long is a pause: the mouth closes there."""
    pause_dominance: float = 2.0
    close_bilabials: bool = True
    closure_half_s: float = 0.02
    """Bilabial closure: the frames within this many seconds of a P/B/M segment's middle (and
    inside it) get a lip gap of exactly 0; always at least the frame nearest the middle."""
    ridge: float = 0.05
    """Fitting: pull of each phone's least-squares shape towards its weighted mean shape."""
    max_offset_s: float = 0.2
    """Fitting: the audio-video offset searched per clip, +- seconds."""
    match_std: bool = True
    """Fitting: scale the table so the predicted lip gap's std matches the tracked one's."""

    @classmethod
    def from_dict(cls, data: dict) -> "ArticulationConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"unknown articulation settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)


@dataclass(frozen=True)
class Segment:
    """A phone with start and end in seconds (the same fields as audio.phones.PhoneSegment)."""

    phone: str
    start: float
    end: float


def dominance_weights(segments: Sequence, times: np.ndarray, phones: Sequence[str], cfg: ArticulationConfig) -> np.ndarray:
    """(T, P) per-frame blend weights of each phone (rows sum to 1) at `times` (seconds).

    segments: objects with .phone, .start, .end (seconds); phones outside `phones` count as SIL.
    Frames that no segment reaches are SIL.
    """
    index = {p: i for i, p in enumerate(phones)}
    silence = index[SILENCE]
    weights = np.zeros((len(times), len(phones)), np.float64)
    weights[:, silence] = 1e-6
    reach_before, reach_after = 8 * cfg.anticipation_s, 8 * cfg.carryover_s
    for seg in segments:
        column = index.get(seg.phone, silence)
        alpha = cfg.dominance[phone_class(phones[column])]
        if column == silence and seg.end - seg.start >= cfg.pause_s:
            alpha = cfg.pause_dominance
        lo, hi = np.searchsorted(times, [seg.start - reach_before, seg.end + reach_after])
        if hi <= lo:
            continue
        t = times[lo:hi]
        before = np.clip(seg.start - t, 0.0, None) / cfg.anticipation_s
        after = np.clip(t - seg.end, 0.0, None) / cfg.carryover_s
        weights[lo:hi, column] += alpha * np.exp(-before - after)
    return weights / weights.sum(axis=1, keepdims=True)


def bilabial_frames(segments: Iterable, times: np.ndarray, half_width: float = float("inf")) -> np.ndarray:
    """(T,) bool: frames inside a P/B/M segment and within `half_width` seconds of its middle,
    or the frame nearest the middle of a segment that contains no such frame."""
    closed = np.zeros(len(times), bool)
    for seg in segments:
        if seg.phone not in BILABIALS:
            continue
        middle = (seg.start + seg.end) / 2
        inside = (times >= seg.start) & (times <= seg.end) & (np.abs(times - middle) <= half_width)
        if inside.any():
            closed |= inside
        elif len(times):
            nearest = int(np.argmin(np.abs(times - middle)))
            if abs(times[nearest] - middle) <= (times[1] - times[0] if len(times) > 1 else 1.0):
                closed[nearest] = True
    return closed


class Articulation:
    """Phone segments -> (T, K) absolute mouth coefficients of `expression_names`.

    table: (P, K) target shape per phone (row SIL = 0); gap_per_unit: (K,) inner-lip gap
    change (IOD) per unit of each coefficient; opening: (K,) coefficients of a 1-IOD lip gap
    (the basis' `opening` restricted to these columns).
    """

    def __init__(
        self,
        phones: Sequence[str],
        expression_names: Sequence[str],
        table: np.ndarray,
        gap_per_unit: np.ndarray,
        opening: np.ndarray,
        config: ArticulationConfig | None = None,
        offset: float = 0.0,
        info: dict | None = None,
    ):
        self.phones = tuple(phones)
        if SILENCE not in self.phones:
            raise InputError(f"the phone list needs {SILENCE!r}")
        self.expression_names = tuple(expression_names)
        self.table = np.asarray(table, np.float64)
        if self.table.shape != (len(self.phones), len(self.expression_names)):
            raise InputError(f"table shape {self.table.shape} != (phones {len(self.phones)}, coefficients {len(self.expression_names)})")
        self.table[self.phones.index(SILENCE)] = 0.0
        self.gap_per_unit = np.asarray(gap_per_unit, np.float64)
        self.opening = np.asarray(opening, np.float64)
        self.config = config or ArticulationConfig()
        self.offset = float(offset)
        self.info = dict(info or {})
        self.checkpoint: Path | None = None

    @property
    def direction(self) -> np.ndarray:
        """(K,) coefficients that open the lips by exactly 1 IOD (the basis' opening direction)."""
        return self.opening / float(self.opening @ self.gap_per_unit)

    def frame_times(self, num_frames: int, fps: float) -> np.ndarray:
        """(T,) the phone-timeline time each frame shows (frame k at k/fps, minus the offset)."""
        return np.arange(num_frames) / float(fps) - self.offset

    def blend(self, segments: Sequence, num_frames: int, fps: float) -> np.ndarray:
        """(T, K) float64 coarticulated shapes before smoothing and closure."""
        weights = dominance_weights(segments, self.frame_times(num_frames, fps), self.phones, self.config)
        return weights @ self.table

    def __call__(self, segments: Sequence, num_frames: int, fps: float) -> np.ndarray:
        """(T, K) float32 absolute coefficients at `fps` for phone `segments` (seconds)."""
        if num_frames <= 0:
            return np.zeros((0, len(self.expression_names)), np.float32)
        shapes = self.blend(segments, num_frames, fps)
        sigma = self.config.smoothing_s * fps
        if sigma > 0 and num_frames > 1:
            shapes = gaussian_filter1d(shapes, sigma, axis=0, mode="nearest")
        gap = shapes @ self.gap_per_unit
        remove = np.minimum(gap, 0.0)  # never a negative gap
        if self.config.close_bilabials:
            closed = bilabial_frames(segments, self.frame_times(num_frames, fps), self.config.closure_half_s)
            remove = np.where(closed, gap, remove)
        shapes -= np.outer(remove, self.direction)
        return shapes.astype(np.float32)

    def lip_gap(self, coefficients: np.ndarray) -> np.ndarray:
        """(T,) inner-lip gap (IOD) of (T, K) coefficients."""
        return np.asarray(coefficients, np.float64) @ self.gap_per_unit

    # ------------------------------------------------------------------ checkpoint

    def config_dict(self) -> dict:
        return {
            "phones": list(self.phones),
            "expression_names": list(self.expression_names),
            "offset": self.offset,
            "settings": asdict(self.config),
            **self.info,
        }

    def save(self, folder: str | Path, card: str | None = None) -> Path:
        tensors = {"table": self.table.astype(np.float32), "gap_per_unit": self.gap_per_unit.astype(np.float32), "opening": self.opening.astype(np.float32)}
        return save_checkpoint(folder, self.config_dict(), tensors, card)

    @classmethod
    def load(cls, folder: str | Path | None = None) -> "Articulation":
        """From a checkpoint folder; None = the shipped checkpoints/articulation."""
        path = resolve_checkpoint(folder, CHECKPOINT_NAME)
        config, tensors = load_checkpoint(path, "articulation model")
        info = {k: v for k, v in config.items() if k not in ("phones", "expression_names", "offset", "settings")}
        model = cls(
            config["phones"],
            config["expression_names"],
            tensors["table"],
            tensors["gap_per_unit"],
            tensors["opening"],
            ArticulationConfig.from_dict(config["settings"]),
            config["offset"],
            info,
        )
        model.checkpoint = path
        return model


# ---------------------------------------------------------------------- fitting


@dataclass
class ArticulationExample:
    """One tracked clip for fitting. segments: phone segments (seconds, audio time);
    coefficients: (T, K) tracked absolute mouth coefficients; gaps: (T,) tracked inner-lip
    gap change from the clip's neutral (IOD)."""

    name: str
    segments: list
    coefficients: np.ndarray
    gaps: np.ndarray
    fps: float


def crude_openness(phones: Sequence[str]) -> np.ndarray:
    """(P,) a hand-set openness per phone, for the first offset estimate."""
    return np.array([CRUDE_OPENNESS[phone_class(p)] for p in phones])


def estimate_offset(example: ArticulationExample, phones: Sequence[str], per_phone_gap: np.ndarray, cfg: ArticulationConfig) -> tuple[float, float]:
    """(offset seconds, r): the lag within +-max_offset_s at which the phones' openness curve
    (`per_phone_gap` (P,) blended at offset 0) best follows the tracked gap. Positive: the mouth
    moves after the phone timings."""
    times = np.arange(len(example.gaps)) / example.fps
    curve = dominance_weights(example.segments, times, phones, cfg) @ per_phone_gap
    r, lag = lagged_correlation(curve, example.gaps, int(round(cfg.max_offset_s * example.fps)))
    return lag / example.fps, r


def weights_at_offset(example: ArticulationExample, phones: Sequence[str], offset: float, cfg: ArticulationConfig) -> np.ndarray:
    return dominance_weights(example.segments, np.arange(len(example.gaps)) / example.fps - offset, phones, cfg)


def solve_table(weights: np.ndarray, targets: np.ndarray, phones: Sequence[str], cfg: ArticulationConfig) -> tuple[np.ndarray, np.ndarray]:
    """(P, K) table and (P,) weight mass per phone: least squares of the blended shapes
    against the tracked ones, pulled towards each phone's weighted mean shape (ridge); SIL
    stays 0 and phones never seen take the mean speech shape."""
    silence = list(phones).index(SILENCE)
    speech = [i for i in range(len(phones)) if i != silence]
    w = weights[:, speech]
    mass = w.sum(axis=0)
    seen = mass > 1e-3
    fallback = targets[weights[:, silence] < 0.5].mean(axis=0) if (weights[:, silence] < 0.5).any() else targets.mean(axis=0)
    means = np.where(seen[:, None], (w.T @ targets) / np.maximum(mass, 1e-9)[:, None], fallback[None])
    regular = cfg.ridge * np.maximum(mass, 1e-3)
    lhs = w.T @ w + np.diag(regular)
    rhs = w.T @ targets + regular[:, None] * means
    table = np.zeros((len(phones), targets.shape[1]))
    table[speech] = np.linalg.solve(lhs, rhs)
    full_mass = np.zeros(len(phones))
    full_mass[speech] = mass
    full_mass[silence] = weights[:, silence].sum()
    return table, full_mass


def fit_articulation(
    examples: list[ArticulationExample],
    phones: Sequence[str],
    expression_names: Sequence[str],
    gap_per_unit: np.ndarray,
    opening: np.ndarray,
    config: ArticulationConfig | None = None,
) -> tuple[Articulation, dict]:
    """Learn the phone table from tracked examples. Returns the model and a report with each
    clip's estimated offset (seconds, and the correlation found there), the gain and the
    training fit."""
    cfg = config or ArticulationConfig()
    phones = tuple(phones)
    if not examples:
        raise InputError("fitting the articulation table needs at least one tracked clip with phones")
    gap_per_unit = np.asarray(gap_per_unit, np.float64)
    # 1) offsets from the hand-set openness, 2) table, 3) offsets again from the table's gaps, 4) table.
    per_phone_gap = crude_openness(phones)
    offsets: dict[str, tuple[float, float]] = {}
    for _ in range(2):
        offsets = {e.name: estimate_offset(e, phones, per_phone_gap, cfg) for e in examples}
        weights = np.concatenate([weights_at_offset(e, phones, offsets[e.name][0], cfg) for e in examples])
        targets = np.concatenate([np.asarray(e.coefficients, np.float64) for e in examples])
        table, mass = solve_table(weights, targets, phones, cfg)
        per_phone_gap = table @ gap_per_unit
    offset = float(np.median([o for o, _ in offsets.values()]))
    model = Articulation(phones, expression_names, table, gap_per_unit, opening, cfg, offset)
    gain = 1.0
    if cfg.match_std:
        ratios = [std_ratio(model_gap(model, e, offsets[e.name][0]), e.gaps) for e in examples]
        ratios = [x for x in ratios if np.isfinite(x) and x > 0]
        gain = 1.0 / float(np.median(ratios)) if ratios else 1.0
        model.table *= gain
    fit = {e.name: pearson(model_gap(model, e, offsets[e.name][0]), e.gaps) for e in examples}
    model.info = {
        "gain": gain,
        "clip_offsets": {k: round(o, 4) for k, (o, _) in offsets.items()},
        "phone_frames": {p: round(float(m), 1) for p, m in zip(phones, mass)},
    }
    report = {"offsets": {k: {"offset_s": o, "r": r} for k, (o, r) in offsets.items()}, "offset": offset, "gain": gain, "train_gap_r": fit}
    return model, report


def shapes_at_offset(model: Articulation, example: ArticulationExample, offset: float) -> np.ndarray:
    """(T, K) the model's shapes for an example with its phones shifted by `offset` (the
    clip's own audio-video offset instead of the model's median)."""
    saved = model.offset
    model.offset = offset
    try:
        return model(example.segments, len(example.gaps), example.fps)
    finally:
        model.offset = saved


def model_gap(model: Articulation, example: ArticulationExample, offset: float) -> np.ndarray:
    """(T,) the model's lip gap for an example, its phones shifted by `offset`."""
    return model.lip_gap(shapes_at_offset(model, example, offset))
