"""One stable hash for the whole program: content digests, ETags, fingerprints.

Contains no business logic. No I/O.
"""

from __future__ import annotations

import hashlib


def digest(data: bytes) -> str:
    """The hex SHA-256 of some bytes (equal bytes, equal digests, in every process and release)."""
    return hashlib.sha256(data).hexdigest()


def digest_text(*parts: str) -> str:
    """The digest of several strings, kept apart (a NUL cannot be in any of them twice the same way)."""
    return digest("\0".join(parts).encode("utf-8", "surrogatepass"))
