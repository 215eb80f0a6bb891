"""The ledger's file: a JSON object with a line per post (so that a writer may keep the lines of unchanged posts),
and the journal of the lines changed since it was written whole. Pure: bytes in, bytes out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import astuple

from syndicator.core.ledger import Departure
from syndicator.core.ledger import Record
from syndicator.core.ledger import Seen

VERSION = 4
READS = (1, 2, 3, 4)  # older ledgers lack some fields: their records are completed on the next full build
MARKS_PARTNERS = 4  # an older file's records may not say which posts were for partners only (core.recovery)

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def entry_line(source: str, record_: Record) -> bytes:
    """One post's line of the ledger file: its source, a colon and its record, as compact JSON."""
    return f"{_ENCODE(source)}:{_ENCODE(_entry(record_))}".encode()


def dumps(ledger: dict[str, Record]) -> bytes:
    """The ledger file: a JSON object with a line per post, in source order."""
    return file_of([entry_line(source, ledger[source]) for source in sorted(ledger)])


def file_of(lines: Sequence[bytes]) -> bytes:
    """The ledger file from its posts' lines (``entry_line``'s, in source order)."""
    return b'{"version":%d,"posts":{\n%s\n}}\n' % (VERSION, b",\n".join(lines))


def written_lines(data: bytes, ledger: dict[str, Record]) -> dict[str, bytes]:
    """Each post's line in a ledger file as ``dumps`` wrote it, by source (``ledger``: what ``loads`` read of it).

    A build writes them again as they are for the posts whose records did not
    change, instead of encoding every post again. None are given ({}) for a
    file of another version or laid out otherwise.
    """
    if not data.startswith(b'{"version":%d,"posts":{\n' % VERSION):
        return {}
    lines = data.split(b"\n")[1:-2]
    sources = sorted(ledger)
    if len(lines) != len(sources):
        return {}
    found = {}
    for source, line in zip(sources, lines, strict=True):
        line = line.removesuffix(b",")
        if not line.startswith(b"%s:" % _ENCODE(source).encode()):
            return {}
        found[source] = line
    return found


def _entry(record_: Record) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": record_.id,
        "slug": record_.slug,
        "former_slugs": list(record_.former_slugs),
        "title": record_.title,
        "date": record_.date,
        "content": record_.content,
        "updated": record_.updated,
        "stems": list(record_.stems),
    }
    if record_.deleted:
        entry["deleted"] = record_.deleted
    if record_.partners_only:
        entry["partners_only"] = True
    if record_.withdrawn:
        entry["withdrawn"] = record_.withdrawn
    if record_.public is not None:
        seen = record_.public
        public: dict[str, object] = {"id": seen.id, "slug": seen.slug, "date": seen.date, "stems": list(seen.stems)}
        if seen.left:
            public["left"] = [list(astuple(left)) for left in seen.left]
        entry["public"] = public
    if record_.left:
        entry["left"] = [list(astuple(left)) for left in record_.left]
    return entry


def loads(data: bytes) -> dict[str, Record]:
    """Read a ledger file; raise ValueError when it is not one."""
    return read(data)[1]


def read(data: bytes) -> tuple[int, dict[str, Record]]:
    """A ledger file's version and records; raise ValueError when it is not one."""
    document = json.loads(data.decode("utf-8"))
    if not isinstance(document, dict) or document.get("version") not in READS:
        raise ValueError(f"not a ledger of version {' or '.join(map(str, READS))}")
    return int(document["version"]), {source: _record(source, entry) for source, entry in document["posts"].items()}


def _record(source: str, entry: object) -> Record:
    """A post's record from its entry in a ledger file (ValueError when it is not one)."""
    if not isinstance(entry, dict):
        raise ValueError(f"bad record for {source!r}")
    former = entry.get("former_slugs", [])
    if not (isinstance(entry.get("id"), str) and isinstance(entry.get("slug"), str) and isinstance(former, list)):
        raise ValueError(f"bad record for {source!r}")
    return Record(
        entry["id"],
        entry["slug"],
        tuple(str(s) for s in former),
        title=str(entry.get("title", "")),
        date=str(entry.get("date", "")),
        content=str(entry.get("content", "")),
        updated=str(entry.get("updated", "")),
        stems=tuple(str(s) for s in entry.get("stems", [])),
        deleted=str(entry.get("deleted", "")),
        partners_only=entry.get("partners_only") is True,
        withdrawn=str(entry.get("withdrawn", "")),
        public=_seen(source, entry.get("public")),
        left=_departures(source, entry.get("left", [])),
    )


def _seen(source: str, entry: object) -> Seen | None:
    if entry is None:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("stems", []), list):
        raise ValueError(f"bad record for {source!r}")
    stems = tuple(str(stem) for stem in entry.get("stems", []))
    left = _departures(source, entry.get("left", []))
    return Seen(str(entry.get("id", "")), str(entry.get("slug", "")), str(entry.get("date", "")), stems, left)


def _departures(source: str, entry: object) -> tuple[Departure, ...]:
    """The departures of ``left``: [feed, when, id, date, slug] each."""
    if not isinstance(entry, list) or not all(isinstance(left, list) and len(left) == 5 for left in entry):
        raise ValueError(f"bad record for {source!r}")
    return tuple(Departure(*map(str, left)) for left in entry)


# The journal: the lines of the posts whose records changed since the ledger file was written whole, appended (and
# fsynced: a few hundred bytes, where the file is 5 MB at 10,000 posts) until the file is written whole again. Its
# first line names the state (size, mtime_ns, inode) of the file it follows: it is applied to that file only.
JOURNAL_VERSION = 1


def journal_head(base: tuple[int, int, int]) -> bytes:
    """A journal's first line: the ledger file it follows."""
    return b'{"journal":%d,"ledger":[%d,%d,%d]}' % (JOURNAL_VERSION, *base)


def journal_line(source: str, record_: Record | None) -> bytes:
    """A post's line in the journal: its new line in the ledger file, or its source and null when it went."""
    return entry_line(source, record_) if record_ is not None else f"{_ENCODE(source)}:null".encode()


def apply_journal(data: bytes, base: tuple[int, int, int], ledger: dict[str, Record], lines: dict[str, bytes]) -> bool:
    """Apply a journal to the ledger read from the file whose state is ``base`` and to that file's lines, in order.

    A journal of another file (left by a crash once that file was written whole
    again) is not applied: False. A line that cannot be read ends it (the last
    one, cut short by a crash while it was appended, was never answered).
    """
    head, *changes = data.split(b"\n")
    if head != journal_head(base):
        return False
    for line in changes:
        try:
            [(source, entry)] = json.loads(b"{%s}" % line).items()
            found = _record(source, entry) if entry is not None else None
        except (ValueError, TypeError, RecursionError):
            break
        if found is None:
            ledger.pop(source, None)
            lines.pop(source, None)
        else:
            ledger[source], lines[source] = found, line
    return True
