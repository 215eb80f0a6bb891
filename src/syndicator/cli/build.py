"""The commands that build and serve: ``build``, ``check``, ``serve`` and ``routes``."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syndicator.cli.common import Busy
from syndicator.cli.common import ProgressBar
from syndicator.cli.common import Stopped
from syndicator.cli.common import _ask_to_stop
from syndicator.cli.common import _locked
from syndicator.cli.common import _posts_dir
from syndicator.cli.common import _settings
from syndicator.cli.common import _stop
from syndicator.cli.common import _stopping
from syndicator.cli.common import adopt_option
from syndicator.cli.common import config_option
from syndicator.cli.common import now
from syndicator.cli.common import setup_logging
from syndicator.config import Settings

if TYPE_CHECKING:
    from syndicator.core.catalog import Catalog
    from syndicator.core.pagerender import PageRenderer
    from syndicator.core.pipeline import Published
    from syndicator.core.platforms import Shortfall
    from syndicator.core.podcasts import Facts
    from syndicator.problem import LoadProblem
    from syndicator.service.build import Builder
    from syndicator.service.build import Preview
    from syndicator.service.snapshot import BuildReport

logger = logging.getLogger(__name__)
LOCKS_LET_GO = 2.0  # seconds a build no builder answered waits for the locks (a dead builder's are let go)


@click.command()
@config_option
@click.option("--strict", is_flag=True, help="Exit 1 when any post failed to load.")
@click.option("--watch", is_flag=True, help="Keep running: reload on the schedule, without serving HTTP.")
@click.option("--allow-empty", is_flag=True, help="Publish an empty site when posts_dir has no post file.")
@adopt_option
def build(config: str | None, strict: bool, watch: bool, allow_empty: bool, adopt: bool) -> None:
    """Load the posts once, write every feed to output_dir, and exit (or keep watching)."""
    _stop.clear()
    handlers = {signum: signal.signal(signum, _ask_to_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        _build(config, strict, watch, allow_empty, adopt)
        if _stop:
            raise Stopped(_stop[0])
    except (Stopped, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        what = "terminated" if signum == signal.SIGTERM else "interrupted"
        click.echo(f"{what}: every file written is whole; run build again to finish", err=True)
        sys.exit(128 + signum)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def _build(config: str | None, strict: bool, watch: bool, allow_empty: bool, adopt: bool) -> None:
    started = time.perf_counter()
    setup_logging()
    settings = _settings(config)
    _posts_dir(settings)
    _theme(settings)
    try:
        with _locked(settings, adopt) as adopted:
            _build_locked(settings, strict, watch, allow_empty, started, adopted)
        return
    except Busy:
        if watch or adopt or allow_empty:
            raise
    if _handed_over(settings, strict):
        return
    # None answered: a one-off build holds the locks (refused, as before), or the builder asked stopped or died
    # before answering, and the kernel lets go of a dead builder's locks: this command builds.
    with _locked(settings, adopt, wait=LOCKS_LET_GO) as adopted:
        _build_locked(settings, strict, watch, allow_empty, started, adopted)


def _handed_over(settings: Settings, strict: bool) -> bool:
    """Have the builder that runs (serve, build --watch) reload, and print what it did as a build would.

    False when none answers: a one-off build holds the locks, or the builder stopped or died before answering.
    """
    from syndicator.service.handoff import ask

    def waiting(pid: int) -> None:
        click.echo(f"the running builder (pid {pid}) is reloading: waiting for it to finish", err=True)

    answer = ask(settings.state_dir, lambda: bool(_stop), waiting)
    if answer is None:
        return False
    logger.info("handed over to the running builder pid=%d (it reloads with the settings it started with)", answer.pid)
    if answer.error is not None:
        raise click.ClickException(f"build failed in the running builder (pid {answer.pid}): {answer.error}")
    _print_build(
        settings,
        answer.feeds,
        answer.posts,
        answer.categories,
        answer.problems,
        answer.written,
        answer.removed,
        answer.duration_ms,
    )
    if strict and answer.failed:
        sys.exit(1)
    return True


def _theme(settings: Settings) -> PageRenderer | None:
    """With theme_dir: its templates tried on every page kind (a broken one stops the command in one line), and the
    renderer they make."""
    if settings.theme_dir is None:
        return None
    from syndicator.core.pagerender import TemplateProblem  # Jinja: imported only to try a theme
    from syndicator.service.theme import page_renderer

    if not settings.theme_dir.is_dir():
        raise click.ClickException(f"theme_dir: {settings.theme_dir}: no such folder")
    try:
        return page_renderer(settings)
    except TemplateProblem as exc:
        raise click.ClickException(f"theme: {exc}") from None


def _theme_problems(settings: Settings, catalog: Catalog) -> list[LoadProblem]:
    """With theme_dir: where its templates fail on the values of one post or page of the site (every page drawn)."""
    renderer = _theme(settings)
    if renderer is None:
        return []
    from syndicator.incremental.pagememo import PageMemo

    pages = PageMemo(settings, renderer)
    pages.update(catalog, now())
    return pages.problems()


def _build_locked(
    settings: Settings, strict: bool, watch: bool, allow_empty: bool, started: float, adopted: bool
) -> None:
    from syndicator.store.records import unchanged_since_stamp

    if not watch and not adopted and (stamp := unchanged_since_stamp(settings, now())) is not None:
        ms = (time.perf_counter() - started) * 1000
        logger.info("up to date posts=%d feeds=%d last_reload_ms=%.1f", stamp.posts, stamp.feeds, ms)
        _print_build(settings, stamp.feeds, stamp.posts, stamp.categories, stamp.problems, 0, 0, ms)
        if strict and any(p.fatal for p in stamp.problems):
            sys.exit(1)
        return

    builder, report = _build_once(settings, stamp=not watch, allow_empty=allow_empty, adopted=adopted)
    _print_build(
        settings,
        len(report.feeds),
        report.posts,
        report.categories,
        report.problems,
        len(report.written),
        len(report.removed),
        report.duration_ms,
    )
    if strict and report.failed:
        sys.exit(1)
    if watch:
        from syndicator.service.schedule import watch_forever

        watch_forever(builder, now)


def _build_once(
    settings: Settings, *, stamp: bool, allow_empty: bool, adopted: bool = False
) -> tuple[Builder, BuildReport]:
    """One load of every post, written to output_dir; a failure is one line (ClickException)."""
    from syndicator.core.recovery import LedgerError
    from syndicator.service.build import Builder
    from syndicator.service.build import EmptySourceError
    from syndicator.service.build import ReloadError
    from syndicator.service.output import FilesOutput
    from syndicator.store.files import OutputError
    from syndicator.store.keeper import StateWriteError

    builder = Builder(settings, FilesOutput(), allow_empty=allow_empty)
    if adopted:
        builder.state.adopt()
    bars = ProgressBar() if sys.stderr.isatty() else None
    try:
        report = builder.reload(now(), _stopping(bars))
    finally:
        if bars is not None:
            bars.close()
    if isinstance(report, ReloadError):
        if isinstance(report.error, EmptySourceError | LedgerError | StateWriteError):
            raise click.ClickException(report.message)
        if isinstance(report.error, OSError):
            why = report.error.strerror or report.error
            raise click.ClickException(f"cannot write feeds in output_dir {settings.output_dir}: {why}")
        if isinstance(report.error, OutputError):
            raise click.ClickException(f"cannot write feeds: {report.error}")
        raise click.ClickException(f"build failed: {report.message}")
    try:
        builder.save_cache()
        if stamp:
            builder.save_stamp()
    except OSError as exc:  # the feeds are out: the next build parses what it could not keep
        raise click.ClickException(f"cannot write state_dir {settings.state_dir}: {exc.strerror or exc}") from exc
    if settings.cdn_purge_url and (report.written or report.removed):
        from syndicator.service.cdn import Purger
        from syndicator.service.cdn import written_keys

        purger = Purger(settings)
        purger.purge(written_keys(report))
        purger.drain()  # a warning for each key the CDN did not take
    _tell_websub(settings, report)
    return builder, report


def _tell_websub(settings: Settings, report: BuildReport) -> None:
    """A build no running builder took: the feeds whose bytes changed queued for the built-in hub's subscribers
    (``serve`` sends them once its first load is done: the hub answers through it), or the external hub pinged now.
    Without it, a change built while ``serve`` was stopped reached no subscriber: the next serve found nothing new."""
    from syndicator.service.hub import Hub
    from syndicator.service.hubstore import HUB_FILE

    topics = report.changed_topics(settings)
    if not topics or not (settings.websub_hub or (settings.state_dir / HUB_FILE).exists()):
        return
    hub = Hub(settings)
    try:
        queued = hub.publish(topics)
        hub.ping_here()
    finally:
        hub.close()
    if queued and not settings.websub_hub:
        logger.info("websub deliveries queued for serve=%d", queued)


def _print_build(
    settings: Settings,
    feeds: int,
    posts: int,
    categories: int,
    problems: tuple[LoadProblem, ...],
    written: int,
    removed: int,
    ms: float,
) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(
        f"built {feeds} feed files in {settings.output_dir} "
        f"({posts} posts, {categories} categories, {written} written, {removed} removed, {ms:.0f} ms)"
    )


@click.command()
@config_option
@click.option("--partner", "partner", default=None, help="Also check the feeds against a platform's requirements.")
def check(config: str | None, partner: str | None) -> None:
    """List every problem in posts_dir (and posts edited since published); exit 1 when there is a problem."""
    from syndicator.core.platforms import PLATFORMS
    from syndicator.core.podcastplatforms import PODCAST_PLATFORMS

    setup_logging(logging.ERROR)  # the problems are the output; don't log them twice
    settings = _settings(config)
    known = (*PLATFORMS, *PODCAST_PLATFORMS)
    if partner is not None and partner not in known:
        raise click.ClickException(f"--partner: unknown platform {partner!r} (known: {', '.join(known)})")
    if not settings.posts_dir.is_dir():
        raise click.ClickException(f"posts_dir: {settings.posts_dir}: no such folder")
    preview, facts = _preview(settings)
    published = preview.published
    problems = [*preview.problems, *_theme_problems(settings, published.catalog)]
    for problem in problems:
        click.echo(str(problem))
    as_written = {post.source: post.updated for post in published.loaded}
    for post in published.posts:  # dated by an edit the front matter does not date
        if post.updated > as_written.get(post.source, post.updated):
            click.echo(f"{post.path}: edited since published (entry updated {post.updated.isoformat()})")
    shortfalls = _shortfalls(partner, published, settings, facts) if partner else []
    for shortfall in shortfalls:
        click.echo(str(shortfall))
    if problems or any(s.rule.required for s in shortfalls):
        for_partner = f", {len(shortfalls)} for {partner}" if partner else ""
        click.echo(f"{len(problems)} problem(s){_where(problems, settings)}{for_partner}", err=True)
        sys.exit(1)
    click.echo(f"{len(published.loaded)} posts, no problems", err=True)


def _where(problems: list[LoadProblem], settings: Settings) -> str:
    """Where the problems are: `` in <posts_dir>``, `` in <the config file>``, or each place with its count."""
    inside = settings.posts_dir.resolve()
    places = Counter(
        str(settings.posts_dir) if Path(p.path).resolve().is_relative_to(inside) else p.path for p in problems
    )
    if len(places) <= 1:
        return "".join(f" in {place}" for place in places)
    return ": " + ", ".join(f"{count} in {place}" for place, count in places.items())


def _shortfalls(partner: str, published: Published, settings: Settings, facts: Facts) -> list[Shortfall]:
    """What a platform's documented requirements find short in the published feeds (a podcast platform's: the shows)."""
    from syndicator.core import platforms
    from syndicator.core import podcastplatforms

    if partner in podcastplatforms.PODCAST_PLATFORMS:
        return podcastplatforms.check(partner, podcastplatforms.show_facts(published.catalog, settings, facts))
    return platforms.check(partner, platforms.site_facts(published.catalog, settings))


def _preview(settings: Settings) -> tuple[Preview, Facts]:
    """What a build would publish now, and every problem it would report, from the builder (nothing is written);
    and the facts of the files under posts_dir, as the builder read them."""
    from syndicator.core.recovery import LedgerError
    from syndicator.service.build import Builder
    from syndicator.service.build import EmptySourceError
    from syndicator.service.output import FilesOutput

    try:
        builder = Builder(settings, FilesOutput())
        return builder.preview(now()), builder.cache.assets.facts
    except (LedgerError, EmptySourceError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=int,
    help="Python threads answering requests (the slow bodies of POSTs get threads of their own).",
)
@adopt_option
def serve(config: str | None, host: str, port: int, threads: int, adopt: bool) -> None:
    """Load the posts, write feeds, reload on a schedule, and serve over HTTP."""
    from syndicator.service.server import AddressInUseError
    from syndicator.service.server import refuse_taken
    from syndicator.service.server import serve_http

    setup_logging()
    link_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - names, not a bind
    link_host = f"[{link_host}]" if ":" in link_host else link_host
    # a bad config fails here, before the server starts; links name the port served, unless site_url is set
    settings = _settings(config, defaults={"site_url": f"http://{link_host}:{port}"})
    _posts_dir(settings)
    _theme(settings)
    try:
        refuse_taken(host, port)
    except AddressInUseError as exc:
        raise click.ClickException(str(exc)) from exc
    with _locked(settings, adopt) as adopted:
        serve_http(settings, host, port, threads, now, adopted=adopted)


@click.command()
@click.argument("url", required=False)
@click.option("--method", default="GET", show_default=True, help="With URL: the request's method.")
def routes(url: str | None, method: str) -> None:
    """Print the route table, top to bottom: which handler answers which URL (the deployment mirrors it).

    With URL (a path, with its query if any), print the rows that may answer it, in the order they are tried.
    """
    from urllib.parse import urlsplit

    from syndicator.service.http.routes import table
    from syndicator.service.http.routes import tried

    if url is None:
        for line in table():
            click.echo(line)
        return
    parts = urlsplit(url)
    rows = tried(parts.path or "/", method.upper(), parts.query)
    for line in table(tuple(rows)) if rows else ["no route: the app's 404"]:
        click.echo(line)
