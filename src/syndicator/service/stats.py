"""The reader counts as people read them: a table per feed for ``syndicator stats``, charts for /stats/.

A feed's readers on a day are its distinct plain clients plus the subscribers
each aggregator reported; WebSub subscriptions and partner fetches are shown
beside them, not added in (a WebSub subscriber is usually an aggregator that
also polls, and partners are counted by name, not as readers).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import timedelta
from pathlib import Path
from typing import Any

from syndicator.config import Settings
from syndicator.core.actors import account_host
from syndicator.core.actors import stem_of
from syndicator.core.agents import AGGREGATORS
from syndicator.core.agents import display_name
from syndicator.core.chart import Series
from syndicator.core.chart import stacked_bars
from syndicator.core.mailplan import PACES
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.service.audience import BROWSERS
from syndicator.service.audience import CLIENTS
from syndicator.service.audience import PARTNER_FETCHES
from syndicator.service.audience import WEBSUB
from syndicator.service.audience import import_log
from syndicator.store.audience import AudienceStore
from syndicator.store.fediverse import Database
from syndicator.store.fediverse import FollowerStore
from syndicator.store.mailstore import MailDb
from syndicator.store.mailstore import Subscriptions

APART = (WEBSUB, PARTNER_FETCHES, BROWSERS)  # shown beside the readers, not added in
_LABELS = {
    CLIENTS: "other clients",
    WEBSUB: "WebSub subscriptions",
    PARTNER_FETCHES: "partner fetches",
    BROWSERS: "browser visits",
}


@dataclass(slots=True)
class FeedReaders:
    """One feed's figures per day (YYYY-MM-DD -> kind -> value)."""

    feed: str
    days: dict[str, dict[str, int]] = field(default_factory=dict)

    def readers(self, day: str) -> int:
        values = self.days.get(day, {})
        return sum(v for k, v in values.items() if k not in APART)

    def kinds(self) -> list[str]:
        """The parts of its readers (other clients first, then the aggregators by name), then the rest."""
        seen = {kind for values in self.days.values() for kind in values}
        parts = [CLIENTS, *sorted((k for k in seen if k in AGGREGATORS), key=display_name)]
        return parts + [k for k in APART if k in seen]

    @property
    def total(self) -> int:
        return sum(self.readers(day) for day in self.days)


def totals(feeds: list[FeedReaders], email: int | None, followers: int | None, partners: int) -> list[tuple[str, int]]:
    """The site's figures, each kind on its own: feed readers and WebSub subscriptions (each feed's latest day,
    summed over the feeds), browser visits, fediverse followers, email subscribers, partners (None: not on)."""
    figures: dict[str, int] = {"feed readers": 0, WEBSUB: 0, BROWSERS: 0}
    for feed in feeds:
        if feed.days:
            day = max(feed.days)
            figures["feed readers"] += feed.readers(day)
            figures[WEBSUB] += feed.days[day].get(WEBSUB, 0)
            figures[BROWSERS] += feed.days[day].get(BROWSERS, 0)
    shown = [(label(kind), value) for kind, value in figures.items()]
    shown += [
        (name, value)
        for name, value in (("fediverse followers", followers), ("email subscribers", email))
        if value is not None
    ]
    return [*shown, ("partners", partners)]


def stats_values(
    feeds: list[FeedReaders], email: list[tuple[str, list[int]]] | None, partners: list[Any], followers: int | None
) -> dict[str, Any]:
    """What stats.html is given beside the charts: the totals, the email rows, the partners, the helpers."""
    working = sum(1 for partner in partners if not partner.revoked)
    subscribed = sum(sum(numbers) for _feed, numbers in email) if email is not None else None
    return {
        "totals": totals(feeds, subscribed, followers, working),
        "email": email,
        "partners": partners,
        "label": label,
    }


def label(kind: str) -> str:
    return _LABELS.get(kind, display_name(kind))


