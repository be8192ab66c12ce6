"""Run an iterator in a background thread, a few items ahead of its consumer.

Used to render the next chunk of frames while the previous one is being piped to the video
encoder: both release the GIL (torch/cv2 work, pipe writes), so on a 2-core machine they
overlap instead of taking turns.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


def iterate_in_background(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield the items of `items`, produced by a daemon thread at most `depth` items ahead.

    An exception raised while producing is re-raised in the consumer at that position. If the
    consumer stops early, the producer stops after its current item.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(buffer, (item, None), stop):
                    return
            _put(buffer, (_DONE, None), stop)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            _put(buffer, (_DONE, exc), stop)

    thread = threading.Thread(target=produce, name="talkinghead-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _put(buffer: queue.Queue, entry: tuple, stop: threading.Event) -> bool:
    """Put unless the consumer has gone; True if the entry was queued."""
    while not stop.is_set():
        try:
            buffer.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
