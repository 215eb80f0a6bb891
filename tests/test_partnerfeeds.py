"""Feeds for partners in one process (SPEC "Private feeds for partners"): tokens and their hashes, the store that
sees a revocation, the partner catalog, visibility and scheduled briefings. Over a real server: system/."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from support.factories import BRIEFING
from support.factories import NOW
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.partners import credentials
from syndicator.service.partners import new_token
from syndicator.service.partners import partner_of
from syndicator.service.partners import token_hash
from syndicator.store.partners import PartnerStore

LATER = datetime(2026, 3, 1, tzinfo=UTC)  # the briefing (2026-02-01) is out


def basic(name: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()


def test_tokens_are_random_and_checked_in_constant_time_against_every_hash() -> None:
    """256 random bits each; Bearer is compared with every partner's hash, Basic with the named one's."""
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000 and all(len(t) == 48 for t in tokens)
    a, b = new_token(), new_token()
    hashes = {"a": token_hash(a), "b": token_hash(b)}
    assert partner_of(f"Bearer {b}", hashes) == "b" and partner_of(basic("a", a), hashes) == "a"
    assert partner_of(basic("b", a), hashes) is None and partner_of(basic("c", a), hashes) is None
    assert credentials("Basic " + base64.b64encode(b"\xff:x").decode()) is None
    assert credentials(f"BEARER  {a} ") == (None, a)


def test_the_store_sees_another_process_revoke(tmp_path: Path) -> None:
    """A server's store answers from memory until another connection commits (SQLite's data_version)."""
    server_side, cli_side = PartnerStore(tmp_path), PartnerStore(tmp_path)
    cli_side.add("acme", token_hash("t"), 1.0)
    assert server_side.hashes() == {"acme": token_hash("t")}
    assert server_side.hashes() is server_side.hashes(), "no change: no second read"
    cli_side.revoke("acme", 2.0)
    assert server_side.hashes() == {}
    server_side.close()
    cli_side.close()


def test_the_partner_catalog_is_made_only_for_posts_for_partners(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Without a partner-only post, partner feeds are the public catalog's (no second catalog); with one, its own."""
    write_post("a.md", title="Public", categories="[News]")
    settings = make_settings(full_content=False)
    builder = Builder(settings)
    builder.reload(NOW)
    snapshot: Any = builder.snapshot
    assert snapshot.partners.catalog is snapshot.catalog
    assert b"<content" in snapshot.partners.file("all.atom").body
    write_post("b.md", text=BRIEFING)
    builder.reload(LATER)
    snapshot = builder.snapshot
    assert snapshot.partners.catalog is not snapshot.catalog
    assert [p.title for p in snapshot.catalog.posts] == ["Public"]
    assert [p.title for p in snapshot.partners.catalog.posts] == ["Zebra Briefing", "Public"]
    assert snapshot.partners.file("category/zebra-desk.atom") is not None
    assert "/feeds/category/zebra-desk.atom" not in snapshot.files
    ledger = json.loads((settings.state_dir / "ledger.json").read_text())
    assert "b.md" in json.dumps(ledger), "a briefing's id is kept like any post's"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("partners", None),
        ("public", None),
        ("'partners'", None),
        ("secret", "visibility must be one of public, partners, not 'secret'"),
    ],
)
def test_visibility_is_public_or_partners(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], value: str, problem: str | None
) -> None:
    """visibility: public (the default) or partners; anything else keeps the post out, with its line (a private
    problem: whoever wrote another value did not mean the post for everyone)."""
    write_post("a.md", title="A", visibility=value)
    builder = Builder(make_settings())
    report: Any = builder.reload(NOW)
    messages = [p.message for p in report.problems]
    assert messages == ([problem] if problem else [])
    if problem:
        assert report.problems[0].line == 4 and report.problems[0].private is True


def test_a_scheduled_briefing_is_published_on_time_and_hidden_from_healthz(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """The reload is scheduled for a future briefing, but /healthz's next_publish_at names only public posts."""
    write_post("a.md", title="Public")
    write_post("b.md", text=BRIEFING)  # 2026-02-01, after NOW
    settings = make_settings()
    builder = Builder(settings)
    report: Any = builder.reload(NOW)
    assert report.next_publish_at == datetime(2026, 2, 1, 10, tzinfo=UTC)
    health = create_app(settings, builder).test_client().get("/healthz").get_json()
    assert health["next_publish_at"] is None and health["posts"] == 1
    builder.reload(LATER)
    snapshot: Any = builder.snapshot
    assert snapshot.partners.file("all.atom").body.count(b"<entry>") == 2
