"""talkinghead: one photo + one speech clip -> a talking-head video.

    import talkinghead
    result = talkinghead.generate("face.jpg", "speech.wav", seed=0)
    result.save("out.mp4")
"""

from .api import generate, load_pipeline
from .pipelines.inputs import ListenerInputs, TalkingHeadInputs
from .pipelines.output import GenerationResult, Provenance
from .types import AudioClip, AudioFeatures, MotionSequence, SourceFace

__version__ = "0.1.0"
__all__ = [
    "generate", "load_pipeline", "AudioClip", "AudioFeatures", "GenerationResult", "ListenerInputs", "MotionSequence",
    "Provenance", "SourceFace", "TalkingHeadInputs",
]
