"""What a forgery dataset is made with; the defaults live here only."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

#: FaceForensics++'s compressions: H.264 at CRF 0 (lossless luma), 23 and 40
CRF = {"c0": 0, "c23": 23, "c40": 40}
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class ForgeConfig:
    """How the dataset is made.

    pipelines: the talking-head pipelines that make fakes (each is a method folder).
    compressions: which of c0, c23, c40 every video is written at (one render, several encodes).
    per_face: how many of the speech clips each face gets (None: every clip), drawn with the seed.
    splits: train, val, test shares of the identities.
    seed: decides splits, sampled clips and each video's motion seed.
    frames_per_video: also extract this many evenly spaced frames (and mask frames) as PNG.
    max_size: longest side of every video (faces and real videos are shrunk to it).
    preset: x264 preset of the encodes; FaceForensics++ used ffmpeg's default, medium.
    dataset: the dataset's name in deepfakebench.json and its labels.
    """

    pipelines: tuple[str, ...] = ("osm", "baseline")
    compressions: tuple[str, ...] = ("c23",)
    per_face: int | None = None
    splits: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 0
    frames_per_video: int = 0
    max_size: int = 512
    preset: str = "medium"
    dataset: str = "talkinghead-forge"

    def __post_init__(self) -> None:
        unknown = [c for c in self.compressions if c not in CRF]
        if unknown or not self.compressions:
            raise InputError(f"compressions must be some of {', '.join(CRF)}, got {', '.join(self.compressions) or 'none'}")
        if len(set(self.compressions)) != len(self.compressions) or len(set(self.pipelines)) != len(self.pipelines):
            raise InputError("a compression or pipeline is named twice")
        if not self.pipelines:
            raise InputError("give at least one pipeline")
        if self.per_face is not None and self.per_face < 1:
            raise InputError(f"per-face must be at least 1, got {self.per_face}")
        if len(self.splits) != 3 or min(self.splits) < 0 or abs(sum(self.splits) - 1) > 1e-6 or self.splits[0] <= 0:
            raise InputError(f"splits must be three shares (train, val, test) that sum to 1 with train above 0, got {self.splits}")
        if not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be 0 to 2**32-1, got {self.seed}")
        if not 0 <= self.frames_per_video <= 1000:
            raise InputError(f"frames-per-video must be 0 to 1000, got {self.frames_per_video}")
        if self.max_size < 32:
            raise InputError(f"max size must be at least 32 pixels, got {self.max_size}")


def parse_list(text: str, what: str) -> tuple[str, ...]:
    """'a,b' -> ('a', 'b'); InputError when empty."""
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise InputError(f"{what}: give a comma-separated list, got {text!r}")
    return items


def parse_splits(text: str) -> tuple[float, float, float]:
    """'0.7,0.15,0.15' -> (0.7, 0.15, 0.15); checked by ForgeConfig."""
    try:
        shares = tuple(float(item) for item in parse_list(text, "--splits"))
    except ValueError:
        raise InputError(f"--splits: three numbers such as 0.7,0.15,0.15, got {text!r}") from None
    if len(shares) != 3:
        raise InputError(f"--splits: three shares (train, val, test), got {text!r}")
    return shares  # type: ignore[return-value]
