"""Train / val / test by identity: every file of one person lands in one split.

Identities are shuffled with the seed and cut by the shares (largest remainders), so the same
command gives the same splits and every split with a share gets at least one identity when
there are enough of them.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np

from .config import SPLITS


def assign_splits(identities: Iterable[str], shares: tuple[float, float, float], seed: int) -> dict[str, str]:
    """identity -> "train" | "val" | "test"."""
    names = sorted(set(identities))
    counts = split_counts(len(names), shares)
    order = np.random.default_rng(seed).permutation(len(names))
    labels = [split for split, count in zip(SPLITS, counts) for _ in range(count)]
    return {names[i]: label for i, label in zip(order, labels)}


def split_counts(total: int, shares: tuple[float, float, float]) -> list[int]:
    """How many of `total` identities each split gets: largest remainders, then every split
    with a share above 0 gets at least one, taken from the largest, while there are enough."""
    exact = [total * share for share in shares]
    counts = [int(value) for value in exact]
    for i in sorted(range(3), key=lambda i: exact[i] - counts[i], reverse=True)[: total - sum(counts)]:
        counts[i] += 1
    wanted = [i for i in range(3) if shares[i] > 0]
    if total >= len(wanted):
        for i in wanted:
            if counts[i] == 0:
                counts[max(range(3), key=counts.__getitem__)] -= 1
                counts[i] = 1
    return counts


def derived_seed(seed: int, *names: str) -> int:
    """A seed in [0, 2**32) that depends on the dataset's seed and the names only, so adding a
    file does not change the others' videos."""
    digest = hashlib.sha256(":".join((str(seed), *names)).encode()).digest()
    return int.from_bytes(digest[:4], "little")
