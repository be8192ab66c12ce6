"""`talkinghead track VIDEO -o MOTION.npz`: turn a real talking video into replayable motion."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def add_parser(commands) -> None:
    p = commands.add_parser("track", help="track the face in a talking video and save its motion (replay it with generate --motion)")
    p.add_argument("video", help="a video with one visible face (mp4, mov, mkv, webm, ...)")
    p.add_argument("-o", "--out", required=True, help="motion file to write (.npz); the audio features go next to it as NAME.audio.npz")
    p.add_argument("--basis", default="learned", help="expression basis of the motion: learned or geometric")
    p.add_argument("--face-index", type=int, default=0, help="which face to follow, 0 = the largest")
    p.add_argument("--landmarks", default=None, help="also save the raw per-frame landmarks (.npz)")


def run(args: argparse.Namespace) -> int:
    from ..audio.mel import MelConfig, log_mel
    from ..io.audio import load_video_audio
    from ..motion.tracked import analyse_track, tracked_motion
    from ..facemodel.face_model import FaceModel, FaceModelConfig
    from .tracking import TrackerConfig, track_video

    from ..io.atomic import write_atomically

    out = Path(args.out)
    face_model = FaceModel(FaceModelConfig(basis=args.basis))  # fails early on an unknown name or missing weights
    track = track_video(args.video, TrackerConfig(face_index=args.face_index))
    motion = tracked_motion(analyse_track(track), face_model)
    motion.meta["video"] = str(args.video)
    write_atomically(out, motion.save)
    if args.landmarks:
        write_atomically(Path(args.landmarks), track.save)
    message = f"wrote {out} ({len(motion)} frames, {motion.fps:g} fps, {int((~track.found).sum())} frames without a face filled in)"
    clip = load_video_audio(args.video)
    if clip is not None:
        config = MelConfig()
        mel = log_mel(clip, config).numpy()
        audio_out = out.with_name(out.name.removesuffix(".npz") + ".audio.npz")
        write_atomically(audio_out, lambda p: save_audio_features(p, mel, config))
        message += f"; audio features in {audio_out}"
    print(message)
    return 0


def save_audio_features(path: Path, mel: np.ndarray, config) -> None:
    """(F, n_mels) log-mel at config.mel_rate frames per second, with the settings as JSON."""
    from dataclasses import asdict

    with open(path, "wb") as f:
        np.savez(f, log_mel=mel.astype(np.float32), config=np.array(json.dumps(asdict(config))))

