"""Independent quality evaluation of generated talking-head videos.

Everything here measures a video with dlib's HOG face detector, its 68-point iBUG shape
predictor and its ResNet face encoder, never with the generator's own MediaPipe landmarks, so
that a generator cannot pass by agreeing with itself. `metrics` holds plain numpy functions
(no dlib needed); `dlib_models` loads dlib lazily and needs the extra:
pip install 'talkinghead[eval]'. benchmarks/check_quality.py puts them together.
"""
