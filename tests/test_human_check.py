"""The human-face check: its decision on synthetic evidence, the pose model on a real portrait
and on a blank picture, and the allow_non_human option through the pipeline, CLI and form."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from talkinghead.errors import InputError, NoFaceError
from talkinghead.face.human_check import (
    HumanCheckConfig, HumanFaceCheck, HumanVerdict, NonHumanFaceError, eye_distance, face_keypoints, judge,
    non_human_error,
)  # fmt: skip
from talkinghead.face.layout import get_layout
from talkinghead.io.audio import write_wav
from talkinghead.types import AudioClip

from .conftest import syllables

LAYOUT = get_layout("mediapipe478")
CONFIG = HumanCheckConfig()


@pytest.fixture
def face(source_face):
    """(478, 3) landmarks of the astronaut portrait: a human face about 100 px wide."""
    return source_face.landmarks


def test_a_person_whose_nose_and_eyes_fit_the_face_makes_it_human(face):
    eye_px = eye_distance(face, LAYOUT)
    person = face_keypoints(face, LAYOUT) + 0.3 * eye_px  # within 0.6 eye distances
    verdict = judge(face, LAYOUT, [None, person], CONFIG)
    assert verdict.human and "fits" in verdict.reason


def test_no_person_or_one_elsewhere_refuses(face):
    elsewhere = face_keypoints(face, LAYOUT) + [2.0 * eye_distance(face, LAYOUT), 0.0]
    nobody = judge(face, LAYOUT, [None, None], CONFIG)
    assert not nobody.human and "no one" in nobody.reason
    someone_else = judge(face, LAYOUT, [elsewhere, None], CONFIG)
    assert not someone_else.human and "not at this face" in someone_else.reason


def test_one_stretched_eye_is_enough_to_disagree(face):
    person = face_keypoints(face, LAYOUT).copy()
    person[1, 1] += 0.9 * eye_distance(face, LAYOUT)  # the left eye far below FaceMesh's
    assert not judge(face, LAYOUT, [person], CONFIG).human


def test_faces_too_small_to_judge_are_never_refused(face):
    tiny = face * (10.0 / eye_distance(face, LAYOUT))  # 10 px between the outer eye corners
    verdict = judge(tiny, LAYOUT, [None, None], CONFIG)
    assert verdict.human and "too small" in verdict.reason


def test_keypoints_are_nose_then_the_persons_left_then_right_eye(face):
    nose, left, right = face_keypoints(face, LAYOUT)
    assert left[0] > nose[0] > right[0]  # the person's left eye is on the viewer's right
    assert nose[1] > max(left[1], right[1])


def test_pose_model_finds_the_person_in_a_real_portrait_and_no_one_in_a_blank_picture(portrait, face):
    check = HumanFaceCheck()
    try:
        assert check(portrait, face, LAYOUT).human
        blank = np.full_like(portrait, 128)
        assert not check(blank, face, LAYOUT).human
    finally:
        check.close()


def test_the_refusal_is_one_line_naming_the_override():
    error = non_human_error("monkey.jpg", (10.4, 20.0, 110.0, 130.6), HumanVerdict(False, "the person detector finds no one at this face"))
    message = str(error)
    assert isinstance(error, NoFaceError) and isinstance(error, InputError)
    assert len(message.splitlines()) == 1
    assert message.startswith("monkey.jpg: the face found at (10, 20)-(110, 131) does not look human")
    assert "--allow-non-human" in message


@pytest.fixture
def refusing(monkeypatch):
    """Every face looks non-human; counts the checks made."""
    calls = []

    def refuse(self, image, landmarks, layout):
        calls.append(layout.name)
        return HumanVerdict(False, "stand-in for an animal")

    monkeypatch.setattr(HumanFaceCheck, "__call__", refuse)
    return calls


@pytest.fixture
def files(tmp_path, portrait):
    image = tmp_path / "face.png"
    Image.fromarray(portrait).save(image)
    audio = tmp_path / "speech.wav"
    write_wav(audio, AudioClip(syllables(1.0), 16000))
    return image, audio


def test_the_pipeline_refuses_unless_allow_non_human(files, refusing):
    from talkinghead.api import load_pipeline
    from talkinghead.pipelines.inputs import TalkingHeadInputs

    image, audio = files
    with load_pipeline("baseline") as pipe:
        with pytest.raises(NonHumanFaceError, match="face.png: the face found at .* does not look human"):
            pipe.check(TalkingHeadInputs(str(image), str(audio)))
        assert refusing == ["mediapipe478"]
        report = pipe.check(TalkingHeadInputs(str(image), str(audio)), allow_non_human=True)
        assert "with a face at" in report["image"] and refusing == ["mediapipe478"]  # not asked again


def test_the_cli_flag_and_the_one_line_error(files, refusing, capsys):
    from talkinghead.cli import main

    image, audio = files
    args = ["generate", "--dry-run", "--image", str(image), "--audio", str(audio), "--out", str(image.with_suffix(".mp4"))]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not look human" in err and "--allow-non-human" in err
    assert main([*args, "--allow-non-human"]) == 0
    assert "nothing written" in capsys.readouterr().out


def test_the_demo_form_offers_the_option_as_a_checkbox():
    from talkinghead.demo.options_form import option_widgets
    from talkinghead.pipelines.base import GenerateOptions

    widget = {w.name: w for w in option_widgets(GenerateOptions)}["allow_non_human"]
    assert widget.kind == "checkbox" and widget.default is False and "human" in widget.help
