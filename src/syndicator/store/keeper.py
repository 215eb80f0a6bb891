"""What a builder keeps in state_dir between reloads: the ledger, the feed records, its folders, the known feeds.

Read once, written when they change, always after the files they describe.
"""

from __future__ import annotations

import json

from syndicator.config import Settings
from syndicator.core.ledger import Record
from syndicator.core.ledger import entry_line as ledger_line
from syndicator.core.recovery import Recovered
from syndicator.model import LoadProblem
from syndicator.store import state
from syndicator.store.files import write_atomic
from syndicator.store.records import FeedRecord
from syndicator.store.records import RecordsFile

FEEDS_KNOWN_FILE = "feeds-known.json"  # every feed ever published, and when it went (410 Gone)


class Keeper:
    """The builder's state under state_dir.

    ``ledger`` (read by ``start``, which raises LedgerError when the published
    ids are lost), ``records`` of the feed files written, ``folders`` of
    output_dir the builds created, ``feeds`` ever published. All but the
    ledger are read at once: a damaged one is a StateError before anything runs.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.adopting = False  # output_dir was another state_dir's: what it published is read back too (adopt)
        self._records_file = RecordsFile(settings)
        self.records: dict[str, FeedRecord] = self._records_file.read()
        self.folders: set[str] = state.read_folders(settings)
        self.ledger: dict[str, Record] = {}
        self.ledger_problem: LoadProblem | None = None  # the ledger was lost or unreadable (shown once)
        self.recovered = Recovered()  # what the feeds in output_dir show was published, for the first load
        self.feeds: dict[str, str] = state.read_state(settings.state_dir / FEEDS_KNOWN_FILE, _known_feeds, {})
        self.started = False
        self._lines: dict[str, tuple[Record, bytes]] = {}  # each post's line of the ledger file as last written

    def _line(self, before: dict[str, tuple[Record, bytes]], source: str, record: Record) -> bytes:
        """The post's ledger line: the one written last time when its record is the same (an edit rewrites one)."""
        known = before.get(source)
        if known is None or (known[0] is not record and known[0] != record):
            known = (record, ledger_line(source, record))
        self._lines[source] = known
        return known[1]

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
        self._lines = {source: (self.ledger[source], line) for source, line in lines.items()}
        self.started = True

    def save(
        self, records: dict[str, FeedRecord], ledger: dict[str, Record], feeds: dict[str, str], folders: set[str]
    ) -> None:
        """Write what changed since the last save (``folders``: the set before this reload's writes)."""
        if self.folders != folders:
            state.write_folders(self.settings, self.folders)
        if records != self.records:
            self._records_file.write(records)
        if ledger != self.ledger or self.ledger_problem is not None:
            lines = self._lines
            self._lines = {}
            state.write_ledger(self.settings, ledger, lambda source, record: self._line(lines, source, record))
        if feeds != self.feeds:
            document = json.dumps(feeds, ensure_ascii=False, indent=0, sort_keys=True)
            write_atomic(self.settings.state_dir / FEEDS_KNOWN_FILE, document.encode("utf-8"))
        self.records, self.ledger, self.feeds = records, ledger, feeds
        self.ledger_problem, self.recovered = None, Recovered()


def _known_feeds(data: bytes) -> dict[str, str]:
    """Every feed ever published -> "" or when it went, from feeds-known.json."""
    document = json.loads(data)
    if not isinstance(document, dict):
        raise ValueError("not an object")
    return {str(stem): str(gone) for stem, gone in document.items()}
