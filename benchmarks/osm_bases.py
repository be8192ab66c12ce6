"""What each basis of OSM-Net's motion space is, in words and numbers.

    python benchmarks/osm_bases.py [--checkpoint DIR]

For each basis: its share of the real windows' variance, the pose channels it moves (share of
its energy, channels in units of their spread in the data) and the shape of its main channel
over the window (one sign: a held offset or drift; one reversal: a swing; more: an oscillation),
with that channel's range in real units at one standard deviation of the basis.
"""

from __future__ import annotations

import argparse

import numpy as np

from talkinghead.motion.motion_space import CHANNELS
from talkinghead.motion.osm import OSMNet

UNITS = ("deg", "deg", "deg", "IOD", "IOD")


def describe(curve: np.ndarray) -> str:
    if np.ptp(curve) < 0.3 * np.abs(curve).max():
        return "held offset"
    steps = np.diff(curve)
    steps = steps[np.abs(steps) > 0.02 * np.ptp(curve)]  # flat stretches have no direction
    reversals = int(np.sum(np.diff(np.sign(steps)) != 0))
    if reversals == 0:
        return "drift" if abs(curve[-1] - curve[0]) > 0.5 * np.ptp(curve) else "offset"
    return "swing (there and back)" if reversals == 1 else f"oscillation ({reversals} turns)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None)
    space = OSMNet.load(parser.parse_args().checkpoint).space
    frames = space.config.window_frames
    print(f"motion space: {len(space.bases)} bases explain {space.explained.sum():.0%} of the variance of {frames}-frame windows")
    for k, basis in enumerate(space.bases):
        unit = basis.reshape(frames, len(CHANNELS))
        share = (unit**2).sum(0) / (unit**2).sum()
        main = int(np.argmax(share))
        curve = unit[:, main] * space.sigma[k] * space.channel_scale[main]
        moves = ", ".join(f"{CHANNELS[i]} {share[i]:.0%}" for i in np.argsort(-share)[:3])
        print(f"basis {k + 1}: {space.explained[k]:5.1%} | {moves} | {CHANNELS[main]}: {describe(curve)}, "
              f"{curve.min():+.2f} to {curve.max():+.2f} {UNITS[main]}")  # fmt: skip


if __name__ == "__main__":
    main()
