"""Speed of phone recognition and forced alignment: seconds of decoding per second of audio.

    python benchmarks/phones_speed.py AUDIO... [--transcript-audio demos/speech.wav] [--long 600]

recognize_phones runs on every AUDIO, and so do the content mouth's two hearings (phones and
recognised words, recognize_speech) serially and with the phone loop in a child process; align_transcript on --transcript-audio, whose text is
demos/make_examples.py SENTENCES (the clip is its espeak rendering). --long N also times both
on that clip repeated (1 s of silence between copies) to about N seconds: the chunked path,
with the process's peak memory. Creating a decoder is timed once on its own as well.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from demos.make_examples import SENTENCES  # noqa: E402
from talkinghead.audio.phones import PhoneConfig, align_transcript, new_decoder, recognize_phones, recognize_speech  # noqa: E402
from talkinghead.info import machine_summary  # noqa: E402
from talkinghead.io.audio import load_audio  # noqa: E402
from talkinghead.types import AudioClip  # noqa: E402


def load_decoders() -> None:
    """Time creating one decoder of each kind (every recognition or alignment call creates its
    own, so this is included in the per-clip figures too)."""
    for kind in ("allphone", "align"):
        start = time.perf_counter()
        new_decoder(kind, PhoneConfig())
        print(f"create {kind} decoder: {time.perf_counter() - start:.2f} s")


def measure(name: str, clip: AudioClip, fn, *args) -> float:
    """Run fn(clip, *args), print its speed and SIL share, return the seconds it took."""
    start = time.perf_counter()
    segments = fn(clip, *args)
    seconds = time.perf_counter() - start
    sil = sum(s.end - s.start for s in segments if s.phone == "SIL") / clip.duration
    speed = seconds / clip.duration
    print(f"  {name:17s} {clip.duration:6.1f} s audio {seconds:6.2f} s  {speed:.3f} s/s  {len(segments):5d} segments  SIL {sil:.0%}")
    return seconds


def repeated(clip: AudioClip, seconds: float) -> tuple[AudioClip, int]:
    """The clip repeated, 1 s of silence after each copy, to at least `seconds`; and the count."""
    copies = max(1, int(np.ceil(seconds / (clip.duration + 1.0))))
    one = np.concatenate([clip.samples, np.zeros(clip.sample_rate, np.float32)])
    return AudioClip(np.concatenate([one] * copies), clip.sample_rate), copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", nargs="+")
    parser.add_argument("--transcript-audio", default=str(REPO / "demos" / "speech.wav"))
    parser.add_argument("--long", type=float, default=0.0, help="also time a clip about this long (seconds)")
    args = parser.parse_args()
    print("machine:", machine_summary())
    load_decoders()
    seconds = duration = 0.0
    for path in args.audio:
        clip = load_audio(path, 16000)
        print(Path(path).name)
        seconds += measure("recognize_phones", clip, recognize_phones)
        duration += clip.duration
        for parallel in (False, True):
            start = time.perf_counter()
            recognize_speech(clip, PhoneConfig(parallel=parallel))
            print(f"  both hearings, {'phone loop in a child process' if parallel else 'one after the other'}: "
                  f"{time.perf_counter() - start:.2f} s")
    print(f"overall recognize_phones: {seconds / duration:.3f} s per s of audio ({duration:.1f} s)")
    clip = load_audio(args.transcript_audio, 16000)
    print(Path(args.transcript_audio).name, "with its transcript")
    measure("align_transcript", clip, align_transcript, SENTENCES)
    measure("recognize_phones", clip, recognize_phones)
    if args.long:
        long_clip, copies = repeated(clip, args.long)
        print(f"{Path(args.transcript_audio).name} x{copies} with 1 s pauses")
        measure("recognize_phones", long_clip, recognize_phones)
        measure("align_transcript", long_clip, align_transcript, " ".join([SENTENCES] * copies))
        print(f"peak memory of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
