import pytest

from talkinghead.api import load_pipeline
from talkinghead.config import load_overrides, override
from talkinghead.errors import InputError
from talkinghead.motion.baseline import BaselineMotionConfig

from .conftest import ROOT


def test_nested_override_keeps_other_defaults():
    config = override(BaselineMotionConfig(), {"head": {"std_deg": [3, 2, 1]}, "mouth_gain": 0.3})
    assert config.head.std_deg == (3, 2, 1) and config.mouth_gain == 0.3
    assert config.blink == BaselineMotionConfig().blink


def test_typos_are_errors():
    with pytest.raises(InputError, match="unknown field 'hed'"):
        override(BaselineMotionConfig(), {"hed": {}})


def test_shipped_configs_load_into_pipelines():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        pipeline = load_pipeline("baseline", overrides=load_overrides(path))
        assert pipeline.motion_model.config is not None


def test_unknown_section(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("moton: {}\n")
    with pytest.raises(InputError, match="unknown section"):
        load_overrides(path)
