"""The stable hash of content digests, fingerprints and the digest of a model value, in every process and release.

ETags are not made here: ``served.etag_of`` uses a faster hash, as an ETag needs no resistance to a forger.

Below the model, which digests its posts with it.

Contains no business logic. No I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime

EXCLUDE = "_hash_exclude_"  # a dataclass's fields that no output shows (a ClassVar of their names)


def digest(data: bytes) -> str:
    """The hex SHA-256 of some bytes (equal bytes, equal digests, in every process and release)."""
    return hashlib.sha256(data).hexdigest()


def digest_text(*parts: str) -> str:
    """The digest of several strings, kept apart (a NUL cannot be in any of them twice the same way)."""
    return digest("\0".join(parts).encode("utf-8", "surrogatepass"))


def stable_hash(thing: object) -> str:
    """The digest of a value's JSON form: equal values, equal digests, in every process.

    A dataclass is the mapping of its fields (whatever its type), less those its
    ``_hash_exclude_`` names and those that are empty (None, "", (), [], {}) or
    at their default: adding a field with a default changes no digest made
    before, and a field nobody listed is counted. A datetime is its ISO 8601
    form; any other object (a post's text) stands for itself by its ``key``.
    """
    return digest(_ENCODE(thing).encode("utf-8", "surrogatepass"))


def hashed_fields(thing: object) -> tuple[str, ...]:
    """The names of the fields of a dataclass that its digest covers (all but ``_hash_exclude_``)."""
    exclude = getattr(thing, EXCLUDE, ())
    return tuple(f.name for f in dataclasses.fields(thing) if f.name not in exclude)  # type: ignore[arg-type]


def _plain(value: object) -> object:
    """The JSON form of what the encoder has none for (it asks for them)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        exclude = getattr(value, EXCLUDE, ())
        found = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if field.name in exclude or item is None or item == field.default:
                continue
            if not item and isinstance(item, str | tuple | list | dict):
                continue
            found[field.name] = item
        return found
    key = getattr(value, "key", None)
    if key is None:
        raise TypeError(f"no stable form for {type(value).__name__}")
    return key


_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain).encode
