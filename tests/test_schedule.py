"""The reload schedule: interval reloads, a reload when the next post is due, failures kept out."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_MAX_INSTANCES

from support.feedcheck import wait_for
from syndicator.config import Settings
from syndicator.core.ledgerfile import loads
from syndicator.service.build import Builder
from syndicator.service.handoff import ask
from syndicator.service.schedule import CHANGE_JOB
from syndicator.service.schedule import NEXT_POST_JOB
from syndicator.service.schedule import RELOAD_JOB
from syndicator.service.schedule import Reloads
from syndicator.service.snapshot import Snapshot
from syndicator.service.watch import PostWatcher
from syndicator.store import state
from syndicator.store.state import LEDGER_FILE
from syndicator.store.state import LEDGER_JOURNAL_FILE
from syndicator.store.state import read_ledger


def utcnow() -> datetime:
    return datetime.now(UTC)


def test_a_failed_reload_keeps_the_last_snapshot(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """An exception inside a reload is logged and shown; the last good snapshot stays."""
    settings = make_settings(output_dir=tmp_path / "out")
    builder = Builder(settings)
    write_post("a.md", title="A")
    Reloads(builder, utcnow).run()
    good = builder.snapshot
    assert good is not None and builder.last_error is None
    write_post("b.md", title="B")
    (tmp_path / "out" / "all.atom").unlink()
    (tmp_path / "out" / "all.atom").mkdir()  # the next write to it fails
    Reloads(builder, utcnow).run()
    assert builder.snapshot is good
    assert builder.last_error is not None and "all.atom" in builder.last_error


def test_jobs_run_one_at_a_time_and_coalesce(settings: Settings, write_post: Callable[..., Path]) -> None:
    """The interval job is registered with max_instances=1 and coalesce."""
    write_post("a.md", title="A")
    builder = Builder(settings)
    reloads = Reloads(builder, utcnow)
    reloads.run()
    reloads.start()
    try:
        job = reloads.scheduler.get_job(RELOAD_JOB)
        assert job.max_instances == 1 and job.coalesce is True
        assert job.trigger.interval == timedelta(seconds=settings.reload_interval)
    finally:
        reloads.stop(wait=False)


def test_interval_reload_picks_up_a_new_post(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A post dropped in while running appears within reload_interval."""
    settings = make_settings(reload_interval=1)
    write_post("a.md", title="A")
    builder = Builder(settings)
    reloads = Reloads(builder, utcnow)
    reloads.run()
    reloads.start()
    try:
        write_post("b.md", title="B")
        assert wait_for(lambda: builder.snapshot is not None and builder.snapshot.report.posts == 2)
    finally:
        reloads.stop(wait=False)


