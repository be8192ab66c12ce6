"""What a listener reacts to, per video frame: the speaker's motion, prosody and speech content.

MFR-Net conditions the listener on the speaker video: how the speaker moves (head pose and its
speed, mouth, eyelids, from tracking), how they speak (energy, pitch, pauses: audio.prosody)
and what sounds they make (phone classes: silence, vowels, lip consonants, other consonants,
from the phone recogniser of the content mouth). All columns are scaled to about [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio.phones import PHONES, PhoneConfig, phone_features, recognize_phones
from ..audio.prosody import PROSODY_NAMES, prosody_features
from ..facemodel.geometric_basis import inner_lip_gap
from ..types import AudioClip, resampled_rows
from .tracked import TrackedFace, tracked_pose

MOTION_NAMES = ("yaw", "pitch", "roll", "head_speed", "mouth", "eyelids")
CONTENT_NAMES = ("silence", "vowel", "lip_consonant", "consonant")
SPEAKER_NAMES = MOTION_NAMES + PROSODY_NAMES + CONTENT_NAMES

POSE_UNIT_DEG = 20.0  # pose columns are degrees from the clip's median over this
SPEED_UNIT_DEG_S = 60.0  # a head turning this fast (degrees per second) reads 1
MOUTH_UNIT = 0.3  # inner-lip gap (inter-ocular distances) that reads 1: a wide-open mouth

_VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
_LIP_CONSONANTS = {"B", "M", "P", "F", "V", "W"}


@dataclass(frozen=True)
class SpeakerFeatures:
    """values: (T, len(names)) float32, about [-1, 1]; row t describes the speaker at frame t."""

    values: np.ndarray
    fps: float
    names: tuple[str, ...] = SPEAKER_NAMES

    def __len__(self) -> int:
        return len(self.values)

    def column(self, name: str) -> np.ndarray:
        """(T,) float32 one named column."""
        return self.values[:, self.names.index(name)]

    def resampled(self, fps: float) -> "SpeakerFeatures":
        return self if fps == self.fps else SpeakerFeatures(resampled_rows(self.values, self.fps, fps), fps, self.names)

    def with_length(self, num_frames: int) -> "SpeakerFeatures":
        """Cut, or extended by holding the last row."""
        rows = self.values[:num_frames]
        if len(rows) < num_frames:
            rows = np.concatenate([rows, np.repeat(rows[-1:], num_frames - len(rows), axis=0)])
        return SpeakerFeatures(rows, self.fps, self.names)


def speaker_motion(tracked: TrackedFace, pivot: tuple[float, float, float]) -> np.ndarray:
    """(T, len(MOTION_NAMES)) float32 at the track's frame rate, scaled as the module says."""
    rotation, _, _ = tracked_pose(tracked, pivot)
    rotation = rotation - np.median(rotation, axis=0)
    speed = np.linalg.norm(np.diff(rotation, axis=0, prepend=rotation[:1]), axis=1) * tracked.fps
    gaps = np.array([inner_lip_gap(d, tracked.layout) for d in tracked.deformations])
    columns = [rotation / POSE_UNIT_DEG, np.minimum(speed / SPEED_UNIT_DEG_S, 1.0)[:, None],
               np.clip(gaps / MOUTH_UNIT, -1.0, 1.0)[:, None], tracked.eyelids.mean(axis=1, keepdims=True)]  # fmt: skip
    return np.concatenate(columns, axis=1).astype(np.float32)


def phone_classes(shares: np.ndarray) -> np.ndarray:
    """(T, len(PHONES)) phone shares (audio.phones.phone_features) -> (T, 4) float32 shares of
    CONTENT_NAMES; rows sum to 1."""
    groups = np.zeros((len(PHONES), len(CONTENT_NAMES)), np.float32)
    for i, phone in enumerate(PHONES):
        group = 0 if phone == "SIL" else 1 if phone in _VOWELS else 2 if phone in _LIP_CONSONANTS else 3
        groups[i, group] = 1.0
    return shares @ groups


def content_features(clip: AudioClip, fps: float, num_frames: int) -> np.ndarray:
    """(num_frames, 4) float32 phone-class shares of the recognised phones (the phone loop:
    fast, and a listener needs the kind of sound, not the words)."""
    segments = recognize_phones(clip, PhoneConfig(recognizer="phones"))
    return phone_classes(phone_features(segments, num_frames, fps))


def speaker_features(tracked: TrackedFace, clip: AudioClip, pivot: tuple[float, float, float], fps: float,
                     content: np.ndarray | None = None) -> SpeakerFeatures:  # fmt: skip
    """The speaker's SpeakerFeatures at `fps`, as many frames as the audio lasts (the track is
    resampled and cut or held to it). content: (T, 4) phone-class shares at `fps` if already
    known (training caches them), else recognised here."""
    frames = clip.num_frames(fps)
    motion = resampled_rows(speaker_motion(tracked, pivot), tracked.fps, fps)
    motion = SpeakerFeatures(motion, fps, MOTION_NAMES).with_length(frames).values
    prosody = prosody_features(clip, fps).values[:frames]
    content = content_features(clip, fps, frames) if content is None else content[:frames]
    return SpeakerFeatures(np.concatenate([motion, prosody, content], axis=1).astype(np.float32), fps)
