"""Speaker-listener pairs of the ViCo listening-head dataset (Zhou et al., "Responsive Listening
Head Generation: A Benchmark Dataset and Baseline", ECCV 2022), read from the folder layouts in
which it is published. Only files are located here; nothing is decoded.

Two layouts are recognised, per CSV file directly in the dataset folder, by its header:

1. Challenge layout (`listening_head.zip` of the ViCo challenge and of the baseline repository
   github.com/dc3ea9f/vico_challenge_baseline; also what its `preprocess/convert.py` writes)::

       listening_head/
         videos/<uuid>.speaker.mp4    speaker clip (the challenge's videos carry no sound)
         videos/<uuid>.listener.mp4   listener clip
         audios/<uuid>.wav            the speaker's speech
         recons/ keypoints/           optional 3DMM / landmark outputs (not read here)
         train.csv (val.csv, test.csv) columns video_id, uuid, speaker_id, listener_id
                                       and, in attitude-labelled copies, attitude

   The baseline's README moves the videos into `videos/test/` for PIRender, so videos are looked
   up anywhere below `videos/`. The split is the CSV's name (convert.py writes `<split>.csv`).
   The challenge's validation/test *input* sets hold speaker videos only, so they have no pairs.

2. Full project release (project.mhzhou.com/vico; the input of `preprocess/convert.py`, which
   reads its columns speaker, listener, audio (file stems), data_split, speaker_id, listener_id):
   one annotation CSV with those columns (and attitude), `videos/<speaker>.mp4`,
   `videos/<listener>.mp4`, `audios/<audio>.wav`. convert.py takes the two folders as arguments,
   so their names are not fixed by it: `videos/` or `video/`, `audios/` or `audio/` are accepted.
   A pair is named after its audio clip (one per row); without an audio column, after its listener
   clip, and its audio is None.

The attitude column holds the paper's three listening styles spelt "positive", "neutral",
"negative" (as ListenFormer's ViCo loader reads them, github.com/ricolxwz/ListenFormer data.py);
the challenge's published CSV columns have none, so attitude is None there. No JSON annotation
exists in either release, and both come with official splits, so no identity-based split is made.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..motion.feature_aggregation import ATTITUDES

log = logging.getLogger("talkinghead")

# Short forms, and the class indices that ViCo loaders use for one-hot attitude codes
# (positive 0, neutral 1, negative 2: the order of ATTITUDES).
_ATTITUDE_ALIASES = {
    "pos": "positive",
    "neu": "neutral",
    "neg": "negative",
    **{str(index): name for index, name in enumerate(ATTITUDES)},
}
_VIDEO_FOLDERS = ("videos", "video")
_AUDIO_FOLDERS = ("audios", "audio")
_SPLIT_NAMES = {"train", "val", "valid", "validation", "test"}


@dataclass(frozen=True)
class ListenerPair:
    """One speaker clip and the listener's clip recorded with it.

    audio is the speaker's separate speech track, or None when the layout has no audio folder
    (then the speaker video's own sound is meant). attitude is one of ATTITUDES, or None where the
    CSV carries no attitude (the challenge's own CSVs). split is the official split ("train",
    "test", ...) where the layout names one, else None."""

    name: str
    speaker_video: Path
    listener_video: Path
    audio: Path | None
    attitude: str | None
    speaker_id: str | None
    listener_id: str | None
    split: str | None = None


@dataclass(frozen=True)
class _Row:
    """One CSV row in layout-independent terms: the file names it points to."""

    name: str
    speaker_file: str
    listener_file: str
    audio_file: str | None  # None: the row names no separate audio
    attitude: str | None
    speaker_id: str | None
    listener_id: str | None
    split: str | None
    source: str  # "<csv>:<line>", for messages


def normalise_attitude(label: str | int) -> str:
    """The ATTITUDES name of an attitude label: any case, short forms (pos, neu, neg) and the class
    indices 0, 1, 2. Raises InputError for anything else."""
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        raise InputError(f"attitude {label!r}: expected one of {', '.join(ATTITUDES)}")
    text = str(label).strip().lower()
    text = _ATTITUDE_ALIASES.get(text, text)
    if text not in ATTITUDES:
        raise InputError(f"unknown attitude {label!r}: expected one of {', '.join(ATTITUDES)}")
    return text


def find_pairs(folder: str | Path) -> list[ListenerPair]:
    """Every speaker-listener pair listed in a ViCo dataset folder, sorted by name. Pairs whose
    files are missing are skipped with a notice; InputError when the folder is missing, lists no
    pairs, or none of the listed pairs has its files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected a ViCo dataset folder)")
    rows = _read_rows(folder)
    files = _dataset_files(folder)
    pairs, first_missing = [], None
    for row in rows:
        missing = files.missing(row)
        if missing is None:
            pairs.append(files.pair(row))
            continue
        log.info("skipping ViCo pair %s (%s): %s is missing", row.name, row.source, missing)
        first_missing = first_missing or missing
    if not pairs:
        raise InputError(_nothing_left_message(folder, len(rows), first_missing))
    return sorted(pairs, key=lambda pair: pair.name)


