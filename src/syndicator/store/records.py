"""What a build leaves in state_dir: each feed's input digest and files, the assets copied, and the build stamp.

The stamp lets ``syndicator build`` see, from file states alone, that nothing
changed since the last complete build: same settings and version, same post
files (path, size, mtime, inode), same ledger, the same record of feeds with
every one of their files on disk as written, and no scheduled post come due.
Light on purpose: it imports nothing that renders.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicator.config import Settings
from syndicator.core.assets import site_image_files
from syndicator.core.urls import OPML
from syndicator.digest import digest
from syndicator.problem import LoadProblem
from syndicator.store.files import FileState
from syndicator.store.files import Replaced
from syndicator.store.files import file_state
from syndicator.store.files import state_of
from syndicator.store.files import write_atomic
from syndicator.store.sources import asset_states
from syndicator.store.sources import scan
from syndicator.store.sources import states_digest
from syndicator.store.state import DAMAGED
from syndicator.store.state import LEDGER_FILE
from syndicator.store.state import LEDGER_JOURNAL_FILE
from syndicator.store.state import fingerprint
from syndicator.store.state import read_cache
from syndicator.store.state import read_state

FEEDS_STATE_FILE = "feeds.json"
ASSETS_STATE_FILE = "assets.json"
STAMP_FILE = "build.json"
STAMP_VERSION = 4


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """What was last written for one feed: the digest of its inputs and each file's (size, mtime_ns)."""

    digest: str
    files: dict[str, tuple[int, int, str]]  # path -> (size, mtime_ns, etag)


def parse_records(data: bytes) -> dict[str, FeedRecord]:
    """The feed records of a feeds.json file (state.DAMAGED when it is not one)."""
    document = json.loads(data)
    return {
        stem: FeedRecord(str(entry["digest"]), {p: (int(a), int(b), str(c)) for p, (a, b, c) in entry["files"].items()})
        for stem, entry in document.items()
    }


def read_records(path: Path) -> dict[str, FeedRecord]:
    """The feed records in feeds.json; none when it is missing (StateError: damaged)."""
    return read_state(path, parse_records, {})


class RecordsFile:
    """feeds.json: one member per feed. A record that did not change reuses its JSON from the last write."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.state_dir / FEEDS_STATE_FILE
        self._fragments: dict[str, tuple[FeedRecord, str]] = {}  # stem -> (record, its JSON)

    def read(self) -> dict[str, FeedRecord]:
        return read_records(self.path)

    def dump(self, records: dict[str, FeedRecord]) -> bytes:
        members = []
        for stem, record in records.items():
            known = self._fragments.get(stem)
            if known is None or known[0] is not record:
                text = json.dumps(stem) + ":" + json.dumps({"digest": record.digest, "files": record.files})
                known = self._fragments[stem] = (record, text)
            members.append(known[1])
        return ("{" + ",".join(members) + "}").encode("utf-8")

    def write(self, records: dict[str, FeedRecord], replaced: Replaced | None = None) -> None:
        write_atomic(self.path, self.dump(records), replaced=replaced)


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """An asset as last copied into output_dir: its source's file state, the copy's size and mtime, its ETag."""

    source: FileState
    size: int
    mtime_ns: int
    etag: str


def read_asset_records(settings: Settings) -> dict[str, AssetRecord]:
    """The assets the builds copied (path under output_dir -> record); none when missing (StateError: damaged)."""
    return read_state(settings.state_dir / ASSETS_STATE_FILE, _asset_records, {})


def _asset_records(data: bytes) -> dict[str, AssetRecord]:
    return {
        path: AssetRecord((int(a), int(b), int(c)), int(size), int(mtime), str(etag))
        for path, (a, b, c, size, mtime, etag) in json.loads(data).items()
    }


def write_asset_records(settings: Settings, records: dict[str, AssetRecord]) -> None:
    document = {path: [*r.source, r.size, r.mtime_ns, r.etag] for path, r in sorted(records.items())}
    write_atomic(settings.state_dir / ASSETS_STATE_FILE, json.dumps(document, ensure_ascii=False).encode("utf-8"))


def _assets_intact(settings: Settings) -> bool:
    """Whether every asset copied is on disk as it was written."""
    prefix = f"{settings.output_dir}/"
    return all(
        (state := state_of(prefix + path)) is not None and state[:2] == (record.size, record.mtime_ns)
        for path, record in read_asset_records(settings).items()
    )


@dataclass(frozen=True, slots=True)
class Stamp:
    """The summary a complete build reported, for a later run that finds nothing changed."""

    feeds: int
    posts: int
    categories: int
    problems: tuple[LoadProblem, ...]


def _file_state(path: Path) -> list[int] | None:
    """A file's state as the stamp holds it (a JSON list), or None when it is missing."""
    state = state_of(path)
    return list(state) if state is not None else None


