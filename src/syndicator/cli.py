"""The ``syndicator`` command: serve, build, check, import, partners, stats; maps domain errors to exit codes."""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

import click

from syndicator import __version__
from syndicator.config import ConfigError
from syndicator.config import Settings
from syndicator.config import load_settings
from syndicator.store.records import unchanged_since_stamp

if TYPE_CHECKING:
    from syndicator.core.pipeline import Published
    from syndicator.importers.items import ImportReport
    from syndicator.model import LoadProblem
    from syndicator.model import Post
    from syndicator.service.build import Builder
    from syndicator.service.snapshot import BuildReport

# The renderers (feedgen, lxml, cmark, Flask...) are imported by the commands that use them,
# so that a build which finds nothing changed starts and ends in a blink.

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = "syndicator.toml"
SHOWN = 20  # lines of one kind in a summary, before "... and N more"


def now() -> datetime:
    return datetime.now(UTC)


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr, once, for the whole package."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _settings(config: str | None, defaults: dict[str, Any] | None = None) -> Settings:
    path = Path(config) if config is not None else Path(DEFAULT_CONFIG)
    try:
        return load_settings(path, os.environ, required=config is not None, defaults=defaults)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def _posts_dir(settings: Settings) -> None:
    """A missing posts_dir stops serve and build at once, before anything is written (a typo, an unmounted share)."""
    if not settings.posts_dir.is_dir():
        raise click.ClickException(
            f"posts_dir {settings.posts_dir} is not a folder: nothing was built or changed "
            "(check posts_dir in the config, or mount the share)"
        )


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """One builder per state_dir: hold its lock while the block runs, or refuse in one line."""
    from syndicator.store.state import BuilderLock
    from syndicator.store.state import LockedError

    lock = BuilderLock(settings)
    try:
        lock.acquire()
    except LockedError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot lock state_dir {settings.state_dir}: {exc.strerror}") from exc
    try:
        yield
    finally:
        lock.release()


class Stopped(BaseException):
    """Ctrl-C or SIGTERM during a build: raised at the build's next step, never in the middle of one."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_stop: list[int] = []  # the signal a build was asked to stop by (a signal handler can only set a flag safely)


def _ask_to_stop(signum: int, frame: object) -> None:
    if _stop:  # asked twice: stop now
        raise KeyboardInterrupt
    _stop.append(signum)


def _stopping(bars: ProgressBar | None) -> Callable[[str, int, int], None]:
    """The build's progress callback: draws the bar, and stops the build between two steps when asked to."""

    def progress(stage: str, done: int, total: int) -> None:
        if _stop:
            raise Stopped(_stop[0])
        if bars is not None:
            bars(stage, done, total)

    return progress