def _read_rows(folder: Path) -> list[_Row]:
    """The rows of every ViCo annotation CSV directly in `folder`; a name may appear only once."""
    tables = [(path, _rows_of(path)) for path in sorted(folder.glob("*.csv"))]
    tables = [(path, rows) for path, rows in tables if rows is not None]
    if not tables:
        raise InputError(
            f"{folder}: no ViCo annotation CSV (one with a 'uuid' column, or 'speaker' and 'listener' columns)"
        )
    rows = [row for _, rows in tables for row in rows]
    seen: dict[str, str] = {}
    for row in rows:
        if row.name in seen:
            raise InputError(f"{row.source}: pair {row.name} is already listed at {seen[row.name]}")
        seen[row.name] = row.source
    if not rows:
        raise InputError(f"{folder}: the annotation CSVs ({', '.join(p.name for p, _ in tables)}) list no pairs")
    return rows


def _rows_of(path: Path) -> list[_Row] | None:
    """The rows of one CSV, or None when its header is not one of a ViCo layout (other tables may
    sit beside the annotations)."""
    try:
        return _parse_table(path)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from None


def _parse_table(path: Path) -> list[_Row] | None:
    with path.open(newline="", encoding="utf-8-sig") as file:  # -sig: spreadsheet exports start with a BOM
        reader = csv.DictReader(file)
        header = {(name or "").strip().lower() for name in reader.fieldnames or ()}
        if "uuid" in header:
            make = _challenge_row
        elif {"speaker", "listener"} <= header:
            make = _release_row
        else:
            log.info("%s: not a ViCo annotation table, ignored", path)
            return None
        rows = []
        for record in reader:
            # key None: cells beyond the header, which name nothing
            cells = {key.strip().lower(): _cell(value) for key, value in record.items() if key is not None}
            rows.append(make(cells, path, f"{path}:{reader.line_num}"))
    return rows


def _challenge_row(cells: dict[str, str | None], path: Path, source: str) -> _Row:
    """A row of the challenge layout: every file is named after the row's uuid."""
    uuid = _required(cells, "uuid", source)
    stem = path.stem.lower()
    return _Row(
        name=uuid,
        speaker_file=f"{uuid}.speaker.mp4",
        listener_file=f"{uuid}.listener.mp4",
        audio_file=f"{uuid}.wav",
        attitude=_attitude(cells, source),
        speaker_id=cells.get("speaker_id"),
        listener_id=cells.get("listener_id"),
        split=cells.get("data_split") or (stem if stem in _SPLIT_NAMES else None),
        source=source,
    )