def test_a_reload_runs_when_the_next_post_is_due(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """With a long interval, a date job publishes the future post at its time."""
    settings = make_settings(reload_interval=3600)
    due = (utcnow() + timedelta(seconds=2)).replace(microsecond=0)
    write_post("soon.md", title="Soon", date=due.isoformat())
    builder = Builder(settings)
    reloads = Reloads(builder, utcnow)
    reloads.run()
    assert builder.snapshot is not None and builder.snapshot.report.posts == 0
    reloads.start()
    try:
        assert reloads.scheduler.get_job(NEXT_POST_JOB).next_run_time == due
        assert wait_for(lambda: builder.snapshot.report.posts == 1)
        assert builder.snapshot.report.loaded_at >= due
    finally:
        reloads.stop(wait=False)


def test_the_clock_is_read_at_the_edge(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A reload passes the clock's time into the pure core (frozen here with time-machine)."""
    write_post("a.md", title="A", date="2030-01-01T00:00:00Z")
    builder = Builder(settings)
    with time_machine.travel(datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC), tick=False):
        Reloads(builder, utcnow).run()
    assert builder.snapshot.report.loaded_at == datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert builder.snapshot.report.posts == 1


def test_the_reload_after_a_change_is_timed_by_the_clock_given(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """Every time the schedule places comes from its clock: a reload after file events too (here the clock is
    years ahead, so the reload is placed years ahead)."""
    write_post("a.md", title="A")
    later = datetime(2031, 1, 1, tzinfo=UTC)
    reloads = Reloads(Builder(settings), lambda: later)
    reloads.start()
    try:
        reloads.after_change(0.5)
        assert reloads.scheduler.get_job(CHANGE_JOB).next_run_time == later + timedelta(seconds=0.5)
    finally:
        reloads.stop(wait=False)


def test_the_schedule_survives_a_failing_reload_and_recovers(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """A reload that raises is shown in /healthz; the last snapshot is served; the next good run clears it."""
    from syndicator.service.http.app import create_app

    settings = make_settings(output_dir=tmp_path / "out", reload_interval=1)
    write_post("a.md", title="A")
    builder = Builder(settings)
    reloads = Reloads(builder, utcnow)
    reloads.run()
    good = builder.snapshot
    client = create_app(settings, builder).test_client()
    reloads.start()
    try:
        write_post("b.md", title="B")
        (tmp_path / "out" / "all.atom").unlink()
        (tmp_path / "out" / "all.atom").mkdir()  # writing the feed now fails: like a full disk
        assert wait_for(lambda: builder.last_error is not None)
        body = client.get("/healthz").get_json()
        assert body["status"] == "degraded" and body["error"]
        assert str(tmp_path) not in json.dumps(body)  # the server's paths stay in its log
        assert "all.atom" in (builder.last_error or "")
        assert builder.snapshot is good
        assert client.get("/feeds/all.atom").status_code == 200
        (tmp_path / "out" / "all.atom").rmdir()
        assert wait_for(lambda: builder.last_error is None and builder.snapshot.report.posts == 2)
        assert client.get("/healthz").get_json()["status"] == "ok"
    finally:
        reloads.stop(wait=False)


def test_a_post_written_while_a_reload_tells_its_listeners_is_published_moments_later(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A file event whose reload comes due while the last reload still runs (its listeners queue mails and
    federate) is not lost with the job the scheduler skips: it is looked at once that reload is done, not a
    reload_interval later."""
    settings = make_settings(reload_interval=3600)
    write_post("a.md", title="A")
    builder = Builder(settings)
    watcher = PostWatcher(settings.posts_dir)
    assert watcher.start()
    reloads = Reloads(builder, utcnow, watcher=watcher)
    reloads.run()
    skipped = threading.Event()
    reloads.scheduler.add_listener(lambda _event: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    held: list[bool] = []

    def listener(snapshot: Snapshot) -> None:
        if snapshot.report.posts == 2 and not held:
            write_post("c.md", title="C")  # while this reload's listeners run
            held.append(skipped.wait(20))

    builder.listeners.append(listener)
    reloads.start()
    try:
        write_post("b.md", title="B")
        assert wait_for(lambda: bool(held))
        assert held == [True], "the reload asked for by c.md came due while the last one ran, and was skipped"
        assert wait_for(lambda: builder.snapshot is not None and builder.snapshot.report.posts == 3)
    finally:
        reloads.stop(wait=False)
        watcher.stop()


def test_the_reload_after_a_change_that_a_build_already_took_does_nothing(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """``syndicator build`` while serve runs reloads at once, taking the watcher's changes; the reload the change
    asked for, moments later, finds nothing to look at and publishes no new snapshot (it cost 20 ms at 10,000 posts)."""
    write_post("a.md", title="A")
    builder = Builder(settings)
    watcher = PostWatcher(settings.posts_dir)
    assert watcher.start()
    reloads = Reloads(builder, utcnow, watcher=watcher)
    try:
        reloads.run()
        write_post("b.md", title="B")
        assert wait_for(watcher.waiting)
        handed = reloads.run()  # what a handed-over build runs: every file looked at, the changes taken
        snapshot = builder.snapshot
        assert snapshot is not None and snapshot.report is handed and handed.posts == 2
        assert reloads.run(only_changes=True) is handed
        assert builder.snapshot is snapshot
        write_post("c.md", title="C")
        assert wait_for(watcher.waiting)
        assert reloads.run(only_changes=True).posts == 3  # a change not taken yet is looked at
        assert builder.snapshot is not snapshot
    finally:
        watcher.stop()


def test_a_report_answered_again_after_a_newer_one_is_not_followed_twice(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A reload on change that finds its changes taken answers the last report; when an interval reload's newer
    report was followed meanwhile, following the older one again queued its feeds for WebSub a second time (the same
    bytes pushed twice) and told the fediverse again."""
    write_post("a.md", title="A")
    builder = Builder(settings)
    told: list[Snapshot] = []
    builder.listeners.append(told.append)
    reloads = Reloads(builder, utcnow)
    older = reloads.run()
    write_post("b.md", title="B")
    reloads.run()
    assert len(told) == 2
    reloads.follow(older)
    assert len(told) == 2


def test_a_build_handed_over_has_its_answer_before_what_follows_the_reload(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """The listeners (the fediverse, email), WebSub and the snapshot's collection run once the build is answered."""
    write_post("a.md", title="A")
    builder = Builder(settings)
    reloads = Reloads(builder, utcnow)
    reloads.run()
    answered = threading.Event()
    told: list[bool] = []
    builder.listeners.append(lambda _snapshot: told.append(answered.wait(10)))
    reloads.start()
    try:
        write_post("b.md", title="B")
        answer = ask(settings.state_dir)
        answered.set()
        assert answer is not None and answer.posts == 2 and answer.error is None
        assert wait_for(lambda: bool(told))
        assert told == [True], "the build waited for the listeners"
    finally:
        reloads.stop(wait=False)


def test_a_reload_settles_its_state_after_its_answer(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A served reload keeps the files it replaced by a second name and appends the edited post's ledger line to a
    journal (rewriting the 5 MB ledger and freeing the replaced files' blocks cost the answer 15 ms at 10,000 posts);
    what follows it writes the ledger whole and frees them. A one-off reload settles before it returns."""
    write_post("a.md", title="A")
    write_post("b.md", title="B")
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    (settings.state_dir / ".ledger.json.0a1b2c3d.tmp").write_bytes(b"left by a crash")
    builder = Builder(settings)
    reloads = Reloads(builder, utcnow)
    reloads.run()
    assert not list(settings.state_dir.glob("*.tmp")) and not (settings.state_dir / LEDGER_JOURNAL_FILE).exists()
    feed, ledger = (settings.output_dir / "all.atom").read_bytes(), (settings.state_dir / LEDGER_FILE).read_bytes()
    write_post("a.md", title="A, edited")
    report = reloads.reload()
    assert [path.read_bytes() for path in settings.output_dir.glob(".all.atom.????????.tmp")] == [feed]
    assert (settings.state_dir / LEDGER_FILE).read_bytes() == ledger
    journal = (settings.state_dir / LEDGER_JOURNAL_FILE).read_bytes().splitlines()
    assert len(journal) == 2 and journal[1].startswith(b'"a.md":{') and b"A, edited" in journal[1]
    assert loads(ledger)["a.md"].title == "A" and read_ledger(settings)[0]["a.md"].title == "A, edited"
    reloads.follow(report)
    assert loads((settings.state_dir / LEDGER_FILE).read_bytes()) == read_ledger(settings)[0]
    assert not (settings.state_dir / LEDGER_JOURNAL_FILE).exists()
    assert not list(settings.output_dir.rglob("*.tmp")) and not list(settings.state_dir.glob("*.tmp"))
    write_post("b.md", title="B, edited")
    builder.reload(utcnow())
    assert loads((settings.state_dir / LEDGER_FILE).read_bytes())["b.md"].title == "B, edited"
    assert not list(settings.output_dir.rglob("*.tmp")) and not list(settings.state_dir.glob("*.tmp"))
    assert not (settings.state_dir / LEDGER_JOURNAL_FILE).exists()


def test_a_state_that_cannot_be_settled_holds_back_nothing_that_follows(
    settings: Settings, write_post: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger file cannot be written whole (a full disk): the journal keeps its lines, the listeners are told,
    and a later reload settles."""
    write_post("a.md", title="A")
    builder = Builder(settings)
    reloads = Reloads(builder, utcnow)
    reloads.run()
    told: list[Snapshot] = []
    builder.listeners.append(told.append)
    write_post("a.md", title="A, edited")
    monkeypatch.setattr(state, "write_ledger", failing)
    report = reloads.reload()
    reloads.follow(report)
    assert len(told) == 1 and (settings.state_dir / LEDGER_JOURNAL_FILE).exists()
    assert read_ledger(settings)[0]["a.md"].title == "A, edited"
    monkeypatch.undo()
    write_post("b.md", title="B")
    reloads.run()
    assert not (settings.state_dir / LEDGER_JOURNAL_FILE).exists()
    assert sorted(record.title for record in loads((settings.state_dir / LEDGER_FILE).read_bytes()).values()) == [
        "A, edited",
        "B",
    ]


def failing(*_args: object) -> None:
    raise OSError(28, "No space left on device")
