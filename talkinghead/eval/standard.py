"""The standard, weight-based evaluators (ArcFace CSIM, SyncNet LSE-C/D), for users who have
the weights. None of their weights can be shipped or downloaded here, so nothing in the
default evaluation depends on them.
"""

from __future__ import annotations

import argparse
import os

from ..errors import MissingWeightsError, TalkingHeadError

SYNCNET_HINT = (
    "LSE-C / LSE-D need SyncNet (syncnet_v2.model from the SyncNet authors) and its exact face "
    "crop and MFCC front end, which this version does not implement: without the weights we "
    "cannot check that a re-implementation reproduces the published numbers. Use the built-in "
    "sync_r / sync_lag (audio energy vs dlib mouth opening) instead."
)


def check_weights(path: str, what: str, hint: str) -> str:
    """The path, or MissingWeightsError saying how to provide the file."""
    if not os.path.isfile(path):
        raise MissingWeightsError(f"{what} weights {path} not found; {hint}")
    return path


def standard_measures(args: argparse.Namespace) -> dict:
    """CSIM / LSE figures asked for on the command line (none asked: {})."""
    measures: dict = {}
    if getattr(args, "syncnet_weights", None):
        check_weights(args.syncnet_weights, "SyncNet", "pass the path of syncnet_v2.model")
        raise TalkingHeadError(SYNCNET_HINT)
    if getattr(args, "arcface_weights", None):
        from .arcface import arcface_csim

        measures["csim_arcface"] = arcface_csim(args.video, args.source, args.arcface_weights)
    return measures