def _release_row(cells: dict[str, str | None], path: Path, source: str) -> _Row:
    """A row of the full project release: the row names the speaker, listener and audio clips."""
    speaker = _required(cells, "speaker", source)
    listener = _required(cells, "listener", source)
    audio = cells.get("audio")
    return _Row(
        name=_without_suffix(audio or listener, ".wav" if audio else ".mp4"),
        speaker_file=_with_suffix(speaker, ".mp4"),
        listener_file=_with_suffix(listener, ".mp4"),
        audio_file=_with_suffix(audio, ".wav") if audio else None,
        attitude=_attitude(cells, source),
        speaker_id=cells.get("speaker_id"),
        listener_id=cells.get("listener_id"),
        split=cells.get("data_split"),
        source=source,
    )


def _cell(value: str | None) -> str | None:
    """A CSV cell without surrounding blanks; None when empty. Integers that pandas wrote as
    floats (a column with gaps) lose their ".0", so identities compare as written."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    return value[:-2] if re.fullmatch(r"\d+\.0", value) else value


def _required(cells: dict[str, str | None], column: str, source: str) -> str:
    value = cells.get(column)
    if value is None:
        raise InputError(f"{source}: empty '{column}' cell")
    return value


def _attitude(cells: dict[str, str | None], source: str) -> str | None:
    label = cells.get("attitude")
    if label is None:
        return None
    try:
        return normalise_attitude(label)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def _with_suffix(name: str, suffix: str) -> str:
    return name if name.lower().endswith(suffix) else name + suffix


def _without_suffix(name: str, suffix: str) -> str:
    # Not Path.stem: clip names may themselves contain dots.
    return name[: -len(suffix)] if name.lower().endswith(suffix) else name


def _subfolder(folder: Path, names: tuple[str, ...], required: bool) -> Path | None:
    for name in names:
        if (folder / name).is_dir():
            return folder / name
    if required:
        raise InputError(f"{folder}: no {names[0]}/ folder")
    return None


def _file_index(folder: Path, suffix: str) -> dict[str, Path]:
    """File name -> path for every `suffix` file at any depth below `folder` (the baseline moves
    videos into videos/test/). Two files of one name would make a pair ambiguous."""
    index: dict[str, Path] = {}
    for path in sorted(folder.rglob(f"*{suffix}")):
        if path.name in index:
            raise InputError(f"{path}: same file name as {index[path.name]}; keep one of them")
        index[path.name] = path
    return index


@dataclass(frozen=True)
class _DatasetFiles:
    """The video and audio files of a dataset folder, indexed by file name."""

    video_root: Path
    videos: dict[str, Path]
    audio_root: Path | None  # None: no audio folder, the videos' own sound is meant
    audios: dict[str, Path]

    def missing(self, row: _Row) -> Path | None:
        """The first file of the row that is not there (where it was expected), or None."""
        for name in (row.speaker_file, row.listener_file):
            if name not in self.videos:
                return self.video_root / name
        if self.audio_root is not None and row.audio_file is not None and row.audio_file not in self.audios:
            return self.audio_root / row.audio_file
        return None

    def pair(self, row: _Row) -> ListenerPair:
        return ListenerPair(
            name=row.name,
            speaker_video=self.videos[row.speaker_file],
            listener_video=self.videos[row.listener_file],
            audio=self.audios.get(row.audio_file) if row.audio_file else None,
            attitude=row.attitude,
            speaker_id=row.speaker_id,
            listener_id=row.listener_id,
            split=row.split,
        )


def _dataset_files(folder: Path) -> _DatasetFiles:
    video_root = _subfolder(folder, _VIDEO_FOLDERS, required=True)
    audio_root = _subfolder(folder, _AUDIO_FOLDERS, required=False)
    if audio_root is None:
        log.info("%s: no audios/ folder; using the speaker videos' own sound", folder)
    audios = _file_index(audio_root, ".wav") if audio_root else {}
    return _DatasetFiles(video_root, _file_index(video_root, ".mp4"), audio_root, audios)


def _nothing_left_message(folder: Path, listed: int, first_missing: Path | None) -> str:
    message = f"{folder}: none of the {listed} listed ViCo pairs has its files (first missing: {first_missing})"
    if (folder / "first_frames").is_dir():
        # The challenge's validation/test inputs list pairs but ship only the speaker side.
        message += "; this looks like a challenge validation/test input set, which has no listener videos"
    return message
