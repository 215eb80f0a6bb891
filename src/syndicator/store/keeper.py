"""What a builder keeps in state_dir between reloads: the ledger, the feed records, its folders, the known feeds.

Read once, written when they change: what a reload publishes (the ledger, the
known feeds) before it writes output_dir, what it wrote there (the records, its
folders) after. A state_dir that refuses the first (a full disk) stops the
reload before any reader sees its output: output_dir never shows what the
ledger does not hold (the next reload would date it again). One that refuses
the second leaves them in memory, true of output_dir, until a save takes them.
"""

from __future__ import annotations

import itertools
import json
import operator
import threading
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from typing import cast

from syndicator.config import Settings
from syndicator.core.ledger import Record
from syndicator.core.ledgerfile import entry_line as ledger_line
from syndicator.core.ledgerfile import journal_line
from syndicator.core.recovery import Recovered
from syndicator.problem import LoadProblem
from syndicator.store import state
from syndicator.store.files import Replaced
from syndicator.store.files import remove_temps
from syndicator.store.files import write_atomic
from syndicator.store.records import FEEDS_STATE_FILE
from syndicator.store.records import FeedRecord
from syndicator.store.records import RecordsFile

FEEDS_KNOWN_FILE = "feeds-known.json"  # every feed ever published, and when it went (410 Gone)
# written by a save when they went since the last (state_dir removed under a running builder), changed or not;
# the ledger's own save writes it whole when its file is gone
_WRITTEN_BACK = (state.FOLDERS_FILE, FEEDS_STATE_FILE, FEEDS_KNOWN_FILE)
JOURNAL_MOST = 100  # posts changed in one save, past which the ledger file is written whole instead


