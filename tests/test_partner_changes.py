"""Partner-grade changes (SPEC): edits that announce themselves, deletions partners can see, feeds that never vanish."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from support.factories import NOW
from support.feedcheck import check_atom
from support.feedcheck import check_json
from support.feedcheck import check_rss
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.configtables import Redirects
from syndicator.core.platforms import PLATFORMS
from syndicator.core.platforms import RULES
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.partners import token_hash
from syndicator.store.partners import PartnerStore

AT = "{http://purl.org/atompub/tombstones/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"
LATER = NOW + timedelta(days=2)


def entry_updated(builder: Builder, path: str = "/feeds/all.atom") -> dict[str, str]:
    assert builder.snapshot is not None
    return {e.title: e.updated for e in feedparser.parse(builder.snapshot.files[path].body).entries}


def test_an_edit_is_dated_when_it_is_first_seen(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A changed title or body with no newer `updated` gets the time the change was seen, kept across restarts."""
    write_post("a.md", title="A", body="First words.\n")
    write_post("b.md", title="B", date="2025-06-02T10:00:00Z")
    Builder(settings).reload(NOW)
    write_post("a.md", title="A", body="Corrected words.\n")
    builder = Builder(settings)
    builder.reload(LATER)
    updated = entry_updated(builder)
    assert updated == {"A": LATER.isoformat(), "B": "2025-06-02T10:00:00+00:00"}
    files = builder.snapshot.files if builder.snapshot else {}
    again = Builder(settings)  # a restart, later still: byte-identical
    again.reload(LATER + timedelta(days=1))
    assert again.snapshot is not None
    assert again.snapshot.files["/feeds/all.atom"].body == files["/feeds/all.atom"].body


def test_a_newer_updated_in_the_front_matter_wins(settings: Settings, write_post: Callable[..., Path]) -> None:
    """An edit the publisher dates keeps the publisher's date."""
    write_post("a.md", title="A", body="First.\n")
    Builder(settings).reload(NOW)
    write_post("a.md", title="A, fixed", body="First.\n", updated="2025-07-01T00:00:00Z")
    builder = Builder(settings)
    builder.reload(LATER)
    assert entry_updated(builder) == {"A, fixed": "2025-07-01T00:00:00+00:00"}


