"""Reload the posts on a schedule: every reload_interval, and when the next future post is due.

One BackgroundScheduler per process, started only by ``syndicator serve``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from syndicator.build import Builder
from syndicator.config import Settings
from syndicator.hub import Hub

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
RELOAD_JOB = "reload"
NEXT_POST_JOB = "next-post"
DELIVERY_JOB = "websub-deliveries"
DELIVERY_INTERVAL = 2  # seconds between looks for due (retried) WebSub deliveries


def run_reload(
    builder: Builder, clock: Clock, scheduler: BackgroundScheduler | None = None, hub: Hub | None = None
) -> None:
    """Reload once; on any failure keep serving the last good snapshot and say why in /healthz.

    Feeds whose bytes changed are queued for WebSub delivery (sent by the delivery job).
    """
    try:
        report = builder.reload(clock())
    except Exception as exc:  # the one catch-all: a failed reload must not stop the schedule
        logger.exception("reload failed")
        builder.last_error = f"{type(exc).__name__}: {exc}"
        return
    if hub is not None:
        base = builder.settings.base_url
        topics = [f"{base}/feeds/{path}" for path in report.written if path in report.topics]
        if topics and hub.publish(topics):
            deliver(builder, hub)
    if scheduler is not None and report.next_publish_at is not None:
        schedule_next_post(scheduler, builder, clock, report.next_publish_at, hub)


def feed_of(builder: Builder, topic: str) -> tuple[bytes, str] | None:
    """The current bytes and media type of a topic (one of our feed URLs)."""
    snapshot = builder.snapshot
    path = topic.removeprefix(builder.settings.base_url)
    feed_file = snapshot.files.get(path) if snapshot is not None else None
    if feed_file is None or feed_file.on_disk:
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


def start_scheduler(builder: Builder, settings: Settings, clock: Clock, hub: Hub | None = None) -> BackgroundScheduler:
    """Start the background reloads (one run at a time, missed runs coalesced) and WebSub deliveries."""
    scheduler = BackgroundScheduler(timezone="UTC")
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
        args=(builder, clock, scheduler, hub),
        id=RELOAD_JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    snapshot = builder.snapshot
    if snapshot is not None and snapshot.report.next_publish_at is not None:
        schedule_next_post(scheduler, builder, clock, snapshot.report.next_publish_at, hub)
    return scheduler