DiskStates = Mapping[str, tuple[int, int] | None]  # path under output_dir -> (size, mtime_ns), None: missing


def disk_states(out_dir: Path, records: Iterable[FeedRecord]) -> DiskStates:
    """(size, mtime_ns) on disk of every file the records name (None: missing)."""
    prefix = f"{out_dir}/"
    states: dict[str, tuple[int, int] | None] = {}
    for record in records:
        for path in record.files:
            state = state_of(prefix + path)
            states[path] = state[:2] if state is not None else None
    return states


def intact(record: FeedRecord, disk: DiskStates) -> bool:
    """Whether a feed's files are on disk as they were written (nobody deleted or changed them)."""
    return all(disk.get(path) == (size, mtime_ns) for path, (size, mtime_ns, _etag) in record.files.items())


def stamp_document(
    settings: Settings, sources: Iterable[tuple[str, FileState]], next_publish_at: datetime | None, stamp: Stamp
) -> bytes:
    """The stamp file of a build that just completed (call it after feeds.json and the ledger are written)."""
    state_dir = settings.state_dir
    feeds_state = state_dir / FEEDS_STATE_FILE
    document = {
        "version": STAMP_VERSION,
        "settings": fingerprint(settings),
        "sources": states_digest(sources),
        "ledger": _file_state(state_dir / LEDGER_FILE),
        "feeds_state": digest(feeds_state.read_bytes()) if feeds_state.exists() else None,
        "assets_state": _file_state(state_dir / ASSETS_STATE_FILE),
        "index": _file_state(settings.output_dir / OPML),
        "next_publish_at": next_publish_at.isoformat() if next_publish_at is not None else None,
        "summary": {
            "feeds": stamp.feeds,
            "posts": stamp.posts,
            "categories": stamp.categories,
            "problems": [[p.path, p.line, p.message, p.fatal, p.private] for p in stamp.problems],
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def _sources_digest(settings: Settings) -> str:
    """The digest of every post file's and asset's path and state, as the builder's post cache sees them."""
    assets: list[os.DirEntry[str]] = []
    files = scan(str(settings.posts_dir), None, assets)
    states = [(path, file_state(os.stat(path))) for path in files]
    for value in site_image_files(settings).values():  # the site's images kept outside posts_dir
        with contextlib.suppress(OSError):
            full = os.path.realpath(value)
            states.append((full, file_state(os.stat(full))))
    return states_digest(states + asset_states(str(settings.posts_dir), assets))


def unchanged_since_stamp(settings: Settings, now: datetime) -> Stamp | None:
    """The last build's summary when nothing it depends on changed since; otherwise None."""
    document = read_cache(settings.state_dir / STAMP_FILE, json.loads)
    if not isinstance(document, dict) or document.get("version") != STAMP_VERSION:
        return None
    try:
        if not _still_valid(settings, document, now):
            return None
        summary = document["summary"]
        problems = tuple(
            LoadProblem(str(p), int(n), str(m), bool(f), bool(private)) for p, n, m, f, private in summary["problems"]
        )
        return Stamp(int(summary["feeds"]), int(summary["posts"]), int(summary["categories"]), problems)
    except (OSError, *DAMAGED):
        return None


def _still_valid(settings: Settings, document: dict[str, Any], now: datetime) -> bool:
    """Whether what a stamp recorded is as it was: settings, schedule, state files, sources, every file written."""
    state_dir = settings.state_dir
    feeds_state = (state_dir / FEEDS_STATE_FILE).read_bytes()
    if document["settings"] != fingerprint(settings):
        return False
    due = document["next_publish_at"]
    if due is not None and datetime.fromisoformat(due) <= now:
        return False
    recorded = (document["ledger"], document["index"], document["assets_state"])
    if (state_dir / LEDGER_JOURNAL_FILE).exists():  # a server's reload, or a crash, left the ledger file behind
        return False
    if recorded != (
        _file_state(state_dir / LEDGER_FILE),
        _file_state(settings.output_dir / OPML),
        _file_state(state_dir / ASSETS_STATE_FILE),
    ):
        return False
    if document["feeds_state"] != digest(feeds_state) or document["sources"] != _sources_digest(settings):
        return False
    records = parse_records(feeds_state).values()
    disk = disk_states(settings.output_dir, records)
    return all(intact(record, disk) for record in records) and _assets_intact(settings)


def write_stamp(
    settings: Settings, sources: Iterable[tuple[str, FileState]], next_publish_at: datetime | None, stamp: Stamp
) -> None:
    """Write the stamp of a build that just completed (after feeds.json and the ledger)."""
    write_atomic(settings.state_dir / STAMP_FILE, stamp_document(settings, sources, next_publish_at, stamp))
