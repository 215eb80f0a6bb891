"""The server: granian with one worker process, which holds the builder, the scheduler and the app.

Started by ``syndicator serve``.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.util
import os
import resource
import socket
from collections.abc import Callable
from typing import Any

from granian.constants import HTTPModes
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server import Server

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.incremental.forked import end_with
from syndicator.service.audience import Audience
from syndicator.service.audience import topic_counts
from syndicator.service.build import Builder
from syndicator.service.cdn import Purger
from syndicator.service.federation import Federation
from syndicator.service.following import Following
from syndicator.service.http.app import create_app
from syndicator.service.http.app import slot_threads
from syndicator.service.hub import Hub
from syndicator.service.hubstore import HubStore
from syndicator.service.schedule import Clock
from syndicator.service.schedule import Reloads
from syndicator.service.watch import PostWatcher
from syndicator.store.audience import AudienceStore
from syndicator.store.fediverse import Database as FediverseDb
from syndicator.store.mailstore import MailDb
from syndicator.store.mailstore import mail_secret
from syndicator.store.partners import PartnerStore

logger = logging.getLogger(__name__)

HEADER_READ_TIMEOUT_MS = 10_000  # a request's headers (or the next request on a kept-alive connection)
MAX_CONNECTIONS = 4096  # open connections granian serves at once (its "backpressure")
BACKLOG = 4096  # connections the kernel holds before granian takes them (capped by net.core.somaxconn)


class AddressInUseError(Exception):
    """The address serve was asked to listen on is taken by another process."""


def refuse_taken(host: str, port: int) -> None:
    """Raise AddressInUseError when another process listens on host:port (even with SO_REUSEPORT, as granian does).

    granian binds with SO_REUSEPORT, so a second server on the same port would
    share it silently; this bind, without it, fails when anything listens there.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections of an earlier run still closing
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise AddressInUseError(
                f"cannot listen on {host}:{port}: {exc.strerror} (another server runs there?)"
            ) from None


def serve_http(settings: Settings, host: str, port: int, threads: int, clock: Clock, *, adopted: bool = False) -> None:
    """Run granian with one worker process, which holds the builder, the scheduler and the app.

    One worker keeps one scheduler (and one writer of output_dir) per deployment;
    granian's HTTP stack is native code, so that one process still answers tens
    of thousands of feed requests a second (see bench/run.py). A worker that
    dies is started again. Slow clients hold nothing for long: headers must
    arrive within HEADER_READ_TIMEOUT_MS, HTTP/1 only (HTTP/2 detection waits
    for a first byte with no timeout), room for MAX_CONNECTIONS connections,
    and the bodies of POST /websub, inbox and /subscribe requests are read on threads of their own
    (``app.slot_threads``): ``threads`` answer everything else, which is in memory, so a few are enough and
    more would only wait for each other (one Python runs at a time). ``adopted``: output_dir was
    another state_dir's, and what it published is read back before the first load writes.
    """
    multiprocessing.set_start_method("fork", force=True)  # the worker inherits load_app, the settings, the builder
    builder = Builder(settings)  # here, not in the worker: a damaged state file stops serve
    if adopted:
        builder.state.adopt()
    for store in (HubStore(settings.state_dir), PartnerStore(settings.state_dir), AudienceStore(settings.state_dir)):
        store.close()  # so are the databases: each opened once here, and closed before the worker is forked
    if settings.smtp_url:  # and following by email's database and key
        mail_secret(settings.state_dir)
        MailDb(settings.state_dir).close()
    if settings.fediverse:  # and the fediverse's
        FediverseDb(settings.state_dir).close()
    _raise_file_limit(MAX_CONNECTIONS + 1024)  # the connections, plus post files, databases and callbacks
    server = Server(
        "syndicator",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=threads + slot_threads(settings),
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        backlog=BACKLOG,
        backpressure=MAX_CONNECTIONS,
        respawn_failed_workers=True,
        log_access=False,
        websockets=False,
    )
    logging.getLogger("_granian").addFilter(_known_thread_count)
    master = os.getpid()
    server.serve(target_loader=lambda _target: _load_app(settings, builder, host, port, clock, master))


def _known_thread_count(record: logging.LogRecord) -> bool:
    """Leave out granian's warning that there are more Python threads than twice the cores: they are meant.

    Most of them wait, not compute: the WebSub and inbox slots hold slow request bodies and remote key fetches
    apart from the threads that answer feeds, which is what keeps those answered (``app.slot_threads``).
    """
    return "Python threads, which seems quite high" not in record.getMessage()


def _raise_file_limit(wanted: int) -> None:
    """Allow this many open files, when the hard limit does (at a soft limit of 1024, accepting would stop first)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _load_app(
    settings: Settings, builder: Builder, host: str, port: int, clock: Clock, master: int
) -> Callable[..., Any]:
    """The worker process's app, answering at once (runs in the worker, which ends with granian's ``master``).

    The feeds an earlier run left in output_dir are served from the first
    moment; the first load runs on the scheduler, and its Snapshot replaces
    them when it is done (``/healthz`` says "starting" until then).
    """
    end_with(master)  # granian forks its workers from its main thread, which lives as long as it
    builder.serve_stored(clock())  # a lost ledger is the first load's error: /healthz and the log say it
    hub = Hub(settings)
    _at_exit(hub.stop)
    federation = Federation(settings) if settings.fediverse else None
    if federation is not None:
        builder.listeners.append(federation.after_reload)
        federation.start()
        _at_exit(federation.close)
    if settings.cdn_purge_url:  # before the first load too: it purges what the edge kept from before
        purger = Purger(settings)
        builder.listeners.append(purger.after_reload)
        purger.start()
        _at_exit(purger.stop)
    watcher = PostWatcher(settings.posts_dir)
    watcher.start()  # before the first load: an edit made during it is seen
    following = _following(settings, builder, clock)  # before the first load too: it is told of every reload
    reloads = Reloads(builder, clock, hub, watcher)
    reloads.start(first_load=True)
    _at_exit(lambda: reloads.stop(wait=False))  # no job started while the worker ends; a running reload gives up
    partners = PartnerStore(settings.state_dir)
    audience = Audience(AudienceStore(settings.state_dir), partners, lambda: topic_counts(settings, hub))
    audience.start()
    _at_exit(audience.stop)
    logger.info("serving url=http://%s:%d/ posts_dir=%s hub=%s", host, port, settings.posts_dir, hub.url)
    return create_app(
        settings,
        builder,
        None if hub.external else hub,
        partners=partners,
        audience=audience,
        federation=federation,
        following=following,
    )


def _at_exit(stop: Callable[[], object]) -> None:
    """Call ``stop`` when this process ends, before its threads are joined.

    granian's worker is a multiprocessing child: it ends with ``os._exit``
    once its threads are joined, so ``atexit`` never runs there, while
    multiprocessing's own finalizers do (in the main process too, at exit).
    Later ones run first.
    """
    multiprocessing.util.Finalize(None, stop, exitpriority=10)


def _following(settings: Settings, builder: Builder, clock: Clock) -> Following | None:
    """With smtp_url: following by email, told of every reload, its sending worker started."""
    if not settings.smtp_url:
        return None

    def catalog() -> Catalog | None:
        snapshot = builder.snapshot
        return None if snapshot is None or snapshot.starting else snapshot.catalog

    following = Following(settings, catalog, clock)
    builder.listeners.append(following.published)
    following.start()
    _at_exit(following.stop)
    return following