class Keeper:
    """The builder's state under state_dir.

    ``ledger`` (read by ``start``, which raises LedgerError when the published
    ids are lost), ``records`` of the feed files written, ``folders`` of
    output_dir the builds created, ``feeds`` ever published. All but the
    ledger are read at once: a damaged one is a StateError before anything runs.

    What a server's reload need not do before its answer waits for ``settle``:
    the files its writes replaced are kept by a second name (``replaced``, the
    builder's writer's too), and a few changed posts' lines go to the ledger's
    journal (fsynced) rather than rewriting the whole file.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.replaced = Replaced()
        self._lock = threading.Lock()  # a save (in a reload) and a settle (after another's answer) take turns
        self._saved = False  # no save yet: the temp files a crash left beside these files are removed first
        self._journaled = False  # the ledger file lags behind its journal
        self._relaid = False  # the ledger file was read in another layout or version: the next save writes it whole
        self._behind = False  # the records or folders file lags behind what output_dir holds (a write refused)
        self.adopting = False  # output_dir was another state_dir's: what it published is read back too (adopt)
        self._records_file = RecordsFile(settings)
        self.records: dict[str, FeedRecord] = self._records_file.read()
        self.folders: set[str] = state.read_folders(settings)
        self.ledger: dict[str, Record] = {}
        self.ledger_problem: LoadProblem | None = None  # the ledger was lost or unreadable (shown once)
        self.settled_problem: LoadProblem | None = None  # the last save's ledger_problem: the ledger written back
        self.recovered = Recovered()  # what the feeds in output_dir show was published, for the first load
        self.feeds: dict[str, str] = state.read_state(settings.state_dir / FEEDS_KNOWN_FILE, _known_feeds, {})
        self.started = False
        # the ledger file as last written or read: its sources in order, their records and lines (None: not read)
        self._written: tuple[list[str], list[Record], Sequence[bytes | None]] = ([], [], [])

    def _ledger_lines(self, ledger: dict[str, Record]) -> list[bytes]:
        """Each post's ledger line in source order: the one written last where its record is the same.

        While the sources are the last ones (an edit), only the records that are
        not the very objects written last are looked at: no other line is made
        or compared, and the sources are not sorted again.
        """
        order, records, known = self._written
        if len(order) != len(ledger) or ledger.keys() != set(order):  # posts came or went: by source
            by_source = dict(zip(order, zip(records, known, strict=True), strict=True))
            order = sorted(ledger)
            records = [ledger[source] for source in order]
            known = [
                _line(by_source.get(source), source, record) for source, record in zip(order, records, strict=True)
            ]
        else:
            current = list(map(ledger.__getitem__, order))
            known = list(known)
            for index in itertools.compress(range(len(order)), map(operator.is_not, records, current)):
                known[index] = _line((records[index], known[index]), order[index], current[index])
            records = current
        lines = _made(order, records, known)
        self._written = (order, records, lines)
        return lines

    def adopt(self) -> None:
        """Take over an output_dir another state_dir built: the first load reads back what it published."""
        self.adopting = True

    def start(self) -> None:
        """Read the ledger (for the first load, not before serving)."""
        if self.started:
            return
        self.ledger, self.ledger_problem, self.recovered, lines = state.read_ledger(
            self.settings, adopting=self.adopting
        )
        order = sorted(self.ledger)
        self._written = (order, [self.ledger[source] for source in order], [lines.get(source) for source in order])
        self._relaid = len(lines) != len(order)
        self._journaled = (self.settings.state_dir / state.LEDGER_JOURNAL_FILE).exists()
        self.started = True

    def save_published(self, ledger: dict[str, Record], feeds: dict[str, str]) -> None:
        """Before a reload writes output_dir: what changed of what it publishes (the ledger, the known feeds).
        StateWriteError when state_dir refuses it."""
        with self._lock, _writing(self.settings):
            self._first_save()
            if ledger != self.ledger or self.ledger_problem is not None or self._relaid:
                self._save_ledger(ledger)
            self.ledger = ledger
            if feeds != self.feeds or not (self.settings.state_dir / FEEDS_KNOWN_FILE).exists():
                document = json.dumps(feeds, ensure_ascii=False, indent=0, sort_keys=True).encode("utf-8")
                write_atomic(self.settings.state_dir / FEEDS_KNOWN_FILE, document, replaced=self.replaced)
            self.feeds = feeds

    def save(self, records: dict[str, FeedRecord], folders: set[str]) -> StateWriteError | None:
        """After a reload wrote output_dir: its records of the files, and its folders (``folders``: the set before
        this reload's writes). The StateWriteError state_dir gave, if it refused them: what output_dir holds is
        kept in memory all the same (the next reload rewrites nothing that is there), and written by the next save.
        """
        with self._lock:
            last, self.records = self.records, records
            try:
                with _writing(self.settings, after=True):
                    self._first_save()
                    gone = {name for name in _WRITTEN_BACK if not (self.settings.state_dir / name).exists()}
                    if self.folders != folders or state.FOLDERS_FILE in gone or self._behind:
                        state.write_folders(self.settings, self.folders, self.replaced)
                    if records != last or FEEDS_STATE_FILE in gone or self._behind:
                        self._records_file.write(records, self.replaced)
            except StateWriteError as exc:
                self._behind = True
                return exc
            self._behind = False
            self.settled_problem, self.ledger_problem, self.recovered = self.ledger_problem, None, Recovered()
            return None

    def _first_save(self) -> None:
        """Before the first write: the temp files a crash left beside these files removed."""
        if not self._saved:
            names = {state.FOLDERS_FILE, FEEDS_STATE_FILE, state.LEDGER_FILE, FEEDS_KNOWN_FILE}
            remove_temps(self.settings.state_dir, names, self.replaced)
            self._saved = True

    def settle(self) -> None:
        """After a reload's answer: the ledger file written whole if its journal is ahead (StateWriteError when
        state_dir refuses it: the journal stays, and the next settle writes it); the replaced files freed."""
        try:
            with self._lock, _writing(self.settings, after=True):
                if self._journaled:
                    self._write_ledger(self.ledger)
        finally:
            self.replaced.release()

    def _save_ledger(self, ledger: dict[str, Record]) -> None:
        """The lines of the posts that changed appended to the journal, when they are a few and the file is whole;
        else the file written whole."""
        last = self.ledger
        changed = [source for source, record in ledger.items() if last.get(source) is not record]
        gone = sorted(last.keys() - ledger.keys())
        if self.ledger_problem is None and last and not self._relaid and len(changed) + len(gone) <= JOURNAL_MOST:
            lines = [journal_line(source, ledger[source]) for source in changed]
            if state.append_ledger(self.settings, lines + [journal_line(source, None) for source in gone]):
                self._journaled = True
                return
        self._write_ledger(ledger)  # many changed, or no ledger file to follow (lost, or removed meanwhile)

    def _write_ledger(self, ledger: dict[str, Record]) -> None:
        state.write_ledger(self.settings, self._ledger_lines(ledger), self.replaced)
        self._journaled = self._relaid = False


class StateWriteError(Exception):
    """state_dir refused a write (a full disk, a read-only mount): the reload stops, naming the folder."""


@contextmanager
def _writing(settings: Settings, *, after: bool = False) -> Iterator[None]:
    """An OSError as a StateWriteError naming state_dir, saying whether output_dir was written (``after``)."""
    try:
        yield
    except OSError as exc:
        then = "the feeds were written; the next reload writes the rest" if after else "nothing was published"
        raise StateWriteError(f"cannot write state_dir {settings.state_dir}: {exc.strerror or exc} ({then})") from exc


def _line(known: tuple[Record, bytes | None] | None, source: str, record: Record) -> bytes:
    """A post's line: as last written when its record is the same, else made."""
    if known is not None and known[1] is not None and (known[0] is record or known[0] == record):
        return known[1]
    return ledger_line(source, record)


def _made(order: list[str], records: list[Record], known: list[bytes | None]) -> list[bytes]:
    """The lines, made where none was read (only after a ledger file of another layout): else one look, no copy."""
    if None not in known:
        return cast(list[bytes], known)
    return [
        line if line is not None else ledger_line(source, record)
        for source, record, line in zip(order, records, known, strict=True)
    ]


def _known_feeds(data: bytes) -> dict[str, str]:
    """Every feed ever published -> "" or when it went, from feeds-known.json."""
    document = json.loads(data)
    if not isinstance(document, dict):
        raise ValueError("not an object")
    return {str(stem): str(gone) for stem, gone in document.items()}
