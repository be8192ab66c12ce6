"""One contract, run over every registered pipeline (as diffusers' pipeline test mixin does):
declared classes, input validation, seeded determinism, motion save/load, bad input,
provenance, config round trips, save_pretrained and devices.

A new pipeline is covered by registering it; a new inputs class needs a sample in
SAMPLE_INPUTS (the test says so if it is missing).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from talkinghead.api import load_pipeline
from talkinghead.errors import InputError, NoFaceError
from talkinghead.io.audio import write_wav
from talkinghead.pipelines.base import Pipeline
from talkinghead.pipelines.inputs import ListenerInputs, PoseControlInputs, TalkingHeadInputs, TaskInputs
from talkinghead.pipelines.output import GenerationResult, Provenance
from talkinghead.registry import PIPELINES
from talkinghead.types import AudioClip, MotionSequence

from .conftest import DEMO_IMAGE, syllables

FAST = {"fps": 10.0}


def talking_head_sample(folder: Path) -> TalkingHeadInputs:
    audio = folder / "speech.wav"
    write_wav(audio, AudioClip(syllables(1.2), 16000))
    return TalkingHeadInputs(image=str(DEMO_IMAGE), audio=str(audio))


def listener_sample(folder: Path) -> ListenerInputs:
    from talkinghead.io.video import write_video
    from talkinghead.types import RenderedChunk

    frames = np.repeat(np.asarray(Image.open(DEMO_IMAGE).convert("RGB"))[None], 12, axis=0)
    video = folder / "speaker.mp4"
    write_video(video, [RenderedChunk(frames, np.zeros(frames.shape[:3], np.uint8), 0)], fps=10.0,
                audio=AudioClip(syllables(1.2), 16000))  # fmt: skip
    return ListenerInputs(image=str(DEMO_IMAGE), speaker_video=str(video))


def pose_control_sample(folder: Path) -> PoseControlInputs:
    pose = folder / "nod.csv"
    pose.write_text("time,pitch,yaw\n0,0,0\n0.5,6,-3\n1.0,0,3\n")
    return PoseControlInputs(**dataclasses.asdict(talking_head_sample(folder)), pose=str(pose))


#: inputs class -> a function making small valid inputs of it in a folder
SAMPLE_INPUTS = {TalkingHeadInputs: talking_head_sample, ListenerInputs: listener_sample, PoseControlInputs: pose_control_sample}


def sample_inputs(cls: type[Pipeline], folder: Path) -> TaskInputs:
    for inputs_class in cls.inputs_class.__mro__:
        if inputs_class in SAMPLE_INPUTS:
            made = SAMPLE_INPUTS[inputs_class](folder)
            return made if type(made) is cls.inputs_class else cls.inputs_class(**dataclasses.asdict(made))
    pytest.fail(f"add sample inputs for {cls.inputs_class.__name__} to SAMPLE_INPUTS")


@pytest.fixture(params=PIPELINES.names(), scope="module")
def name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def pipeline(name):
    with load_pipeline(name) as pipe:
        yield pipe


@pytest.fixture(scope="module")
def inputs(pipeline, tmp_path_factory):
    return sample_inputs(type(pipeline), tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def result(pipeline, inputs) -> GenerationResult:
    return pipeline(inputs, seed=7, **FAST)


def test_declares_its_classes(pipeline):
    cls = type(pipeline)
    assert cls.kind in ("talking_head", "listener")
    assert issubclass(cls.inputs_class, TaskInputs)
    assert dataclasses.is_dataclass(cls.options_class) and dataclasses.is_dataclass(cls.config_class)
    assert isinstance(pipeline.config, cls.config_class)
    for f in dataclasses.fields(cls.options_class) + dataclasses.fields(cls.inputs_class):
        assert f.metadata.get("help"), f"{cls.__name__}: {f.name} has no help for the CLI and the page"


def test_result_has_the_audio_length_and_frames(result, inputs):
    assert result.num_frames == round(1.2 * FAST["fps"])
    chunk = next(result.iter_chunks(4))
    h, w = result.source.size
    assert chunk.frames.shape == (4, h, w, 3) and chunk.frames.dtype == np.uint8
    assert chunk.masks.shape == (4, h, w) and chunk.masks.dtype == np.uint8


def test_same_seed_same_motion_other_seed_other_motion(pipeline, inputs, result):
    again = pipeline(inputs, seed=7, **FAST)
    other = pipeline(inputs, seed=8, **FAST)
    for key in ("rotation", "translation", "expression", "eyelids"):
        assert np.array_equal(getattr(result.motion, key), getattr(again.motion, key)), key
    # What a seed draws differs by method (head motion, or only blinks where the pose is given).
    assert any(not np.array_equal(getattr(result.motion, k), getattr(other.motion, k)) for k in ("rotation", "eyelids"))
    assert np.array_equal(result.frames[:3], again.frames[:3])


def test_motion_save_load_round_trip(result, tmp_path):
    result.motion.save(tmp_path / "m.npz")
    loaded = MotionSequence.load(tmp_path / "m.npz")
    assert loaded.expression_names == result.motion.expression_names
    assert np.array_equal(loaded.expression, result.motion.expression)


def test_provenance_records_how_it_was_made(name, pipeline, result, inputs):
    from talkinghead import __version__

    p = result.provenance
    assert (p.pipeline, p.seed, p.version) == (name, 7, __version__)
    assert p.options["fps"] == FAST["fps"]
    assert set(p.inputs) == {k for k, v in dataclasses.asdict(inputs).items() if v is not None}
    assert all(len(digest) == 64 for digest in p.checkpoints.values())
    assert set(p.checkpoints) == set(pipeline.checkpoints())
    rebuilt = load_pipeline(name, overrides=p.config)
    assert rebuilt.config_dict() == p.config


def test_provenance_is_in_the_video_metadata(result, tmp_path):
    from talkinghead.io.video import read_metadata

    out = result.save(tmp_path / "v.mp4")
    tags = read_metadata(out)
    assert tags["talkinghead_pipeline"] == result.provenance.pipeline and tags["talkinghead_seed"] == "7"
    assert Provenance.from_tags(tags) == result.provenance


def test_a_drawn_seed_is_recorded(pipeline, inputs):
    result = pipeline(inputs, **FAST)
    assert isinstance(result.seed, int) and result.provenance.seed == result.seed


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "3"])
def test_bad_seeds_are_input_errors(pipeline, inputs, seed):
    with pytest.raises(InputError, match="seed"):
        pipeline(inputs, seed=seed, **FAST)


def test_unknown_option_and_wrong_inputs_type(pipeline, inputs):
    with pytest.raises(TypeError, match="unknown option"):
        pipeline(inputs, seed=0, no_such_option=1)
    with pytest.raises(TypeError, match=pipeline.inputs_class.__name__):
        pipeline(object(), seed=0)


def test_missing_input_file_is_an_input_error(pipeline, inputs, tmp_path):
    first_file = next(f.name for f in dataclasses.fields(inputs) if f.metadata.get("kind") != "text")
    missing = dataclasses.replace(inputs, **{first_file: str(tmp_path / "missing.png")})
    with pytest.raises(InputError, match="missing.png"):
        pipeline(missing, seed=0, **FAST)


def test_an_image_without_a_face_is_refused(pipeline, inputs, tmp_path):
    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(wall)
    with pytest.raises(NoFaceError, match="wall.png"):
        pipeline(dataclasses.replace(inputs, image=str(wall)), seed=0, **FAST)


def test_check_reads_the_inputs_without_making_anything(pipeline, inputs):
    report = pipeline.check(inputs, **FAST)
    assert isinstance(report, dict)
    with pytest.raises(InputError):
        pipeline.check(inputs, fps=0.0)


def test_save_pretrained_rebuilds_the_same_pipeline(name, pipeline, inputs, result, tmp_path):
    folder = pipeline.save_pretrained(tmp_path / "saved")
    for weights in pipeline.checkpoints():
        assert (folder / weights / "model.safetensors").is_file()
    with load_pipeline(folder) as again:
        assert again.name == name
        for weights, path in again.checkpoints().items():
            assert Path(path).resolve() == (folder / weights).resolve()
        assert np.array_equal(again(inputs, seed=7, **FAST).motion.rotation, result.motion.rotation)


def test_to_cpu_keeps_the_result(pipeline, inputs, result):
    assert pipeline.to("cpu") is pipeline and pipeline.warm_up() is pipeline
    assert np.array_equal(pipeline(inputs, seed=7, **FAST).motion.expression, result.motion.expression)


@pytest.mark.gpu
def test_cuda_gives_the_cpu_motion(name, inputs, result):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    with load_pipeline(name, device="cuda") as pipe:
        on_gpu = pipe(inputs, seed=7, **FAST)
        np.testing.assert_allclose(on_gpu.motion.rotation, result.motion.rotation, atol=1e-3)
        frames = on_gpu.frames[:3].astype(int)
    assert np.abs(frames - result.frames[:3].astype(int)).mean() < 1.0