class ProgressBar:
    """One bar for a whole build, reading posts then rendering and writing feeds (on a terminal, never in a log).

    Log lines that come while it is drawn wait until it closes, so that none is
    printed across it.
    """

    MIN_TOTAL = 500  # a smaller build finishes before a bar is worth drawing
    STAGES: ClassVar[dict[str, tuple[int, int]]] = {"reading posts": (0, 50), "writing feeds": (50, 100)}

    def __init__(self) -> None:
        self._bar: Any = None
        self._shown = 0
        self._held: list[tuple[logging.Handler, logging.Handler]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is None:
            if total < self.MIN_TOTAL:
                return
            self._hold_logs()
            self._bar = click.progressbar(length=100, label="building", file=sys.stderr)
            self._bar.__enter__()
        start, end = self.STAGES.get(stage, (0, 100))
        position = max(self._shown, start + (end - start) * done // max(total, 1))
        self._bar.label = stage
        self._bar.update(position - self._shown)
        self._shown = position

    def _hold_logs(self) -> None:
        root = logging.getLogger()
        for handler in list(root.handlers):
            memory = logging.handlers.MemoryHandler(100_000, flushLevel=logging.CRITICAL + 1, target=handler)
            root.removeHandler(handler)
            root.addHandler(memory)
            self._held.append((memory, handler))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        root = logging.getLogger()
        for memory, handler in self._held:
            root.removeHandler(memory)
            root.addHandler(handler)
            memory.close()  # flushes what it held
        self._held = []


config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Config file (default: ./{DEFAULT_CONFIG} when it exists).",
)


@click.group()
@click.version_option(__version__, prog_name="syndicator")
def cli() -> None:
    """Atom, RSS and JSON feeds for every category of a Markdown blog."""


@cli.command()
@config_option
@click.option("--strict", is_flag=True, help="Exit 1 when any post failed to load.")
@click.option("--watch", is_flag=True, help="Keep running: reload on the schedule, without serving HTTP.")
@click.option("--allow-empty", is_flag=True, help="Publish an empty site when posts_dir has no post file.")
def build(config: str | None, strict: bool, watch: bool, allow_empty: bool) -> None:
    """Load the posts once, write every feed to output_dir, and exit (or keep watching)."""
    _stop.clear()
    handlers = {signum: signal.signal(signum, _ask_to_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        _build(config, strict, watch, allow_empty)
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


def _build(config: str | None, strict: bool, watch: bool, allow_empty: bool) -> None:
    started = time.perf_counter()
    setup_logging()
    settings = _settings(config)
    _posts_dir(settings)
    with _locked(settings):
        _build_locked(settings, strict, watch, allow_empty, started)


def _build_locked(settings: Settings, strict: bool, watch: bool, allow_empty: bool, started: float) -> None:
    if not watch and (stamp := unchanged_since_stamp(settings, now())) is not None:
        ms = (time.perf_counter() - started) * 1000
        logger.info("up to date posts=%d feeds=%d last_reload_ms=%.1f", stamp.posts, stamp.feeds, ms)
        _print_build(settings, stamp.feeds, stamp.posts, stamp.categories, stamp.problems, 0, 0, ms)
        if strict and any(p.fatal for p in stamp.problems):
            sys.exit(1)
        return

    builder, report = _build_once(settings, stamp=not watch, allow_empty=allow_empty)
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

        watch_forever(builder, settings, now)


def _build_once(settings: Settings, *, stamp: bool, allow_empty: bool) -> tuple[Builder, BuildReport]:
    """One load of every post, written to output_dir; a failure is one line (ClickException)."""
    from syndicator.service.build import Builder
    from syndicator.service.build import EmptySourceError
    from syndicator.service.build import ReloadError
    from syndicator.store.files import OutputError
    from syndicator.store.state import LedgerError

    builder = Builder(settings, serving=False, allow_empty=allow_empty)
    bars = ProgressBar() if sys.stderr.isatty() else None
    try:
        report = builder.reload(now(), _stopping(bars))
    finally:
        if bars is not None:
            bars.close()
    if isinstance(report, ReloadError):
        if isinstance(report.error, EmptySourceError | LedgerError):
            raise click.ClickException(report.message)
        if isinstance(report.error, OSError | OutputError):
            raise click.ClickException(f"cannot write feeds: {report.error}")
        raise click.ClickException(f"build failed: {report.message}")
    try:
        builder.save_cache()
        if stamp:
            builder.save_stamp()
    except OSError as exc:
        raise click.ClickException(f"cannot write state_dir: {exc}") from exc
    return builder, report


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


@cli.command()
@config_option
@click.option("--partner", "partner", default=None, help="Also check the feeds against a platform's requirements.")
def check(config: str | None, partner: str | None) -> None:
    """List every problem in posts_dir (and posts edited since published); exit 1 when there is a problem."""
    from syndicator.core.platforms import PLATFORMS
    from syndicator.core.platforms import check as check_platform
    from syndicator.core.platforms import site_facts

    setup_logging(logging.ERROR)  # the problems are the output; don't log them twice
    settings = _settings(config)
    if partner is not None and partner not in PLATFORMS:
        raise click.ClickException(f"--partner: unknown platform {partner!r} (known: {', '.join(PLATFORMS)})")
    if not settings.posts_dir.is_dir():
        raise click.ClickException(f"{settings.posts_dir}: no such folder")
    posts, problems, published = _publish_for_check(settings)
    for problem in sorted(problems, key=lambda p: (p.path, p.line, p.message)):
        click.echo(str(problem))
    as_written = {post.source: post.updated for post in posts}
    for post in published.posts:  # dated by an edit the front matter does not date
        if post.updated > as_written.get(post.source, post.updated):
            click.echo(f"{post.path}: edited since published (entry updated {post.updated.isoformat()})")
    shortfalls = check_platform(partner, site_facts(published.catalog, settings)) if partner else []
    for shortfall in shortfalls:
        click.echo(str(shortfall))
    if problems or any(s.rule.required for s in shortfalls):
        click.echo(f"{len(problems)} problem(s) in {settings.posts_dir}, {len(shortfalls)} for {partner}", err=True)
        sys.exit(1)
    click.echo(f"{len(posts)} posts, no problems", err=True)


def _publish_for_check(settings: Settings) -> tuple[list[Post], list[LoadProblem], Published]:
    """The posts as loaded, every problem, and what publishing them now gives (nothing is written)."""
    from syndicator.core.pipeline import publish
    from syndicator.incremental.postcache import PostCache
    from syndicator.store.state import LedgerError
    from syndicator.store.state import read_ledger

    posts, problems = PostCache(settings).refresh()
    try:
        ledger, ledger_problem, recovered = read_ledger(settings)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    published = publish(posts, ledger, now(), recovered=recovered)
    problems += published.problems
    if ledger_problem is not None:
        problems.append(ledger_problem)
    return posts, problems, published


@cli.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=4, show_default=True, type=int, help="Python threads answering requests.")
def serve(config: str | None, host: str, port: int, threads: int) -> None:
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
    try:
        refuse_taken(host, port)
    except AddressInUseError as exc:
        raise click.ClickException(str(exc)) from exc
    with _locked(settings):
        serve_http(settings, host, port, threads, now)


@cli.group(name="import")
def import_group() -> None:
    """Bring posts over from another blog engine."""


@import_group.command(name="wordpress")
@config_option
@click.argument("export", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--posts-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: posts_dir.")
@click.option("--force", is_flag=True, help="Also overwrite post files edited since the last import.")
@click.option(
    "--media",
    metavar="DIR-OR-URL",
    help="Copy the posts' uploads from this folder (a copy of wp-content/uploads) or URL base into posts_dir/uploads/.",
)
def import_wordpress_command(
    config: str | None, export: Path, posts_dir: Path | None, force: bool, media: str | None
) -> None:
    """Turn a WordPress export (WXR) into post files; run it again to update them."""
    from syndicator.importers.wordpress import WordPressImportError
    from syndicator.importers.wordpress import import_wordpress

    setup_logging()
    config_path = Path(config) if config is not None else Path(DEFAULT_CONFIG)
    try:
        settings = load_settings(config_path, os.environ)  # the import creates a missing config file
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    if media is not None and not media.startswith(("http://", "https://")) and not Path(media).is_dir():
        raise click.ClickException(f"--media: {media} is neither a folder nor an http(s) URL")
    target = posts_dir if posts_dir is not None else settings.posts_dir
    bars = ProgressBar() if sys.stderr.isatty() else None
    try:
        report = import_wordpress(
            export, target, settings.state_dir, force=force, progress=bars, media=media, config=config_path
        )
    except (WordPressImportError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bars is not None:
            bars.close()
    _print_import(report, export, target, config_path)


def _print_import(report: ImportReport, export: Path, target: Path, config_path: Path) -> None:
    """The import's summary: what came over, what was converted, what was lost or skipped."""
    media = f"{report.media_fetched} fetched, {len(report.media_failed)} failed"
    click.echo(
        f"imported {report.posts} posts into {target}: {len(report.new)} new, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged; {report.drafts} drafts, {report.scheduled} scheduled; "
        f"{len(report.renamed)} renamed slugs, {report.enclosures} enclosures, {report.embeds} embeds, "
        f"{report.images} featured images; media: {media}; "
        f"{report.redirects_added} redirects written to {config_path}"
    )
    for path in report.kept_local:
        click.echo(f"kept {path}: edited since the last import (use --force to overwrite)")
    for old, new, post_id in report.renamed[:SHOWN]:
        click.echo(f"renamed post {post_id}: slug {old} is taken, now {new}")
    if len(report.renamed) > SHOWN:
        click.echo(f"... and {len(report.renamed) - SHOWN} more renamed slugs")
    if report.skipped:
        click.echo("skipped: " + ", ".join(f"{n} {kind}" for kind, n in sorted(report.skipped.items())))
    if report.lost:
        click.echo(
            "lost (nothing to show without WordPress): " + ", ".join(f"{n} {k}" for k, n in sorted(report.lost.items()))
        )
    failed = sorted(report.media_failed.items())
    for path, reason in failed[:SHOWN]:
        click.echo(f"media not brought over {path}: {reason} (the post keeps the old URL)", err=True)
    if len(failed) > SHOWN:
        click.echo(f"... and {len(failed) - SHOWN} more media not brought over", err=True)
    if report.redirects_kept:
        click.echo(f"{report.redirects_kept} redirects kept as {config_path} has them", err=True)
    for problem in report.malformed:
        click.echo(f"{export}: skipped malformed {problem}", err=True)


@cli.group()
def partners() -> None:
    """Tokens for the private partner feeds (/partners/feeds/...)."""


def _partners(command: Callable[[Settings, str, float], list[str]], config: str | None, name: str = "") -> list[str]:
    """Run a partners command (service.partners): the lines it prints; its error is one line (ClickException)."""
    from syndicator.store.partners import PartnerError

    try:
        return command(_settings(config), name, time.time())
    except PartnerError as exc:
        raise click.ClickException(str(exc)) from exc


@partners.command(name="add")
@config_option
@click.argument("name")
def partners_add(config: str | None, name: str) -> None:
    """Make a partner and print its token (shown this once: only its hash is kept)."""
    from syndicator.service.partners import add_partner

    token, *notes = _partners(add_partner, config, name)
    click.echo(token)
    click.echo("\n".join(notes), err=True)


@partners.command(name="list")
@config_option
def partners_list(config: str | None) -> None:
    """Every partner: when it was made, its last fetch, how many (never its token)."""
    from syndicator.service.partners import list_partners

    click.echo("\n".join(_partners(list_partners, config)))


@partners.command(name="revoke")
@config_option
@click.argument("name")
def partners_revoke(config: str | None, name: str) -> None:
    """Stop a partner's token from working, at once (a running server sees it on the next request)."""
    from syndicator.service.partners import revoke_partner

    click.echo("\n".join(_partners(revoke_partner, config, name)))


@cli.command()
@config_option
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="Days to show.")
@click.option("--import-log", type=click.Path(dir_okay=False, path_type=Path), help="Count an nginx access log first.")
def stats(config: str | None, days: int, import_log: Path | None) -> None:
    """Readers per feed and day: the total, then its parts (other clients, each aggregator, WebSub, partners)."""
    from syndicator.service.stats import stats_lines

    try:
        click.echo("\n".join(stats_lines(_settings(config), now().date(), days, import_log)))
    except OSError as exc:
        raise click.ClickException(f"{import_log}: {exc.strerror}") from exc


def main() -> None:
    cli()
