"""A setting in force only inside a `with` block, for the current thread or task (contextvars),
so concurrent requests (the web demo's threads) never see each other's limits."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator


@contextmanager
def scoped(variable: ContextVar, value: Any) -> Iterator[None]:
    """`variable` holds `value` within the block and its earlier value after it."""
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)
