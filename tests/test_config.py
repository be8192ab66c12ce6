import pytest

from talkinghead.api import load_pipeline
from talkinghead.cli import main
from talkinghead.config import load_overrides, override
from talkinghead.errors import InputError
from talkinghead.motion.baseline import BaselineMotionConfig
from talkinghead.pipelines.baseline import BaselineConfig

from .conftest import DEMO_IMAGE, ROOT

SHIPPED = sorted((ROOT / "configs").glob("*/*.yaml"))


def test_nested_override_keeps_other_defaults():
    config = override(BaselineMotionConfig(), {"head": {"std_deg": [3, 2, 1]}, "mouth_gain": 0.3})
    assert config.head.std_deg == (3, 2, 1) and config.mouth_gain == 0.3
    assert config.blink == BaselineMotionConfig().blink


def test_typos_are_errors():
    with pytest.raises(InputError, match="unknown field 'hed'"):
        override(BaselineMotionConfig(), {"hed": {}})


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"motion": {"mouth_gain": "loud"}}, "motion.mouth_gain: expected float"),
        ({"motion": {"head": {"std_deg": 3}}}, "std_deg: expected a list"),
        ({"motion": {"head": {"std_deg": [1, 2]}}}, "expected 3 values"),
        ({"renderer": {"interpolation": "x"}}, "renderer: expected str"),
        ({"renderer_config": {"interpolation": "x"}}, "interpolation must be one of"),
        ({"device": 3}, "device: expected str"),
    ],
)
def test_wrong_types_and_values_are_one_line_errors(changes, message):
    with pytest.raises(InputError, match=message):
        load_pipeline("baseline", overrides=changes)


def test_every_shipped_config_is_in_its_pipelines_folder():
    assert {path.parent.name for path in SHIPPED} == {"baseline", "osm"}
    for path in SHIPPED:
        named, _ = load_overrides(path)
        assert named == path.parent.name, path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_configs_load_on_their_pipeline(path, tmp_path, capsys):
    named, overrides = load_overrides(path)
    with load_pipeline(named, overrides=overrides) as pipeline:
        assert pipeline.name == named
    from talkinghead.io.audio import write_wav
    from talkinghead.types import AudioClip

    from .conftest import syllables

    audio = tmp_path / "a.wav"
    write_wav(audio, AudioClip(syllables(0.5), 16000))
    code = main(["generate", "--config", str(path), "--image", str(DEMO_IMAGE), "--audio", str(audio), "--out", str(tmp_path / "o.mp4"), "--dry-run"])
    assert code == 0 and f"ok: {named} pipeline" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.mp4"))


def test_a_config_for_another_pipeline_is_refused(tmp_path, capsys):
    code = main(["generate", "--config", str(ROOT / "configs/osm/calm_speaker.yaml"), "--pipeline", "baseline",
                 "--image", str(DEMO_IMAGE), "--audio", "x.wav", "--out", str(tmp_path / "o.mp4")])  # fmt: skip
    assert code == 2 and "written for the osm pipeline, not baseline" in capsys.readouterr().err


def test_config_round_trips_through_its_dict():
    from talkinghead.pipelines.config import config_dict

    config = override(BaselineConfig(), {"motion": {"mouth": "loudness"}, "face_model": {"basis": "geometric"}})
    assert override(BaselineConfig(), config_dict(config)) == config