def window(today: date, days: int) -> list[str]:
    """The days shown, oldest first, ending today."""
    return [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def collect(store: AudienceStore, today: date, days: int) -> list[FeedReaders]:
    """Every feed with a figure in the last ``days`` days, most read first."""
    feeds: dict[str, FeedReaders] = {}
    for feed, day, kind, value in store.counts(window(today, days)[0]):
        feeds.setdefault(feed, FeedReaders(feed)).days.setdefault(day, {})[kind] = value
    return sorted(feeds.values(), key=lambda f: (-f.total, f.feed))


def text_tables(feeds: list[FeedReaders]) -> list[str]:
    """``syndicator stats``: per feed, a line per day with its total of readers, then its parts."""
    lines: list[str] = []
    for feed in feeds:
        kinds = feed.kinds()
        heads = ["day", "readers", *(label(k) for k in kinds)]
        widths = [max(10, len(h)) for h in heads]
        lines += [
            "",
            f"{FEEDS_PREFIX}{feed.feed}",
            "  " + "  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)),
        ]
        for day in sorted(feed.days):
            values = feed.days[day]
            cells = [day, str(feed.readers(day)), *(str(values.get(k, 0)) for k in kinds)]
            lines.append("  " + "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    return lines[1:]


def feed_chart(feed: FeedReaders, days: list[str]) -> str:
    """A feed's readers per day as stacked bars: other clients and each aggregator."""
    parts = [k for k in feed.kinds() if k not in APART]
    series = [Series(label(k), tuple(feed.days.get(d, {}).get(k, 0) for d in days)) for k in parts]
    return stacked_bars(f"Readers of {FEEDS_PREFIX}{feed.feed} per day", days, series)


def partner_chart(feeds: list[FeedReaders], days: list[str]) -> str:
    """All partner fetches per day."""
    values = tuple(sum(f.days.get(d, {}).get(PARTNER_FETCHES, 0) for f in feeds) for d in days)
    return stacked_bars("Partner fetches per day", days, [Series("partner fetches", values)])


def email_counts(settings: Settings) -> dict[str, dict[str, int]]:
    """Email subscribers per feed and pace, as state_dir holds them (none: no database)."""
    if not MailDb.exists(settings.state_dir):
        return {}
    mail = MailDb(settings.state_dir)
    try:
        return Subscriptions(mail).counts()
    finally:
        mail.close()


def email_export(settings: Settings) -> str:
    """Every confirmed subscription as CSV (address, feed, pace, confirmed): ``syndicator subscribers --export``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("address", "feed", "pace", "confirmed"))
    if MailDb.exists(settings.state_dir):
        mail = MailDb(settings.state_dir)
        try:
            rows = Subscriptions(mail).export()
        finally:
            mail.close()
        writer.writerows((address, feed, pace, when.isoformat()) for address, feed, pace, when in rows)
    return out.getvalue()


def email_rows(counts: dict[str, dict[str, int]]) -> list[tuple[str, list[int]]]:
    """Each feed with its subscribers per pace (instant, daily, weekly), most followed first."""
    rows = [(feed, [paces.get(pace, 0) for pace in PACES]) for feed, paces in counts.items()]
    return sorted(rows, key=lambda row: (-sum(row[1]), row[0]))


def email_table(counts: dict[str, dict[str, int]]) -> list[str]:
    """``syndicator subscribers`` and ``stats``: email subscribers per feed and pace, and their total."""
    rows = [["feed", *PACES, "total"]]
    rows += [[feed, *map(str, numbers), str(sum(numbers))] for feed, numbers in email_rows(counts)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])
        for row in rows
    ]


def stats_lines(settings: Settings, today: date, days: int, log: Path | None = None) -> list[str]:
    """``syndicator stats [--import-log LOG]``: what the log added, then the tables of the last ``days`` days."""
    store = AudienceStore(settings.state_dir)
    lines = []
    try:
        if log is not None:
            with log.open(encoding="utf-8", errors="replace") as log_lines:
                counted, skipped = import_log(settings, store, log_lines, today)
            lines.append(
                f"{log}: {counted} feed requests counted, {skipped} lines skipped"
                " (not in nginx's combined format, or dated where no log can be)"
            )
        lines += text_tables(collect(store, today, days)) or [f"no readers counted in the last {days} days"]
        counts = email_counts(settings)
        lines += ["", "Email subscribers", *email_table(counts)] if counts else []
        return lines + fediverse_lines(settings)
    finally:
        store.close()


def fediverse_lines(settings: Settings) -> list[str]:
    """Each account's fediverse followers (now), beside the feeds it publishes; nothing when the fediverse is off."""
    if not settings.fediverse:
        return []
    database = Database(settings.state_dir)
    try:
        counts = FollowerStore(database).by_handle()
    finally:
        database.close()
    lines = ["", "fediverse followers (now)", "  account  feeds  followers"]
    for handle, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        stem = stem_of(settings, handle) or "?"
        lines.append(f"  @{handle}@{account_host(settings)}  {FEEDS_PREFIX}{stem}  {count}")
    return lines if counts else [*lines[:2], "  nobody follows an account yet"]
