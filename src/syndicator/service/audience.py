"""Who reads: counts of readers per feed and day, made off the request path.

A feed request only appends (when, feed, address, User-Agent) to a bounded
deque; one thread folds the events into the day's figures every few seconds
and writes them (``store.audience``): each known aggregator's reported
subscribers (the largest believable figure of the day: ``core.agents``), the distinct other clients (a
HyperLogLog of a keyed BLAKE2b hash of address and User-Agent, keyed by the
day's random salt), partner fetches, and the WebSub subscriptions the hub
holds. An nginx access log is folded the same way (``import_log``).
"""

from __future__ import annotations

import collections
import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from syndicator.config import Settings
from syndicator.core.accesslog import parse_line
from syndicator.core.agents import MAX_AGENT
from syndicator.core.agents import is_browser
from syndicator.core.agents import reported
from syndicator.core.sketch import HyperLogLog
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import is_topic
from syndicator.core.urls import topic_path
from syndicator.service.clients import MAX_ADDRESS
from syndicator.service.clients import plain_address
from syndicator.service.hub import Hub
from syndicator.store.audience import KEEP_DAYS
from syndicator.store.audience import AudienceStore
from syndicator.store.partners import PartnerStore
from syndicator.store.records import RecordsFile

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

logger = logging.getLogger(__name__)

CLIENTS, WEBSUB, PARTNER_FETCHES = "clients", "websub", "partner_fetches"  # the kinds of figure besides aggregators
BROWSERS = "browsers"  # fetches by web browsers (people looking at a feed), kept apart from the readers
# (when, feed, the client's address or None for a partner, User-Agent or partner)
Event = tuple[float, str, str | None, str]
_DAY = 86400
FLUSH_AT = 20_000  # events that make the thread write before its interval is up


def day_of(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).date().isoformat()


