"""A distinct counter in at most 4 KiB, whatever the stream: exact while small, then a HyperLogLog.

Values come in as 64-bit hashes. Up to SMALL of them are kept as they are
(so a feed with a handful of readers counts them exactly); past that they
become HyperLogLog registers, precision 12 (4,096 one-byte registers, a
standard error of about 1.6 %). A register keeps only the longest run of
leading zeros among the hashes that fell in it. Two sketches merge (the union
of the values, or each register's maximum), so a value seen in both is
counted once. No I/O.
"""

from __future__ import annotations

import math

PRECISION = 12
REGISTERS = 1 << PRECISION
SMALL = 500  # values kept exactly (8 bytes each: under the 4 KiB of the registers)
_REST = 64 - PRECISION
_ALPHA = 0.7213 / (1 + 1.079 / REGISTERS)
_EXACT, _DENSE = b"x", b"d"


class HyperLogLog:
    """A distinct counter of 64-bit hashes."""

    __slots__ = ("exact", "registers")

    def __init__(self) -> None:
        self.exact: set[int] | None = set()
        self.registers = bytearray()

    def add(self, value: int) -> None:
        """Count a 64-bit hash."""
        if self.exact is not None:
            self.exact.add(value)
            if len(self.exact) > SMALL:
                self._to_registers()
            return
        index = value >> _REST
        rank = _REST - (value & ((1 << _REST) - 1)).bit_length() + 1
        if rank > self.registers[index]:
            self.registers[index] = rank

    def _to_registers(self) -> None:
        values, self.exact, self.registers = self.exact or set(), None, bytearray(REGISTERS)
        for value in values:
            self.add(value)

    def merge(self, other: HyperLogLog) -> None:
        """Count what the other sketch counted too."""
        if other.exact is not None:
            for value in other.exact:
                self.add(value)
            return
        if self.exact is not None:
            self._to_registers()
        self.registers = bytearray(map(max, self.registers, other.registers))

    def estimate(self) -> int:
        """How many distinct hashes were added (exactly while few, about otherwise)."""
        if self.exact is not None:
            return len(self.exact)
        zeros = self.registers.count(0)
        raw = _ALPHA * REGISTERS * REGISTERS / sum(2.0**-rank for rank in self.registers)
        if raw <= 2.5 * REGISTERS and zeros:
            return round(REGISTERS * math.log(REGISTERS / zeros))
        return round(raw)

    def to_bytes(self) -> bytes:
        """The values or the registers, at most 4,097 bytes either way."""
        if self.exact is not None:
            return _EXACT + b"".join(v.to_bytes(8, "big") for v in sorted(self.exact))
        return _DENSE + bytes(self.registers)

    @classmethod
    def from_bytes(cls, data: bytes) -> HyperLogLog:
        """A sketch from to_bytes; an empty one for anything else."""
        sketch = cls()
        if data[:1] == _DENSE and len(data) == REGISTERS + 1:
            sketch.exact, sketch.registers = None, bytearray(min(r, _REST + 1) for r in data[1:])
        elif data[:1] == _EXACT and (len(data) - 1) % 8 == 0:
            for at in range(1, len(data), 8):
                sketch.add(int.from_bytes(data[at : at + 8], "big"))
        return sketch
