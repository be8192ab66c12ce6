"""talkinghead: one photo + one speech clip -> a talking-head video.

    import talkinghead
    result = talkinghead.generate("face.jpg", "speech.wav", seed=0)
    result.save("out.mp4")
"""

from .api import generate, load_pipeline
from .types import AudioClip, AudioFeatures, GenerationResult, MotionSequence, SourceFace

__version__ = "0.1.0"
__all__ = ["generate", "load_pipeline", "AudioClip", "AudioFeatures", "GenerationResult", "MotionSequence", "SourceFace"]
