"""The commands for partners and readers: ``partners add|list|revoke`` and ``stats``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from syndicator.cli.common import _settings
from syndicator.cli.common import config_option
from syndicator.cli.common import now
from syndicator.config import Settings


@click.group()
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


@click.command()
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


@click.command()
@config_option
@click.option("--export", is_flag=True, help="List every address (CSV: address, feed, pace, confirmed), not counts.")
def subscribers(config: str | None, export: bool) -> None:
    """Email subscribers per feed and pace; --export lists their addresses, for the operator only."""
    from syndicator.service.stats import email_counts
    from syndicator.service.stats import email_export
    from syndicator.service.stats import email_table

    settings = _settings(config)
    if export:
        click.echo(email_export(settings), nl=False)
        return
    counts = email_counts(settings)
    click.echo("\n".join(email_table(counts)) if counts else "no email subscribers")
