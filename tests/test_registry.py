import pytest

from talkinghead.registry import FACE_BACKENDS, PIPELINES, Registry


def test_builtins_are_listed_without_importing_them():
    assert "baseline" in PIPELINES.names()
    assert {"mediapipe", "face_alignment"} <= set(FACE_BACKENDS.names())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="baseline"):
        PIPELINES.get("nope")


def test_register_decorator():
    registry = Registry("thing")

    @registry.register("mine")
    class Mine:
        pass

    assert registry.get("mine") is Mine and "mine" in registry


def test_lazy_entry_resolves_to_the_class():
    from talkinghead.pipelines.baseline import BaselinePipeline

    assert PIPELINES.get("baseline") is BaselinePipeline
