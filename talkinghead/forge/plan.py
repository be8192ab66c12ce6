"""The jobs of a dataset: what to render, once per pipeline, and which originals to copy.

Every face gets every speech clip (or `per_face` of them, drawn with the seed) from every
pipeline; every real video yields its originals and, per pipeline, one fake made from its first
frame and its own audio (FaceForensics++-style pairs). A clip of a known speaker is only paired
with faces of the speaker's own split, so no voice crosses from train to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .config import ForgeConfig
from .sources import Source
from .splits import assign_splits, derived_seed

REAL = "real"


@dataclass(frozen=True)
class Job:
    """One render (a fake, in every compression, with its mask) or one real video's originals.

    method: the pipeline, or "real" for originals.
    video_id: the file stem of its videos (face__clip, or the real video's key).
    face: the photo (fakes from photos); real: the real video (originals, and fakes made from
        its first frame and its audio); audio: the speech clip (fakes from photos).
    """

    method: str
    video_id: str
    split: str
    identity: str
    seed: int
    face: Source | None = None
    audio: Source | None = None
    real: Source | None = None
    speaker: str | None = field(default=None)

    @property
    def key(self) -> str:
        return f"{self.method}/{self.video_id}"

    @property
    def is_real(self) -> bool:
        return self.method == REAL


@dataclass(frozen=True)
class Plan:
    """The jobs, the split of every identity and speaker, and what was left out and why."""

    jobs: list[Job]
    splits: dict[str, str]
    speaker_splits: dict[str, str]
    unpaired_faces: list[str]


def make_plan(config: ForgeConfig, faces: list[Source], audio: list[Source], reals: list[Source]) -> Plan:
    """Every job, in a stable order (originals first, then each pipeline's fakes)."""
    if not faces and not reals:
        raise InputError("give faces (--faces) or real videos (--real-videos) to make fakes from")
    if faces and not audio:
        raise InputError("faces need speech clips (--audio)")
    splits = assign_splits([s.identity for s in faces + reals], config.splits, config.seed)
    speakers = [s.identity for s in audio if s.known and s.identity not in splits]
    speaker_splits = {**assign_splits(speakers, config.splits, derived_seed(config.seed, "speakers")),
                      **{s.identity: splits[s.identity] for s in audio if s.known and s.identity in splits}}  # fmt: skip
    pairs, unpaired = face_pairs(config, faces, audio, splits, speaker_splits)
    jobs = [real_job(REAL, r, splits, config) for r in reals]
    for method in config.pipelines:
        jobs += [real_job(method, r, splits, config) for r in reals]
        jobs += [pair_job(method, face, clip, splits, config) for face, clip in pairs]
    check_unique(jobs)
    return Plan(jobs, splits, speaker_splits, unpaired)


def face_pairs(config: ForgeConfig, faces: list[Source], audio: list[Source], splits: dict[str, str],
               speaker_splits: dict[str, str]) -> tuple[list[tuple[Source, Source]], list[str]]:  # fmt: skip
    """(face, clip) pairs, and the faces no clip could be paired with."""
    pairs, unpaired = [], []
    for face in faces:
        allowed = [clip for clip in audio if not clip.known or speaker_splits[clip.identity] == splits[face.identity]]
        if config.per_face is not None and len(allowed) > config.per_face:
            rng = np.random.default_rng(derived_seed(config.seed, "clips", face.key))
            allowed = [allowed[i] for i in sorted(rng.choice(len(allowed), config.per_face, replace=False))]
        if not allowed:
            unpaired.append(face.relative)
        pairs += [(face, clip) for clip in allowed]
    return pairs, unpaired


def pair_job(method: str, face: Source, clip: Source, splits: dict[str, str], config: ForgeConfig) -> Job:
    video_id = f"{face.key}__{clip.key}"
    return Job(method, video_id, splits[face.identity], face.identity, derived_seed(config.seed, video_id),
               face=face, audio=clip, speaker=clip.identity if clip.known else None)  # fmt: skip


def real_job(method: str, real: Source, splits: dict[str, str], config: ForgeConfig) -> Job:
    return Job(method, real.key, splits[real.identity], real.identity, derived_seed(config.seed, real.key),
               real=real, speaker=real.identity)  # fmt: skip


def check_unique(jobs: list[Job]) -> None:
    """InputError when two jobs would write the same videos (a real video named like a pair)."""
    seen: dict[str, Job] = {}
    for job in jobs:
        other = seen.get(job.key)
        if other is not None:
            names = [s.relative for s in (job.face, job.audio, job.real, other.face, other.audio, other.real) if s is not None]
            raise InputError(f"{' and '.join(names)} would both make {job.video_id}: rename one")
        seen[job.key] = job
