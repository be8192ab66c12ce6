"""Independent quality evaluation of generated talking-head videos.

Everything here measures a video with dlib's HOG face detector, its 68-point iBUG shape
predictor and its ResNet face encoder, never with the generator's own MediaPipe landmarks, so
that a generator cannot pass by agreeing with itself.

    metrics      plain numpy functions (no dlib): mouth opening, head pose, PSNR, SSIM, LMD,
                 blinks, jitter, background change, seed diversity, ...
    dlib_models  dlib's models, loaded lazily (pip install 'talkinghead[eval]')
    voice        voice activity (silero-vad's bundled model, or a loudness rule)
    tracking     one pass over a video's frames collecting the per-frame measurements
    evaluate     evaluate_video(): every figure of `talkinghead eval`
    manifest, bench, table, plots   `talkinghead bench`
    reference    the real-video figures (reference_real.json) bench tables show
    arcface, standard   ArcFace CSIM / SyncNet LSE for users who have the weights
"""