class Tally:
    """Events folded into figures in memory, then written in one transaction (``write``)."""

    def __init__(self, salt_of: Callable[[str], bytes]) -> None:
        self._salt_of = salt_of
        self._salts: dict[str, bytes] = {}
        self.latest: dict[tuple[str, str, str], int] = {}
        self.reports: dict[tuple[str, str, str], int] = {}  # each aggregator's largest figure of the day
        self.added: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.sketches: dict[tuple[str, str], HyperLogLog] = {}
        self.partners: dict[str, tuple[int, float]] = {}
        self._days: dict[int, str] = {}
        self._agents: dict[str, tuple[str, int] | None] = {}  # the few agents of a batch, read once each

    def _day(self, when: float) -> str:
        day = self._days.get(int(when // _DAY))
        if day is None:
            day = self._days[int(when // _DAY)] = day_of(when)
        return day

    def reader(self, feed: str, when: float, address: str, agent: str, fetches: int = 1) -> None:
        """A public fetch (or ``fetches`` alike on one day): an aggregator's report, or one client (its salted
        hash)."""
        day = self._day(when)
        if agent in self._agents:
            found = self._agents[agent]
        else:
            found = reported(agent)
            if len(self._agents) < 10_000:
                self._agents[agent] = found
        if found is not None:
            key = (feed, day, found[0])
            self.reports[key] = max(found[1], self.reports.get(key, 0))
            return
        if is_browser(agent):  # a person who opened the feed in a browser: counted apart, not a reader
            self.added[(feed, day, BROWSERS)] += fetches
            return
        salt = self._salts.get(day)
        if salt is None:
            salt = self._salts[day] = self._salt_of(day)
        text = f"{address}\n{agent[:MAX_AGENT]}".encode("utf-8", "surrogateescape")
        value = int.from_bytes(hashlib.blake2b(text, key=salt, digest_size=8).digest(), "big")
        sketch = self.sketches.get((feed, day))
        if sketch is None:
            sketch = self.sketches[(feed, day)] = HyperLogLog()
        sketch.add(value)

    def partner(self, name: str, feed: str, when: float) -> None:
        count, last = self.partners.get(name, (0, 0.0))
        self.partners[name] = (count + 1, max(last, when))
        if is_topic(feed):
            self.added[(feed, self._day(when), PARTNER_FETCHES)] += 1

    def write(self, store: AudienceStore, partners: PartnerStore | None, today: date) -> None:
        """Write the figures: sketches merged into the stored ones of the last KEEP_DAYS days."""
        oldest = (today - timedelta(days=KEEP_DAYS - 1)).isoformat()
        sketches, at_least = [], []
        for (feed, day), sketch in self.sketches.items():
            stored = store.sketch(feed, day)
            if stored is not None:
                sketch.merge(HyperLogLog.from_bytes(stored))
            if day >= oldest:
                sketches.append((feed, day, sketch.to_bytes()))
                self.latest[(feed, day, CLIENTS)] = sketch.estimate()
            else:  # an old day's log: its sketch is gone, so its clients are at least these
                at_least.append((feed, day, CLIENTS, sketch.estimate()))
        latest = [(*key, value) for key, value in self.latest.items()]
        at_least += [(*key, value) for key, value in self.reports.items()]  # never lowered by a smaller report
        added = [(*key, value) for key, value in self.added.items()]
        store.write(latest=latest, added=added, sketches=sketches, at_least=at_least)
        if partners is not None and self.partners:
            partners.record_fetches(self.partners)


class Audience:
    """The counting thread: requests hand it events, it writes them every ``interval`` seconds.

    At most ``max_events`` wait, each under 1 KiB: what a request brings is cut
    at the door (the User-Agent at MAX_AGENT characters, the address a proxy
    names at clients.MAX_ADDRESS), so 50,000 waiting events hold at most about 50 MB whatever the
    clients send; past that the oldest are dropped rather than memory grow.
    """

    def __init__(
        self,
        store: AudienceStore,
        partners: PartnerStore | None = None,
        websub: Callable[[], dict[str, int]] | None = None,
        *,
        interval: float = 5.0,
        websub_every: float = 300.0,
        max_events: int = 50_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.partners, self.websub, self.clock = store, partners, websub, clock
        self.interval, self.websub_every = interval, websub_every
        self._events: collections.deque[Event] = collections.deque(maxlen=max_events)  # full: the oldest go
        self._stop = threading.Event()
        self._flushing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._websub_at = 0.0
        self._pruned: date | None = None

    def saw(self, feed: str, environ: WSGIEnvironment) -> None:
        """A public feed was fetched (called on the request path: one append; the thread reads the rest).

        Only the first characters of the User-Agent and of a proxy's address are
        kept: a request's whole headers never wait in memory for the thread.
        """
        agent = str(environ.get("HTTP_USER_AGENT", ""))[:MAX_AGENT]
        self._events.append((self.clock(), feed, str(environ.get("REMOTE_ADDR") or "")[:MAX_ADDRESS], agent))

    def partner_fetch(self, name: str, feed: str) -> None:
        """A partner fetched one of its feeds."""
        self._events.append((self.clock(), feed, None, name))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="audience", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, writing what it holds."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.flush()
        except (sqlite3.Error, OSError) as exc:  # a full disk as the process ends: what waited is lost, and said
            logger.error("audience not written at stop lost=%d reason=%s", len(self._events), exc)

    def _run(self) -> None:
        """Flush every ``interval`` seconds, or sooner when the events pile up (they hold memory)."""
        last = time.monotonic()
        while not self._stop.wait(min(self.interval, 0.5)):
            if len(self._events) < FLUSH_AT and time.monotonic() - last < self.interval:
                continue
            last = time.monotonic()
            try:
                self.flush()
            except (sqlite3.Error, OSError) as exc:  # a full disk or a locked file: the events wait for the next round
                logger.error("audience flush failed waiting=%d reason=%s", len(self._events), exc)

    def flush(self) -> None:
        """Fold the events so far into the store (and, now and then, the hub's subscriptions)."""
        with self._flushing:
            taken = [self._events.popleft() for _ in range(len(self._events))]
            try:
                self._write(taken)
            except BaseException:  # a full disk: the events wait for the next round, before those since
                self._events.extendleft(reversed(taken))
                raise
            now = self.clock()
            today = datetime.fromtimestamp(now, UTC).date()
            if self.websub is not None and now - self._websub_at >= self.websub_every:
                self._websub_at = now
                self.store.set_websub(today.isoformat(), self.websub())
            if self._pruned != today:
                self.store.prune(today)
                self._pruned = today

    def _write(self, events: list[Event]) -> None:
        tally = Tally(self.store.salt)
        readers: collections.Counter[tuple[str, int, str, str]] = collections.Counter()
        for when, feed, address, agent in events:
            if address is None:
                tally.partner(agent, feed, when)
            else:  # a reader polls many times a day: its fetches are folded in once
                readers[(feed, int(when // _DAY), address, agent)] += 1
        for (feed, day, address, agent), fetches in readers.items():
            tally.reader(feed, day * _DAY, plain_address(address), agent, fetches)
        tally.write(self.store, self.partners, datetime.fromtimestamp(self.clock(), UTC).date())


def topic_counts(settings: Settings, hub: Hub) -> dict[str, int]:
    """The WebSub subscriptions the hub holds per feed (``all.atom``: its topics are feed URLs)."""
    counts = ((topic_path(settings, topic), n) for topic, n in hub.store.by_topic().items())
    return {path: n for path, n in counts if path is not None}


def import_log(settings: Settings, store: AudienceStore, lines: Iterable[str], today: date) -> tuple[int, int]:
    """Count the feed requests of an nginx "combined" log: (requests counted, lines skipped).

    Only GETs answered 200 or 304 of the feeds the last build wrote count.
    A line that is not in that format, or is dated after tomorrow (no log
    holds one), is skipped; the others are counted all the same. Importing a
    log again, or a day's two logs, counts no client twice (for the days
    whose sketches are kept).
    """
    topics = {path for record in RecordsFile(settings).read().values() for path in record.files if is_topic(path)}
    tally, counted, skipped = Tally(store.salt), 0, 0
    latest = datetime.combine(today + timedelta(days=2), datetime.min.time(), UTC)
    for line in lines:
        request = parse_line(line)
        if request is None or request.when >= latest:
            skipped += bool(line.strip())
            continue
        feed = request.path.removeprefix(FEEDS_PREFIX)
        if request.method == "GET" and request.status in (200, 304) and feed in topics:
            tally.reader(feed, request.when.timestamp(), request.address, request.agent)
            counted += 1
    tally.write(store, None, today)
    store.prune(today)
    return counted, skipped