def test_check_says_which_posts_were_edited(
    settings: Settings, write_post: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check` lists a post edited since it was published, without calling it a problem."""
    write_post("a.md", title="A")
    write_post("b.md", title="B")
    Builder(settings).reload(NOW)
    write_post("a.md", title="A", body="New body.\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(f'posts_dir = "{settings.posts_dir}"\nstate_dir = "{settings.state_dir}"\n')
    result = CliRunner().invoke(cli, ["check", "--config", "s.toml"])
    assert result.exit_code == 0, result.output
    assert [line.split(": ")[1].split(" (")[0] for line in result.stdout.splitlines()] == ["edited since published"]
    assert "a.md" in result.stdout


def tombstones(body: bytes) -> list[tuple[str, str]]:
    return [(e.get("ref"), e.get("when")) for e in etree.fromstring(body).iter(f"{AT}deleted-entry")]


@pytest.mark.parametrize("how", ["deleted", "draft"])
def test_a_deleted_post_leaves_a_tombstone_in_every_feed_that_held_it(
    settings: Settings, write_post: Callable[..., Path], how: str
) -> None:
    """RFC 6721: removed (file gone, or draft) -> at:deleted-entry in each Atom feed that held it; valid feeds."""
    gone = write_post("gone.md", title="Gone", categories="[Politics, Stays]", tags="[T]")
    write_post("kept.md", title="Kept", categories="[Stays]", tags="[T]")
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    gone_id = builder.snapshot.catalog.by_slug["gone"].id
    if how == "deleted":
        gone.unlink()
    else:
        write_post("gone.md", title="Gone", categories="[Politics, Stays]", tags="[T]", draft="true")
    builder.reload(LATER)
    files = builder.snapshot.files
    for feed in ["all", "category/stays", "tag/t", "author/test-site"]:
        body = files[f"/feeds/{feed}.atom"].body
        check_atom(body)
        assert tombstones(body) == [(gone_id, LATER.isoformat())], feed
        assert feedparser.parse(body).feed.updated == LATER.isoformat()
        check_rss(files[f"/feeds/{feed}.rss"].body)
        check_json(files[f"/feeds/{feed}.json"].body)
        assert b"Gone" not in files[f"/feeds/{feed}.rss"].body  # RSS and JSON Feed just drop it
    assert tombstones(files["/feeds/category/stays.atom"].body)
    client = create_app(settings, builder).test_client()
    page = client.get("/posts/gone/")  # a reader following an old link: the site's own page, as a 404 is
    assert page.status_code == 410 and page.mimetype == "text/html" and "<h1>Page not found</h1>" in page.text
    gone_feed = client.get("/feeds/category/politics.atom")  # a feed's 410: plain text, for machines
    assert gone_feed.status_code == 410 and gone_feed.mimetype == "text/plain"
    builder.reload(LATER + timedelta(days=settings.tombstone_days + 1))
    body = builder.snapshot.files["/feeds/all.atom"].body
    assert tombstones(body) == []
    expired = LATER + timedelta(days=settings.tombstone_days)  # the feed changed then: its updated does not go back
    assert feedparser.parse(body).feed.updated == expired.isoformat()
    assert client.get("/posts/gone/").status_code == 410


def test_a_post_moved_into_the_future_is_withdrawn_until_it_is_due(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A published post whose date moves past now leaves its feeds as a removed one does (a tombstone, its page 410),
    where it vanished with no word to partners; when its new date comes, it is back under its id, with no tombstone."""
    write_post("moving.md", title="Moving", date="2025-06-01T10:00:00Z")
    write_post("kept.md", title="Kept", date="2025-06-02T10:00:00Z")
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    moving_id = builder.snapshot.catalog.by_slug["moving"].id
    due = LATER + timedelta(days=3)
    write_post("moving.md", title="Moving", date=due.isoformat())
    builder.reload(LATER)
    client = create_app(settings, builder).test_client()
    assert tombstones(builder.snapshot.files["/feeds/all.atom"].body) == [(moving_id, LATER.isoformat())]
    assert client.get("/posts/moving/").status_code == 410
    builder.reload(due + timedelta(hours=1))
    body = builder.snapshot.files["/feeds/all.atom"].body
    assert tombstones(body) == [] and moving_id in {entry.id for entry in feedparser.parse(body).entries}
    assert client.get("/posts/moving/").status_code == 200


def test_a_timezone_change_that_withdraws_a_post_is_said(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A date written without an offset is read in `timezone`: moved from Tokyo to Los Angeles, a post published two
    hours ago is dated 17 hours later, in the future, and withdrawn until then (SPEC's rule for a post whose date
    moves). That was said nowhere, `check` included; it is a warning on the post's date line while it lasts."""
    tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo")) - timedelta(hours=2)
    write_post("recent.md", text=f"---\ntitle: Recent\ndate: {tokyo.replace(tzinfo=None).isoformat()}\n---\nR\n")
    write_post("old.md", title="Old", date="2025-06-01T10:00:00Z")
    Builder(make_settings(timezone="Asia/Tokyo")).reload(NOW)
    moved = Builder(make_settings(timezone="America/Los_Angeles"))
    report = moved.reload(NOW)
    (warning,) = [p for p in report.problems if "withdrawn" in p.message]
    assert (Path(warning.path).name, warning.line, warning.fatal) == ("recent.md", 3, False)
    assert warning.message.startswith(f"published dated {(NOW - timedelta(hours=2)).isoformat()[:19]}Z, now dated ")
    assert moved.snapshot is not None and [p.slug for p in moved.snapshot.catalog.posts] == ["old"]
    assert not [p for p in moved.reload(NOW + timedelta(hours=16)).problems if "withdrawn" in p.message]


@pytest.mark.parametrize("how", ["restored", "undrafted"])
def test_a_post_back_after_its_tombstone_is_newer_than_the_tombstone(
    settings: Settings, write_post: Callable[..., Path], how: str
) -> None:
    """RFC 6721: a reader that applied a tombstone takes the entry back only when it is newer; a post whose file is
    restored, or that is a draft no more, comes back updated when it was first seen back, and stays so."""
    fields = {"title": "Back", "categories": "[Desk]"}
    path = write_post("back.md", **fields)
    write_post("stays.md", title="Stays", date="2020-01-01T00:00:00Z")
    builder = Builder(settings)
    builder.reload(NOW)
    if how == "restored":
        path.unlink()
    else:
        write_post("back.md", draft="true", **fields)
    builder.reload(LATER)
    assert builder.snapshot is not None
    assert [when for _ref, when in tombstones(builder.snapshot.files["/feeds/all.atom"].body)] == [LATER.isoformat()]
    write_post("back.md", **fields)
    back = LATER + timedelta(hours=1)
    builder.reload(back)
    assert entry_updated(builder)["Back"] == back.isoformat()
    assert tombstones(builder.snapshot.files["/feeds/all.atom"].body) == []
    builder.reload(back + timedelta(hours=1))
    assert entry_updated(builder)["Back"] == back.isoformat()  # not moved again by the next reload
    restarted = Builder(settings)
    restarted.reload(back + timedelta(hours=2))
    assert entry_updated(restarted)["Back"] == back.isoformat()  # the ledger kept it


def test_a_post_made_a_page_keeps_its_updated_from_reload_to_reload(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A post made a page leaves the feeds with a tombstone; the page itself is not "back" at every reload: its
    ``updated`` (the page's modified time) stays what it was."""
    write_post("stays.md", title="Stays", date="2020-01-01T00:00:00Z")
    write_post("about.md", title="About")
    builder = Builder(settings)
    builder.reload(NOW)
    write_post("about.md", title="About", type="page", path="/about/")
    builder.reload(LATER)
    assert builder.snapshot is not None
    first = next(page.updated for page in builder.snapshot.catalog.pages.values())
    write_post("new.md", title="New")  # a file added: a full reload
    builder.reload(LATER + timedelta(hours=1))
    assert next(page.updated for page in builder.snapshot.catalog.pages.values()) == first


@pytest.mark.parametrize("how", ["deleted", "draft"])
def test_a_deleted_partner_post_leaves_no_public_trace(
    settings: Settings, write_post: Callable[..., Path], how: str
) -> None:
    """A post for partners only that goes: not a byte of a public feed changes (no tombstone, nothing for WebSub to
    push), its address stays 404 like one that never was, and the partner feeds carry its tombstone."""
    shared = {"categories": "[Desk]", "tags": "[T]", "author": "Zed"}
    write_post("news.md", title="News", **shared)
    brief = {"title": "Zebra Briefing", "visibility": "partners", **shared}
    path = write_post("brief.md", **brief)
    builder = Builder(settings)
    builder.reload(NOW)
    snapshot: Any = builder.snapshot
    brief_id = snapshot.partners.catalog.by_slug["brief"].id
    public = {url: f.body for url, f in snapshot.files.items()}
    if how == "deleted":
        path.unlink()
    else:
        write_post("brief.md", draft="true", **brief)
    report: Any = builder.reload(LATER)
    snapshot = builder.snapshot
    assert report.written == () and {url: f.body for url, f in snapshot.files.items()} == public
    client = create_app(settings, builder).test_client()
    never = client.get("/posts/never-was/")
    gone = client.get("/posts/brief/")
    assert (gone.status_code, gone.data) == (404, never.data)
    for feed in ["all", "category/desk", "tag/t", "author/zed"]:
        body = snapshot.partners.file(f"{feed}.atom").body
        check_atom(body)
        assert tombstones(body) == [(brief_id, LATER.isoformat())], feed


def test_a_public_post_made_for_partners_only_leaves_the_public_with_a_tombstone(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """Public, then ``visibility: partners``: each public Atom feed that held it says it was withdrawn (its id was
    public) and its page is 410, while the partner feeds keep it; public again, it comes back under its id; deleted
    while for partners, its public tombstone keeps the time it left the public."""
    shared = {"title": "Border Talks", "categories": "[Desk]", "tags": "[T]", "author": "Zed"}
    write_post("news.md", title="News", categories="[Desk]", tags="[T]", author="Zed")
    path = write_post("talks.md", **shared)
    builder = Builder(settings)
    builder.reload(NOW)
    snapshot: Any = builder.snapshot
    talks_id = snapshot.catalog.by_slug["talks"].id
    feeds = ["all", "category/desk", "tag/t", "author/zed"]
    client = create_app(settings, builder).test_client()

    write_post("talks.md", visibility="partners", **shared)
    builder.reload(LATER)
    snapshot = builder.snapshot
    for feed in feeds:
        body = snapshot.files[f"/feeds/{feed}.atom"].body
        check_atom(body)
        assert tombstones(body) == [(talks_id, LATER.isoformat())], feed
        assert b"Border Talks" not in body and b"Border Talks" not in snapshot.files[f"/feeds/{feed}.rss"].body
        partner = snapshot.partners.file(f"{feed}.atom").body
        assert tombstones(partner) == [] and talks_id in [e.id for e in feedparser.parse(partner).entries], feed
    assert client.get("/posts/talks/").status_code == 410

    again = LATER + timedelta(hours=1)
    write_post("talks.md", **shared)
    builder.reload(again)
    snapshot = builder.snapshot
    for feed in feeds:
        body = snapshot.files[f"/feeds/{feed}.atom"].body
        assert tombstones(body) == [] and talks_id in [e.id for e in feedparser.parse(body).entries], feed
        assert entry_updated(builder, f"/feeds/{feed}.atom")["Border Talks"] == again.isoformat()  # after its stone
    assert client.get("/posts/talks/").status_code == 200

    withdrawn = again + timedelta(hours=1)
    write_post("talks.md", visibility="partners", **shared)
    builder.reload(withdrawn)
    path.unlink()
    builder.reload(withdrawn + timedelta(hours=1))
    snapshot = builder.snapshot
    for feed in feeds:
        assert tombstones(snapshot.files[f"/feeds/{feed}.atom"].body) == [(talks_id, withdrawn.isoformat())], feed
        later = (withdrawn + timedelta(hours=1)).isoformat()
        assert tombstones(snapshot.partners.file(f"{feed}.atom").body) == [(talks_id, later)], feed
    assert client.get("/posts/talks/").status_code == 410


def test_a_withdrawn_posts_public_traces_stay_as_the_public_last_saw_it(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """Made for partners only and then moved (another category, no tag, an `id` and a `slug` of its own, another
    date): its public tombstone stays in the feeds that held it, under the id they knew, at its place in their
    archive pages, and its old address stays 410; nothing of what the partners' post became reaches a public feed
    or address. Before, each private edit moved the public tombstone (the new id and category were published, the
    feeds that held it never heard of its going) and the old address answered 404, the new one 410."""
    settings = replace(settings, archive_page_size=1)
    talks = {"title": "Border Talks", "date": "2025-02-01T00:00:00Z", "categories": "[Desk]"}
    write_post("news.md", title="News", date="2025-01-01T00:00:00Z", categories="[Desk]", tags="[T]")
    write_post("talks.md", tags="[T]", **talks)
    builder = Builder(settings)
    builder.reload(NOW)
    snapshot: Any = builder.snapshot
    talks_id = snapshot.catalog.by_slug["talks"].id
    write_post("talks.md", visibility="partners", **talks)
    builder.reload(LATER)
    snapshot = builder.snapshot
    public = {url: f.body for url, f in snapshot.files.items()}
    assert tombstones(public["/feeds/category/desk.atom"]) == [(talks_id, LATER.isoformat())]
    secret = {"title": "Border Talks", "visibility": "partners", "categories": "[Secretdesk]", "tags": "[]"}
    write_post("talks.md", date="2025-03-09T00:00:00Z", id="urn:secret-id", slug="secret-slug", **secret)
    builder.reload(LATER + timedelta(hours=1))
    snapshot = builder.snapshot
    assert {url: f.body for url, f in snapshot.files.items()} == public
    for body in public.values():
        assert b"secret" not in body.lower()
    assert snapshot.partners.catalog.by_slug["secret-slug"].id == "urn:secret-id"
    client = create_app(settings, builder).test_client()
    assert client.get("/posts/talks/").status_code == 410
    assert client.get("/posts/secret-slug/").status_code == 404


def test_a_vanished_category_answers_410(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A category whose last post went: its feeds, archive pages and page answer 410 (to partners too); /healthz
    lists it."""
    write_post("a.md", title="A", categories="[Politics]")
    write_post("b.md", title="B", categories="[Other]")
    builder = Builder(settings)
    builder.reload(NOW)
    write_post("a.md", title="A", categories="[Other]")
    builder.reload(LATER)
    partners = PartnerStore(settings.state_dir)
    partners.add("acme", token_hash("t0ken"), NOW.timestamp())
    client = create_app(settings, builder, partners=partners).test_client()
    for path in ["/feeds/category/politics.atom", "/feeds/category/politics.rss", "/feeds/category/politics.json"]:
        assert client.get(path).status_code == 410, path
        assert client.get(f"/partners{path}", headers={"Authorization": "Bearer t0ken"}).status_code == 410, path
    assert client.get("/feeds/category/politics/archive/1.atom").status_code == 410
    partner_page = client.get(
        "/partners/feeds/category/politics/archive/1.atom", headers={"Authorization": "Bearer t0ken"}
    )
    assert partner_page.status_code == 410
    assert (
        client.get("/partners/feeds/category/never-was.atom", headers={"Authorization": "Bearer t0ken"}).status_code
        == 404
    )
    assert client.get("/category/politics/").status_code == 410
    assert client.get("/category/never-was/").status_code == 404
    assert client.get("/healthz").get_json()["gone"] == ["category/politics"]
    again = Builder(settings)  # a new process knows it too
    again.reload(LATER)
    assert create_app(settings, again).test_client().get("/category/politics/").status_code == 410
    renamed = replace(settings, redirects=Redirects({"category": {"politics": "other"}}))  # redirected: not gone
    redirected = create_app(renamed, again).test_client()
    assert redirected.get("/category/politics/").status_code == 301
    assert redirected.get("/healthz").get_json()["gone"] == []


def test_rights_and_licenses_in_every_format(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """site_rights -> Atom rights and RSS copyright; a post's license -> link rel=license (JSON: _license)."""
    settings = make_settings(site_rights="© 2026 The Monitor")
    write_post("a.md", title="A", license="https://creativecommons.org/licenses/by/4.0/")
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    files = builder.snapshot.files
    atom = feedparser.parse(files["/feeds/all.atom"].body)
    assert atom.feed.rights == "© 2026 The Monitor"
    assert [link.href for link in atom.entries[0].links if link.rel == "license"] == [
        "https://creativecommons.org/licenses/by/4.0/"
    ]
    rss = etree.fromstring(files["/feeds/all.rss"].body)
    assert rss.findtext("channel/copyright") == "© 2026 The Monitor"
    assert rss.find(f"channel/item/{ATOM}link[@rel='license']") is not None
    item = json.loads(files["/feeds/all.json"].body)["items"][0]
    assert item["_license"] == {"url": "https://creativecommons.org/licenses/by/4.0/"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_check_partner_lists_what_falls_short(
    settings: Settings, write_post: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    """`check --partner NAME` names each post or feed short of a documented rule, with the page it comes from."""
    write_post("a.md", title="A", body="Short.\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(f'posts_dir = "{settings.posts_dir}"\nstate_dir = "{settings.state_dir}"\n')
    result = CliRunner().invoke(cli, ["check", "--config", "s.toml", "--partner", platform])
    lines = result.stdout.splitlines()
    assert lines and all(f"{platform} " in line and "(https://" in line for line in lines), lines
    required = any(" required: " in line for line in lines)
    assert result.exit_code == (1 if required else 0)
    assert all(rule.source.startswith("https://") for rule in RULES)
    unknown = CliRunner().invoke(cli, ["check", "--config", "s.toml", "--partner", "myspace"])
    assert unknown.exit_code == 1 and "known: flipboard" in unknown.output


def test_every_time_in_every_format_is_whole_seconds(settings: Settings, write_post: Callable[..., Path]) -> None:
    """An edit seen at .466698 s, a deletion and a front matter fraction are written in whole seconds, never earlier.

    ROME (under many Java readers) reads a fraction of six digits as milliseconds: minutes late.
    """
    write_post("a.md", title="A", body="First words.\n")
    write_post("b.md", title="B", date="2025-06-02T10:00:00.25Z")
    write_post("c.md", title="C")
    Builder(settings).reload(NOW)
    write_post("a.md", title="A", body="Corrected words.\n")
    (settings.posts_dir / "c.md").unlink()
    seen = LATER.replace(hour=16, minute=20, second=27, microsecond=466698)
    builder = Builder(settings)
    builder.reload(seen)
    assert builder.snapshot is not None
    files = builder.snapshot.files
    atom = etree.fromstring(files["/feeds/all.atom"].body)
    times = [e.text for e in atom.iter(ATOM + "updated", ATOM + "published")]
    times += [e.get("when") for e in atom.iter(AT + "deleted-entry")]
    document = json.loads(files["/feeds/all.json"].body)
    times += [item[key] for item in document["items"] for key in ("date_published", "date_modified")]
    assert times and all(t is not None and "." not in t for t in times)
    assert entry_updated(builder)["A"] == "2026-01-03T16:20:27+00:00"  # the edit, when first seen
    assert entry_updated(builder)["B"] == "2025-06-02T10:00:01+00:00"  # a fraction rounds up, never earlier
    assert atom.find(AT + "deleted-entry").get("when") == "2026-01-03T16:20:27+00:00"
    rss = files["/feeds/all.rss"].body
    assert b"16:20:27 +0000" in rss and b"10:00:01 +0000" in rss
