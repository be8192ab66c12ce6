"""Do real heads move faster while speaking than in pauses? Measured on tracked real clips.

    python benchmarks/real_speech_pause.py VIDEOS_DIR [--cache DIR]

For each clip with audio: the share of frames the loudness voice detector calls speech, and the
mean head-pose change per frame (yaw, pitch, roll, degrees, from the MediaPipe tracks the OSM
recipe trains on) while speaking and in pauses.
"""

from __future__ import annotations

import argparse

from talkinghead.audio.loudness import loudness_features
from talkinghead.eval.metrics import speed_by_voice
from talkinghead.motion.motion_space import MotionSpaceConfig
from talkinghead.train.osm_recipe import clip_pose
from talkinghead.train.videos import load_talking_clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos")
    parser.add_argument("--cache", default=None)
    args = parser.parse_args()
    fps = MotionSpaceConfig().fps
    print(f"{'clip':10} {'speech share':>12} {'deg/frame speaking':>18} {'in pauses':>9}")
    for clip in load_talking_clips(args.videos, args.cache):
        if clip.audio is None:
            continue
        pose = clip_pose(clip, fps)[:, :3]
        voiced = loudness_features(clip.audio, fps).column("voiced")[: len(pose)] > 0
        speaking, pauses = speed_by_voice(pose[: len(voiced)], voiced)
        print(f"{clip.name:10} {voiced.mean():12.2f} {speaking:18.2f} {pauses:9.2f}")


if __name__ == "__main__":
    main()
