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

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
RELOAD_JOB = "reload"
NEXT_POST_JOB = "next-post"


def run_reload(builder: Builder, clock: Clock, scheduler: BackgroundScheduler | None = None) -> None:
    """Reload once; on any failure keep serving the last good snapshot and say why in /healthz."""
    try:
        report = builder.reload(clock())
    except Exception as exc:
        logger.exception("reload failed")
        builder.last_error = f"{type(exc).__name__}: {exc}"
        return
    if scheduler is not None and report.next_publish_at is not None:
        schedule_next_post(scheduler, builder, clock, report.next_publish_at)


def schedule_next_post(scheduler: BackgroundScheduler, builder: Builder, clock: Clock, when: datetime) -> None:
    """(Re)place the one-off reload at the time the next future post is due."""
    job = scheduler.get_job(NEXT_POST_JOB)
    if job is not None and job.next_run_time == when:
        return
    scheduler.add_job(
        run_reload,
        "date",
        run_date=when,
        args=(builder, clock, scheduler),
        id=NEXT_POST_JOB,
        replace_existing=True,
        misfire_grace_time=None,
    )
    logger.info("next post due at=%s", when.isoformat())


def start_scheduler(builder: Builder, settings: Settings, clock: Clock) -> BackgroundScheduler:
    """Start the background reloads (one run at a time, missed runs coalesced)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        run_reload,
        "interval",
        seconds=settings.reload_interval,
        args=(builder, clock, scheduler),
        id=RELOAD_JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    snapshot = builder.snapshot
    if snapshot is not None and snapshot.report.next_publish_at is not None:
        schedule_next_post(scheduler, builder, clock, snapshot.report.next_publish_at)
    return scheduler
