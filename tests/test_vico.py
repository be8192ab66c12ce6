"""ViCo layout reading on tiny layouts made in tmp_path. The loader only locates files, so empty
files stand in for the mp4 and wav clips."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from talkinghead.errors import InputError
from talkinghead.train.vico import (
    ATTITUDES,
    ListenerPair,
    find_pairs,
    normalise_attitude,
)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def challenge_layout(
    root: Path,
    uuids: list[str],
    csv_name: str = "train.csv",
    header: str = "video_id,uuid,speaker_id,listener_id",
    rows: list[str] | None = None,
) -> Path:
    """listening_head/ as unzipped: videos/<uuid>.{speaker,listener}.mp4, audios/<uuid>.wav, a CSV."""
    for uuid in uuids:
        touch(root / "videos" / f"{uuid}.speaker.mp4")
        touch(root / "videos" / f"{uuid}.listener.mp4")
        touch(root / "audios" / f"{uuid}.wav")
    rows = rows if rows is not None else [f"vid{i},{uuid},{i},{10 + i}" for i, uuid in enumerate(uuids)]
    (root / csv_name).write_text("\n".join([header, *rows]) + "\n")
    return root


def test_challenge_layout(tmp_path):
    root = challenge_layout(tmp_path / "listening_head", ["zz9", "ab1"])
    (root / "recons").mkdir()  # optional 3DMM folder: present in prepared copies, not read
    pairs = find_pairs(root)
    assert [pair.name for pair in pairs] == ["ab1", "zz9"]
    first = pairs[0]
    assert first == ListenerPair(
        name="ab1",
        speaker_video=root / "videos" / "ab1.speaker.mp4",
        listener_video=root / "videos" / "ab1.listener.mp4",
        audio=root / "audios" / "ab1.wav",
        attitude=None,
        speaker_id="1",
        listener_id="11",
        split="train",
    )


def test_challenge_layout_with_attitudes_and_videos_moved_into_test(tmp_path):
    root = challenge_layout(
        tmp_path,
        ["u1", "u2", "u3"],
        csv_name="test.csv",
        header="video_id,uuid,speaker_id,listener_id,attitude",
        rows=["v,u1,1,2,positive", "v,u2,1.0,3.0, Negative ", "v,u3,1,4,NEUTRAL"],
    )
    moved = root / "videos" / "test"  # the baseline README's reorganisation for PIRender
    moved.mkdir()
    for video in (root / "videos").glob("*.mp4"):
        video.rename(moved / video.name)
    pairs = find_pairs(root)
    assert [pair.attitude for pair in pairs] == ["positive", "negative", "neutral"]
    assert pairs[1].speaker_id == "1" and pairs[1].listener_id == "3"  # pandas' "1.0" for int ids
    assert pairs[0].speaker_video == moved / "u1.speaker.mp4"
    assert {pair.split for pair in pairs} == {"test"}


def test_full_release_layout(tmp_path):
    """One annotation CSV naming the speaker, listener and audio clips, with a data_split column."""
    for name in ("abc_speaker_0", "abc_listener_0", "def_speaker_3", "def_listener_3"):
        touch(tmp_path / "videos" / f"{name}.mp4")
    touch(tmp_path / "audios" / "abc_00_01.wav")
    touch(tmp_path / "audios" / "def_02_07.wav")
    (tmp_path / "annotations.csv").write_text(
        "speaker,listener,audio,data_split,speaker_id,listener_id,attitude\n"
        "def_speaker_3,def_listener_3,def_02_07,test,5,6,neg\n"
        "abc_speaker_0,abc_listener_0,abc_00_01,train,1,2,positive\n"
    )
    (tmp_path / "notes.csv").write_text("column,meaning\nuuid_like,nothing\n")  # not a ViCo table
    pairs = find_pairs(tmp_path)
    assert [pair.name for pair in pairs] == ["abc_00_01", "def_02_07"]
    assert pairs[0].speaker_video == tmp_path / "videos" / "abc_speaker_0.mp4"
    assert pairs[0].listener_video == tmp_path / "videos" / "abc_listener_0.mp4"
    assert pairs[0].audio == tmp_path / "audios" / "abc_00_01.wav"
    assert [(p.split, p.attitude, p.speaker_id, p.listener_id) for p in pairs] == [
        ("train", "positive", "1", "2"),
        ("test", "negative", "5", "6"),
    ]


def test_no_audio_folder_means_the_videos_own_sound(tmp_path):
    touch(tmp_path / "videos" / "s.mp4")
    touch(tmp_path / "videos" / "l.mp4")
    (tmp_path / "pairs.csv").write_text("speaker,listener\ns,l\n")
    (pair,) = find_pairs(tmp_path)
    assert pair.name == "l" and pair.audio is None and pair.split is None and pair.attitude is None


@pytest.mark.parametrize(
    "label, expected",
    [
        ("positive", "positive"),
        (" Neutral ", "neutral"),
        ("NEG", "negative"),
        ("pos", "positive"),
        ("0", "positive"),
        (1, "neutral"),
        (2, "negative"),
    ],
)
def test_normalise_attitude(label, expected):
    assert normalise_attitude(label) == expected
    assert expected in ATTITUDES


@pytest.mark.parametrize("label", ["happy", "", "3", -1, True, None])
def test_unknown_attitude_is_an_input_error(label):
    with pytest.raises(InputError, match="attitude"):
        normalise_attitude(label)


def test_unknown_attitude_in_a_csv_names_the_row(tmp_path):
    header = "video_id,uuid,speaker_id,listener_id,attitude"
    root = challenge_layout(tmp_path, ["u1"], header=header, rows=["v,u1,1,2,bored"])
    with pytest.raises(InputError) as error:
        find_pairs(root)
    message = str(error.value)
    assert "train.csv:2" in message and "bored" in message and "\n" not in message


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="not a folder") as error:
        find_pairs(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(error.value)


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no ViCo annotation CSV") as error:
        find_pairs(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_csv_without_rows(tmp_path):
    challenge_layout(tmp_path, [], rows=[])
    (tmp_path / "videos").mkdir()
    with pytest.raises(InputError, match="list no pairs"):
        find_pairs(tmp_path)


def test_no_videos_folder(tmp_path):
    (tmp_path / "train.csv").write_text("uuid\nu1\n")
    with pytest.raises(InputError, match="no videos/ folder"):
        find_pairs(tmp_path)


def test_pair_with_a_missing_video_is_skipped_with_a_notice(tmp_path, caplog):
    root = challenge_layout(tmp_path, ["keep", "lost"])
    (root / "videos" / "lost.listener.mp4").unlink()
    with caplog.at_level(logging.INFO, logger="talkinghead"):
        pairs = find_pairs(root)
    assert [pair.name for pair in pairs] == ["keep"]
    assert "lost.listener.mp4" in caplog.text


def test_pair_with_a_missing_audio_is_skipped(tmp_path):
    root = challenge_layout(tmp_path, ["keep", "mute"])
    (root / "audios" / "mute.wav").unlink()
    assert [pair.name for pair in find_pairs(root)] == ["keep"]


def test_all_pairs_missing_is_an_error_naming_the_path(tmp_path):
    root = challenge_layout(tmp_path, ["a", "b"])
    for video in (root / "videos").glob("*.listener.mp4"):
        video.unlink()
    (root / "first_frames").mkdir()  # the challenge's validation/test inputs: speaker side only
    with pytest.raises(InputError) as error:
        find_pairs(root)
    message = str(error.value)
    assert str(root / "videos" / "a.listener.mp4") in message
    assert "validation/test" in message and "\n" not in message


def test_a_pair_listed_twice_is_an_error(tmp_path):
    root = challenge_layout(tmp_path, ["u1"])
    (root / "test.csv").write_text("uuid\nu1\n")
    with pytest.raises(InputError, match="u1 is already listed"):
        find_pairs(root)


def test_empty_uuid_cell_names_the_row(tmp_path):
    root = challenge_layout(tmp_path, ["u1"], rows=["v,u1,1,2", "v,,1,2"])
    with pytest.raises(InputError, match=r"train\.csv:3: empty 'uuid' cell"):
        find_pairs(root)


def test_unreadable_csv_is_an_input_error(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "train.csv").write_bytes(b"uuid\n\xff\xfe\x00bad\n")
    with pytest.raises(InputError, match="not a readable CSV"):
        find_pairs(tmp_path)


def test_extra_cells_beyond_the_header_are_ignored(tmp_path):
    root = challenge_layout(tmp_path, ["u1"], rows=["v,u1,1,2,stray,cells"])
    assert [pair.name for pair in find_pairs(root)] == ["u1"]
