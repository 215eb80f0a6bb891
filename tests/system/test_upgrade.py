"""A site built by the release of 2026-12-01 (commit 7107944), built and served by this one: what readers,
partners and the public saw is kept, and nothing only partners saw reaches the public.

``tests/data/upgrade`` is that release's own output for four posts (two for everyone, two for partners only):
its config, posts, output_dir and the state files it wrote (``build`` with ``PYTHONPATH`` on that checkout). Its
ledger (version 3) does not mark the posts for partners only.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
from defusedxml import ElementTree

RELEASE = Path(__file__).parent.parent / "data" / "upgrade"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
PUBLIC_IDS = {
    "ferry-timetable": "tag:harbour.example,2026-11-20:/posts/ferry-timetable",
    "pier-closure": "tag:harbour.example,2026-11-22:/posts/pier-closure",
}
PARTNERS_ONLY = ("berth-fees", "dredging-bids", "Berth fees", "Dredging bids")


def released_site(folder: Path) -> Path:
    site = folder / "site"
    shutil.copytree(RELEASE, site)
    return site


def tombstones(feed: Path) -> dict[str, str]:
    return {stone.get("ref", ""): stone.get("when", "") for stone in ElementTree.parse(feed).getroot().iter(TOMBSTONE)}


def test_the_releases_site_keeps_its_ids_and_leaks_no_post_for_partners(
    tmp_path: Path, run_cli: Callable[..., Any], start_server: Callable[..., Any]
) -> None:
    """A post for partners only, kept or deleted at the upgrade, gets no public tombstone and no 410 (the older
    ledger's record of it read as a public post's gave both, naming its id, slug and date); a public post deleted
    at the upgrade gets its tombstone and 410; the public entries keep their ids; the ledger is written again in
    this release's version, marking the posts for partners."""
    site = released_site(tmp_path)
    (site / "posts" / "2026-11-22-pier-closure.md").unlink()
    (site / "posts" / "2026-11-25-dredging-bids.md").unlink()
    built = run_cli("build", cwd=site, timeout=120)
    assert built.returncode == 0, built.stderr

    for public in sorted((site / "feeds").rglob("*")):
        if public.is_file() and public.suffix != ".gz":
            text = public.read_text(encoding="utf-8", errors="replace")
            assert not [word for word in PARTNERS_ONLY if word in text], public
    feed = site / "feeds" / "all.atom"
    assert [entry.id for entry in feedparser.parse(feed.read_bytes()).entries] == [PUBLIC_IDS["ferry-timetable"]]
    assert set(tombstones(feed)) == {PUBLIC_IDS["pier-closure"]}
    assert set(tombstones(site / "feeds" / "category" / "ferries.atom")) == {PUBLIC_IDS["pier-closure"]}

    ledger = json.loads((site / "state" / "ledger.json").read_bytes())
    assert ledger["version"] > 3
    fees, timetable = ledger["posts"]["2026-11-24-berth-fees.md"], ledger["posts"]["2026-11-20-ferry-timetable.md"]
    assert fees.get("partners_only") is True and "withdrawn" not in fees and "partners_only" not in timetable

    added = run_cli("partners", "add", "harbour-ops", cwd=site, timeout=60)
    assert added.returncode == 0, added.stderr
    server = start_server(site)
    assert server.get("/posts/berth-fees/").status_code == 404
    assert server.get("/posts/dredging-bids/").status_code == 404
    assert server.get("/posts/pier-closure/").status_code == 410
    assert server.get("/posts/ferry-timetable/").status_code == 200
    partners = server.get("/partners/feeds/all.atom", headers={"Authorization": f"Bearer {added.stdout.strip()}"})
    assert partners.status_code == 200
    parsed = feedparser.parse(partners.content)
    assert {entry.title for entry in parsed.entries} == {"Winter ferry timetable", "Berth fees for operators, 2027"}
    stones = {stone.get("ref") for stone in ElementTree.fromstring(partners.content).iter(TOMBSTONE)}
    assert stones == {PUBLIC_IDS["pier-closure"], "tag:harbour.example,2026-11-25:/posts/dredging-bids"}
    assert not [word for word in PARTNERS_ONLY if word in server.get("/healthz").text]


def test_the_releases_site_changes_no_public_entry_it_built(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """Nothing changed since the release's build: the public entries keep their ids, dates and titles, and a
    second build of this release writes nothing (the ledger, rewritten once, is read as this release's)."""
    site = released_site(tmp_path)
    before = feedparser.parse((site / "feeds" / "all.atom").read_bytes())
    assert run_cli("build", cwd=site, timeout=120).returncode == 0
    after = feedparser.parse((site / "feeds" / "all.atom").read_bytes())
    assert [(e.id, e.title, e.published, e.updated) for e in after.entries] == [
        (e.id, e.title, e.published, e.updated) for e in before.entries
    ]
    assert not tombstones(site / "feeds" / "all.atom")
    again = run_cli("build", cwd=site, timeout=120)
    assert again.returncode == 0 and " 0 written, " in again.stdout, again.stdout
