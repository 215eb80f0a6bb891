"""Reload the posts on a schedule: every reload_interval, when the next future post is due, and (with a
watcher) moments after a post file changes.

One BackgroundScheduler per process, started by ``syndicator serve`` and ``syndicator build --watch``.
The interval reload looks at every post file; a reload on change looks only at
the files the watcher saw change.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from syndicator.config import Settings
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import file_url
from syndicator.core.urls import topic_path
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.service.hub import Hub
from syndicator.service.watch import CHANGE_QUIET
from syndicator.service.watch import PostWatcher

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
RELOAD_JOB = "reload"
NEXT_POST_JOB = "next-post"
DELIVERY_JOB = "websub-deliveries"
DELIVERY_INTERVAL = 2  # seconds between looks for due (retried) WebSub deliveries
CHANGE_JOB = "reload-on-change"
FIRST_LOAD_JOB = "first-load"


def run_reload(
    builder: Builder,
    clock: Clock,
    scheduler: BackgroundScheduler | None = None,
    hub: Hub | None = None,
    watcher: PostWatcher | None = None,
    *,
    only_changes: bool = False,
) -> None:
    """Reload once; a failed reload keeps the last good snapshot (the builder says why in /healthz).

    With ``only_changes``, only the files the watcher saw change are looked at;
    otherwise every post file is. Feeds whose bytes changed are queued for
    WebSub delivery (sent by the delivery job).
    """
    changed = watcher.take() if watcher is not None else None  # taken first: later events wait for the next run
    report = builder.reload(clock(), changed=changed if only_changes else None)
    if isinstance(report, ReloadError):
        if watcher is not None:
            watcher.look_at_everything()
        return
    if hub is not None:
        topics = [file_url(builder.settings, path) for path in report.written if path in report.topics]
        if topics and hub.publish(topics):
            deliver(builder, hub)
    if scheduler is not None and report.next_publish_at is not None:
        schedule_next_post(scheduler, builder, clock, report.next_publish_at, hub)
    snapshot = builder.snapshot
    if snapshot is not None:
        for listener in builder.listeners:  # the fediverse: what the reload published, for the followers
            listener(snapshot)


def feed_of(builder: Builder, topic: str) -> tuple[bytes, str] | None:
    """The current bytes and media type of a topic (one of our feed URLs)."""
    snapshot = builder.snapshot
    path = topic_path(builder.settings, topic)
    feed_file = snapshot.files.get(FEEDS_PREFIX + path) if snapshot is not None and path is not None else None
    if feed_file is None or feed_file.body is None:
        return None
    return feed_file.body, feed_file.media_type


def deliver(builder: Builder, hub: Hub) -> None:
    """Start the WebSub deliveries that are due (each runs on the hub's own worker threads)."""
    hub.deliver_due(lambda topic: feed_of(builder, topic))


def schedule_next_post(
    scheduler: BackgroundScheduler, builder: Builder, clock: Clock, when: datetime, hub: Hub | None = None
) -> None:
    """(Re)place the one-off reload at the time the next future post is due."""
    job = scheduler.get_job(NEXT_POST_JOB)
    if job is not None and job.next_run_time == when:
        return
    scheduler.add_job(
        run_reload,
        "date",
        run_date=when,
        args=(builder, clock, scheduler, hub),
        id=NEXT_POST_JOB,
        replace_existing=True,
        misfire_grace_time=None,
    )
    logger.info("next post due at=%s", when.isoformat())


def reload_on_change(
    scheduler: BackgroundScheduler,
    builder: Builder,
    clock: Clock,
    hub: Hub | None,
    watcher: PostWatcher,
    quiet: float = CHANGE_QUIET,
) -> None:
    """(Re)place the one-off reload that follows file events, ``quiet`` seconds after the latest one."""
    scheduler.add_job(
        run_reload,
        "date",
        run_date=datetime.now(UTC) + timedelta(seconds=quiet),
        args=(builder, clock, scheduler, hub, watcher),
        kwargs={"only_changes": True},
        id=CHANGE_JOB,
        replace_existing=True,
        misfire_grace_time=None,
    )


def load_first(
    builder: Builder, clock: Clock, scheduler: BackgroundScheduler, hub: Hub | None, watcher: PostWatcher | None
) -> None:
    """The first load of a server that already answers; its parsed posts are kept for the next start."""
    run_reload(builder, clock, scheduler, hub, watcher)
    if builder.last_error is None:
        builder.save_cache()


def start_scheduler(
    builder: Builder,
    settings: Settings,
    clock: Clock,
    hub: Hub | None = None,
    watcher: PostWatcher | None = None,
    *,
    first_load: bool = False,
) -> BackgroundScheduler:
    """Start the background reloads (one run at a time, missed runs coalesced) and WebSub deliveries.

    With a watcher, a file event also brings a reload of the changed files,
    moments later. ``first_load`` runs the first load at once, in the background.
    """
    scheduler = BackgroundScheduler(timezone="UTC")
    if first_load:
        first = (builder, clock, scheduler, hub, watcher)
        scheduler.add_job(load_first, "date", args=first, id=FIRST_LOAD_JOB, misfire_grace_time=None)
    if hub is not None:
        scheduler.add_job(
            deliver,
            "interval",
            seconds=DELIVERY_INTERVAL,
            args=(builder, hub),
            id=DELIVERY_JOB,
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        run_reload,
        "interval",
        seconds=settings.reload_interval,
        args=(builder, clock, scheduler, hub, watcher),
        id=RELOAD_JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    if watcher is not None:
        watcher.on_change = lambda quiet: reload_on_change(scheduler, builder, clock, hub, watcher, quiet)
        if watcher.pending():
            reload_on_change(scheduler, builder, clock, hub, watcher)
    snapshot = builder.snapshot
    if snapshot is not None and snapshot.report.next_publish_at is not None:
        schedule_next_post(scheduler, builder, clock, snapshot.report.next_publish_at, hub)
    return scheduler


def watch_forever(builder: Builder, settings: Settings, clock: Clock) -> None:
    """Run only the schedule: feeds/ stays current for nginx, a CDN or any number of servers."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    hub = Hub(settings) if settings.websub_hub else None  # without HTTP, only an external hub can be told
    watcher = PostWatcher(settings.posts_dir)
    watcher.start()  # its first answer is "everything": what changed since the build is picked up at once
    scheduler = start_scheduler(builder, settings, clock, hub, watcher)
    logger.info("watching posts_dir=%s reload_interval=%ds", settings.posts_dir, settings.reload_interval)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)
        watcher.stop()
