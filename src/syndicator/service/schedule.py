"""Reload the posts on a schedule: every reload_interval, when the next future post is due, and (with a
watcher) moments after a post file changes.

One BackgroundScheduler per process, started by ``syndicator serve`` and ``syndicator build --watch``.
The interval reload looks at every post file; a reload on change looks only at
the files the watcher saw change.
"""

from __future__ import annotations

import functools
import gc
import logging
import signal
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import topic_path
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.service.cdn import Purger
from syndicator.service.handoff import Listener
from syndicator.service.hub import Hub
from syndicator.service.snapshot import BuildReport
from syndicator.service.watch import CHANGE_QUIET
from syndicator.service.watch import PostWatcher
from syndicator.store.keeper import StateWriteError

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
RELOAD_JOB = "reload"
NEXT_POST_JOB = "next-post"
DELIVERY_JOB = "websub-deliveries"
DELIVERY_INTERVAL = 2  # seconds between looks for due (retried) WebSub deliveries
CHANGE_JOB = "reload-on-change"
FOLLOWED_KEPT = 4  # reports remembered as followed: one answered again after a newer one is not followed twice
FIRST_LOAD_JOB = "first-load"


class Reloads:
    """A builder's reloads on one scheduler, timed by the clock given, and the hub's deliveries beside them.

    A reload runs every reload_interval (looking at every post file), at the
    time the next future post is due, and, with a watcher, moments after a file
    event (looking only at the files it saw change). The scheduler is started
    by ``start``; a reload run directly (``run``) places no job until then.
    """

    def __init__(
        self, builder: Builder, clock: Clock, hub: Hub | None = None, watcher: PostWatcher | None = None
    ) -> None:
        self.builder = builder
        self.clock = clock
        self.hub = hub
        self.watcher = watcher
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.handoff = Listener(builder.settings.state_dir, self.reload, self.follow)  # `syndicator build` meanwhile
        self._followed: deque[BuildReport] = deque(maxlen=FOLLOWED_KEPT)  # the reports ``follow`` last saw through
        self._following = threading.Lock()

    def run(self, *, only_changes: bool = False) -> BuildReport | ReloadError:
        """Reload once, then do what follows it (``reload``, then ``follow``); say what the reload did."""
        report = self.reload(only_changes=only_changes)
        self.follow(report)
        return report

    def reload(self, *, only_changes: bool = False) -> BuildReport | ReloadError:
        """Reload once, and say what it did; a failed reload keeps the last good snapshot (the builder says why in
        /healthz).

        With ``only_changes``, only the files the watcher saw change are looked
        at (none: the last reload's report, nothing done); otherwise every post file is.
        """
        watcher = self.watcher
        changed = watcher.take() if watcher is not None else None  # taken first: later events wait for the next run
        last = self.builder.snapshot
        if only_changes and changed == set() and last is not None and not last.starting and not self.builder.last_error:
            return last.report  # a reload since took the changes (``syndicator build``, say): nothing to look at
        report = self.builder.reload(self.clock(), changed=changed if only_changes else None, settle=False)
        if isinstance(report, ReloadError) and watcher is not None:
            watcher.look_at_everything()
        return report

    def follow(self, report: BuildReport | ReloadError) -> None:
        """What follows a reload (a build handed over has its answer first): its state settled, feeds whose
        bytes changed queued for WebSub delivery, the next post's reload placed, the listeners told, a change seen
        meanwhile looked at.

        Then what the reload made is collected and frozen: the snapshot lives on, out of the full collections.
        """
        _settle(self.builder)
        with self._following:  # a reload on change finding nothing answers the last report, followed already or
            if isinstance(report, ReloadError) or any(report is seen for seen in self._followed):  # being followed
                return
            self._followed.append(report)
        self.handoff.keep()  # its socket again, when state_dir went under the builder (the reload took its locks)
        watcher, hub = self.watcher, self.hub
        if hub is not None:
            topics = report.changed_topics(self.builder.settings)
            if topics and hub.publish(topics):
                self.deliver()
        if self.scheduler.running and report.next_publish_at is not None:
            self.at_next_post(report.next_publish_at)
        snapshot = self.builder.snapshot
        if snapshot is not None:
            for listener in self.builder.listeners:  # the fediverse: what the reload published, for the followers
                listener(snapshot)
        if watcher is not None and self.scheduler.running and watcher.waiting():
            self.after_change()  # changes seen during this run: the reload they asked for was skipped if it came due
        gc.collect(1)
        gc.freeze()  # tens of ms of every full collection at 10,000 posts

    def deliver(self) -> None:
        """Start the WebSub deliveries that are due (each runs on the hub's own worker threads), once loaded."""
        if self.hub is not None and _loaded(self.builder):
            self.hub.deliver_due(functools.partial(_feed_of, self.builder))

    def at_next_post(self, when: datetime) -> None:
        """(Re)place the one-off reload at the time the next future post is due."""
        job = self.scheduler.get_job(NEXT_POST_JOB)
        if job is not None and job.next_run_time == when:
            return
        self.scheduler.add_job(
            self.run, "date", run_date=when, id=NEXT_POST_JOB, replace_existing=True, misfire_grace_time=None
        )
        logger.info("next post due at=%s", when.isoformat())

    def after_change(self, quiet: float = CHANGE_QUIET) -> None:
        """(Re)place the one-off reload that follows file events, ``quiet`` seconds after the latest one."""
        self.scheduler.add_job(
            self.run,
            "date",
            run_date=self.clock() + timedelta(seconds=quiet),
            kwargs={"only_changes": True},
            id=CHANGE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _load_first(self) -> None:
        """The first load of a server that already answers; its parsed posts are kept for the next start."""
        self.run()
        if self.builder.last_error is None:
            _keep_cache(self.builder)

    def start(self, *, first_load: bool = False) -> None:
        """Start the background reloads (one run at a time, missed runs coalesced) and WebSub deliveries.

        ``first_load`` runs the first load at once, in the background.
        """
        scheduler = self.scheduler
        if first_load:
            scheduler.add_job(self._load_first, "date", id=FIRST_LOAD_JOB, misfire_grace_time=None)
        if self.hub is not None:
            scheduler.add_job(
                self.deliver,
                "interval",
                seconds=DELIVERY_INTERVAL,
                id=DELIVERY_JOB,
                max_instances=1,
                coalesce=True,
            )
        scheduler.add_job(
            self.run,
            "interval",
            seconds=self.builder.settings.reload_interval,
            id=RELOAD_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self.handoff.start()
        if self.watcher is not None:
            self.watcher.on_change = self.after_change
            if self.watcher.pending():
                self.after_change()
        snapshot = self.builder.snapshot
        if snapshot is not None and snapshot.report.next_publish_at is not None:
            self.at_next_post(snapshot.report.next_publish_at)

    def stop(self, *, wait: bool = True) -> None:
        """Stop the builds handed over, the scheduler, and the reload that runs, at its next step (``wait``: for it).

        The process is ending: a long first load is not finished first (the next start does it).
        """
        self.handoff.stop()
        self.builder.stopping.set()
        self.scheduler.shutdown(wait=wait)


def _keep_cache(builder: Builder) -> None:
    """Keep the parsed posts for the next start; when they cannot be (a full disk), the next start parses them."""
    try:
        builder.save_cache()
    except OSError as exc:
        logger.warning("post cache not written path=%s reason=%s", builder.settings.state_dir, exc)


def _settle(builder: Builder) -> None:
    """Settle what a reload left for after its answer; when it cannot be (a full disk), the ledger's journal keeps
    what the ledger file lacks, and the next reload settles again."""
    try:
        builder.state.settle()
    except StateWriteError as exc:
        logger.warning("state not settled reason=%s", exc)


def _loaded(builder: Builder) -> bool:
    """Whether a load is done. Before it, the feeds served are the files the last run left (no bytes in memory): a
    delivery started then would find no feed and be dropped, so those the last run left pending wait for it."""
    snapshot = builder.snapshot
    return snapshot is not None and not snapshot.starting


def _feed_of(builder: Builder, topic: str) -> tuple[bytes, str] | None:
    """The current bytes and media type of a topic (one of our feed URLs)."""
    snapshot = builder.snapshot
    path = topic_path(builder.settings, topic)
    feed_file = snapshot.files.get(FEEDS_PREFIX + path) if snapshot is not None and path is not None else None
    if feed_file is None or feed_file.body is None:
        return None
    return feed_file.body, feed_file.media_type


def watch_forever(builder: Builder, clock: Clock) -> None:
    """Run only the schedule: feeds/ stays current for nginx, a CDN or any number of servers."""
    settings = builder.settings
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    hub = Hub(settings) if settings.websub_hub else None  # without HTTP, only an external hub can be told
    purger = Purger(settings) if settings.cdn_purge_url else None
    if purger is not None:
        builder.listeners.append(purger.after_reload)
        purger.start()
    watcher = PostWatcher(settings.posts_dir)
    watcher.start()  # its first answer is "everything": what changed since the build is picked up at once
    reloads = Reloads(builder, clock, hub, watcher)
    reloads.start()
    logger.info("watching posts_dir=%s reload_interval=%ds", settings.posts_dir, settings.reload_interval)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        reloads.stop()
        watcher.stop()
        if purger is not None:
            purger.stop()
