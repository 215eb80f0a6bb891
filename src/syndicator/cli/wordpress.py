"""The ``import`` commands: posts from another blog engine."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syndicator.config import ConfigError
from syndicator.config import load_settings

if TYPE_CHECKING:
    from syndicator.importers.items import ImportReport


from syndicator.cli.common import DEFAULT_CONFIG
from syndicator.cli.common import SHOWN
from syndicator.cli.common import ProgressBar
from syndicator.cli.common import config_option
from syndicator.cli.common import setup_logging


@click.group(name="import")
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
@click.option(
    "--media-allow-private",
    is_flag=True,
    help="Let --media URL reach the old site at a private, loopback or link-local address "
    "(its redirects must still lead to public addresses or back to it).",
)
def import_wordpress_command(
    config: str | None, export: Path, posts_dir: Path | None, force: bool, media: str | None, media_allow_private: bool
) -> None:
    """Turn a WordPress export (WXR) into post files; run it again to update them."""
    from syndicator.importers.media import check_source
    from syndicator.importers.wordpress import WordPressImportError
    from syndicator.importers.wordpress import import_wordpress
    from syndicator.outbound import NotPublicError
    from syndicator.outbound import RefusedError
    from syndicator.outbound import UnresolvedError

    setup_logging()
    config_path = Path(config) if config is not None else Path(DEFAULT_CONFIG)
    try:
        settings = load_settings(config_path, os.environ)  # the import creates a missing config file
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    if media is not None and not media.startswith(("http://", "https://")) and not Path(media).is_dir():
        raise click.ClickException(f"--media: {media} is neither a folder nor an http(s) URL")
    if media is not None and media.startswith(("http://", "https://")):
        try:
            check_source(media, allow_private=media_allow_private)
        except UnresolvedError as exc:  # offline, or the old host is gone: each file fails, the posts keep their URLs
            click.echo(f"warning: --media: {exc}; its files keep their old URLs", err=True)
        except NotPublicError as exc:
            hint = "--media-allow-private allows private, loopback and link-local addresses"
            raise click.ClickException(f"--media: {exc} ({hint})") from exc
        except RefusedError as exc:
            raise click.ClickException(f"--media: {exc}") from exc
    target = posts_dir if posts_dir is not None else settings.posts_dir
    bars = ProgressBar() if sys.stderr.isatty() else None
    try:
        report = import_wordpress(
            export,
            target,
            settings.state_dir,
            force=force,
            progress=bars,
            media=media,
            config=config_path,
            media_allow_private=media_allow_private,
            settings=settings,
        )
    except (WordPressImportError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bars is not None:
            bars.close()
    _print_import(report, export, target, config_path)
    if report.items and not report.posts:
        raise click.ClickException(f"{export}: nothing imported from its {report.items} items")


def _print_import(report: ImportReport, export: Path, target: Path, config_path: Path) -> None:
    """The import's summary: what came over, what was converted, what was lost or skipped."""
    media = f"{report.media_fetched} fetched, {len(report.media_failed)} failed"
    click.echo(
        f"imported {_many(report.posts - report.pages, 'post')} and {_many(report.pages, 'page')} into {target}: "
        f"{len(report.new)} new, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged; {_many(report.drafts, 'draft')}, {report.scheduled} scheduled; "
        f"{_many(len(report.renamed), 'renamed slug')}, {_many(report.enclosures, 'enclosure')}, "
        f"{_many(report.embeds, 'embed')}, {_many(report.galleries, 'gallery', 'galleries')}, "
        f"{_many(report.images, 'featured image')}, {_many(report.links, 'link')} to the old site made new; "
        f"media: {media}; {_many(report.redirects_added, 'redirect')} and "
        f"{_many(report.categories_added, 'category', 'categories')} written to {config_path}"
    )
    for count, what in (
        (report.comments, "comment{s} (the posts and pages come without them)"),
        (report.unused_attachments, "attachment{s} that no post or page uses"),
        (report.sticky, "sticky flag{s} (sticky posts are in date order here)"),
    ):
        if count:
            click.echo(f"not imported: {count} " + what.format(s="" if count == 1 else "s"))
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
    _print_failures(report, export, config_path)


def _many(count: int, one: str, more: str = "") -> str:
    """A count and its noun, singular for 1 (``1 gallery``, ``2 galleries``)."""
    return f"{count} {one if count == 1 else more or one + 's'}"


def _print_failures(report: ImportReport, export: Path, config_path: Path) -> None:
    """What could not be brought over, on stderr."""
    failed = sorted(report.media_failed.items())
    for path, reason in failed[:SHOWN]:
        click.echo(f"media not brought over {path}: {reason} (the post keeps the old URL)", err=True)
    if len(failed) > SHOWN:
        click.echo(f"... and {len(failed) - SHOWN} more media not brought over", err=True)
    if report.redirects_kept:
        click.echo(f"{report.redirects_kept} redirects kept as {config_path} has them", err=True)
    for problem in report.malformed:
        click.echo(f"{export}: skipped malformed {problem}", err=True)
    for problem in report.unwritten:
        click.echo(f"{export}: not imported {problem}", err=True)
