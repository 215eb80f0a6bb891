"""Tell the CDN what changed: after each reload that changed published bytes, one purge per changed key.

Every public representation carries its own cache key first (``core.cachekeys``):
the feed files a reload wrote or removed, the assets it copied or removed and
the pages whose bytes changed name the keys to purge. Each goes to
``cdn_purge_url`` as ``PURGE`` with ``xkey-purge`` (Varnish's xkey) and
``Surrogate-Key`` (Fastly's convention) headers, on a thread of its own, each
request within a deadline, retried with backoff, a warning when it still
fails. The first reload of a process purges ``site`` (everything): what the
edge holds may come from before it started; so does a reload that changed more
than MAX_KEYS keys. The operator chose the endpoint: a private address is fine.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterable
from collections.abc import Mapping
from urllib.parse import urlsplit

from syndicator.config import Settings
from syndicator.core.assets import MEDIA_DIR
from syndicator.core.cachekeys import INDEX
from syndicator.core.cachekeys import SITE
from syndicator.core.cachekeys import key
from syndicator.core.sitemap import is_root_file
from syndicator.core.urls import OPML
from syndicator.outbound import Resolve
from syndicator.outbound import Target
from syndicator.outbound import parse_target
from syndicator.served import Served
from syndicator.service.callbacks import send
from syndicator.service.snapshot import BuildReport
from syndicator.service.snapshot import Snapshot

logger = logging.getLogger(__name__)

MAX_KEYS = 200  # changed keys past which one purge of ``site`` is sent instead
DEADLINE = 10.0  # seconds for one purge request
TRIES = 3
BACKOFF = 1.0  # seconds before the second try, doubled for each one after


def own_key(path: str) -> str:
    """The key of a file written under output_dir: an asset's, the OPML's, or a feed's (or archive page's)."""
    if path.startswith(f"{MEDIA_DIR}/"):
        return key(path)
    if path == OPML:
        return INDEX
    return key(f"feed/{path.rsplit('.', 1)[0]}")


def changed_pages(old: Mapping[str, Served], new: Mapping[str, Served]) -> set[str]:
    """The own keys of the pages that came, went or changed bytes between two reloads."""
    if old is new:
        return set()
    keys: set[str] = set()
    for path in old.keys() | new.keys():
        before, after = old.get(path), new.get(path)
        if before is after or (before is not None and after is not None and before.etag == after.etag):
            continue
        keys.update(served.keys[0] for served in (before, after) if served is not None and served.keys)
    return keys


def changed_keys(old: Snapshot | None, new: Snapshot) -> list[str]:
    """The keys to purge after a reload (``site`` alone on the first one, or when too many changed)."""
    if old is None or old.starting:
        return [SITE]
    pages = changed_pages(old.pages.by_path, new.pages.by_path)
    return written_keys(new.report, pages)


def written_keys(report: BuildReport, more: Iterable[str] = ()) -> list[str]:
    """The keys of the files a build wrote or removed (and ``more``); ``site`` alone when there are too many. The
    site's root files carry no key (a CDN keeps them max-age, as a reader does): no purge names them."""
    changed = (path for path in (*report.written, *report.removed) if not is_root_file(path))
    keys = {own_key(path) for path in changed}.union(more)
    return [SITE] if len(keys) > MAX_KEYS else sorted(keys)


class Purger:
    """Sends the purges of each reload to ``cdn_purge_url`` on a thread of its own, keys queued in between.

    ``after_reload`` is a builder listener (told of each new Snapshot);
    ``purge`` queues keys directly (a one-off build's).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolve: Resolve = socket.getaddrinfo,
        deadline: float = DEADLINE,
        tries: int = TRIES,
        backoff: float = BACKOFF,
    ) -> None:
        self.target: Target = parse_target(settings.cdn_purge_url, "cdn_purge_url", 4096)
        self.url = settings.cdn_purge_url
        self.resolve, self.deadline, self.tries, self.backoff = resolve, deadline, tries, backoff
        self._last: Snapshot | None = None
        self._pending: dict[str, None] = {}  # keys in the order they came, each once
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def after_reload(self, snapshot: Snapshot) -> None:
        """Queue the keys a reload changed (nothing when no published byte changed)."""
        with self._wake:  # two reloads' listeners may run at once: each compares with the one before it
            last, self._last = self._last, snapshot
            if last is not None and snapshot.report.loaded_at < last.report.loaded_at:
                self._last = last  # an older reload told late: the newer one already named its changes
                return
            keys = changed_keys(last, snapshot)
        self.purge(keys)

    def purge(self, keys: Iterable[str]) -> None:
        with self._wake:
            self._pending.update(dict.fromkeys(keys))
            self._wake.notify()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cdn-purge", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 10.0) -> None:
        """Stop after the purges queued (waiting at most ``wait`` seconds)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(wait)

    def drain(self) -> None:
        """Send every queued purge now, on this thread (a one-off build, which exits next)."""
        while (keys := self._take()) is not None:
            for item in keys:
                self.send(item)

    def _take(self, block: bool = False) -> list[str] | None:
        with self._wake:
            while block and not self._pending and not self._stopping:
                self._wake.wait()
            if not self._pending:
                return None
            keys = list(self._pending)
            self._pending.clear()
            return keys

    def _run(self) -> None:
        while (keys := self._take(block=True)) is not None:
            for item in keys:
                self.send(item)

    def send(self, item: str) -> bool:
        """One key's purge, tried up to ``tries`` times; a warning when every try failed."""
        headers = {"xkey-purge": item, "Surrogate-Key": item}
        reason = ""
        for attempt in range(self.tries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            reply = send(
                self.target, "PURGE", headers=headers, allow_private=True, resolve=self.resolve, deadline=self.deadline
            )
            if 200 <= reply.status < 300:
                logger.debug("cdn purged key=%s", item)
                return True
            reason = reply.error or f"status {reply.status}"
        logger.warning("cdn purge failed key=%s url=%s tries=%d reason=%s", item, _shown(self.url), self.tries, reason)
        return False


def _shown(url: str) -> str:
    """The purge URL without any user and password it may carry."""
    split = urlsplit(url)
    return split._replace(netloc=split.hostname or "").geturl() if split.username or split.password else url
