import threading
import time

import pytest

from talkinghead.io.background import iterate_in_background


def test_items_arrive_in_order():
    assert list(iterate_in_background(range(50), depth=3)) == list(range(50))


def test_producer_errors_reach_the_consumer_at_their_position():
    def items():
        yield 1
        yield 2
        raise RuntimeError("render failed")

    seen = []
    with pytest.raises(RuntimeError, match="render failed"):
        for item in iterate_in_background(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_consumer_stopping_early_stops_the_producer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    stream = iterate_in_background(items(), depth=2)
    assert next(stream) == 0
    stream.close()
    time.sleep(0.3)
    assert len(produced) < 10
    assert not any(t.name == "talkinghead-prefetch" for t in threading.enumerate())
