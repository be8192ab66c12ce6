"""Reading and writing the files the pipelines consume and produce: images, audio and video.

Audio and video go through the ffmpeg binary bundled with imageio-ffmpeg, so every format
ffmpeg understands works and no system ffmpeg is needed. Import the submodules directly
(`talkinghead.io.image`, `.audio`, `.video`); nothing is imported here so that loading one
does not pay for the others.
"""
