"""The distinct counter (SPEC "Audience"): exact up to 500, then a HyperLogLog within 5 % in at most 4 KiB, merged
without counting twice."""

from __future__ import annotations

import hashlib

import pytest

from syndicator.core.sketch import HyperLogLog


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 500, 501, 1000, 20_000, 200_000])
def test_the_distinct_counter_is_close_and_small(n: int) -> None:
    """Exact up to 500, then a HyperLogLog within 5 %; at most 4 KiB + 1 stored; merged without double counting."""
    sketch, other = HyperLogLog(), HyperLogLog()
    for i in range(n):
        value = int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=8).digest(), "big")
        (sketch if i % 2 else other).add(value)
        sketch.add(value) if i % 3 == 0 else None
    sketch.merge(other)
    stored = sketch.to_bytes()
    assert len(stored) <= 4097
    estimate = HyperLogLog.from_bytes(stored).estimate()
    assert estimate == n if n <= 500 else abs(estimate - n) <= 0.05 * n
