"""Ids never churn: the ledger keeps published ids through slug, date and host changes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import feedparser
from click.testing import CliRunner

from support.factories import NOW
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.core.ledger import Record
from syndicator.core.ledgerfile import apply_journal
from syndicator.core.ledgerfile import dumps
from syndicator.core.ledgerfile import entry_line
from syndicator.core.ledgerfile import journal_head
from syndicator.core.ledgerfile import journal_line
from syndicator.core.ledgerfile import loads
from syndicator.core.ledgerfile import written_lines
from syndicator.service.build import Builder
from syndicator.service.build import ReloadError
from syndicator.service.http.app import create_app
from syndicator.store.state import LEDGER_FILE
from syndicator.store.state import LEDGER_JOURNAL_FILE
from syndicator.store.state import read_ledger


def ids(builder: Builder) -> list[str]:
    assert builder.snapshot is not None
    return [e.id for e in feedparser.parse(builder.snapshot.files["/feeds/all.atom"].body).entries]


def test_slug_change_keeps_the_id_and_redirects_the_old_url(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """Same file, new slug: same entry id; /posts/<old>/ answers 301 to the new URL."""
    write_post("2025-06-01-old-name.md", title="Post")
    builder = Builder(settings)
    builder.reload(NOW)
    first = ids(builder)
    assert first == ["tag:example.org,2025-06-01:/posts/old-name"]
    write_post("2025-06-01-old-name.md", title="Post, renamed", slug="new-name")
    builder.reload(NOW)
    assert ids(builder) == first
    client = create_app(settings, builder).test_client()
    response = client.get("/posts/old-name/")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/posts/new-name/")
    assert client.get("/posts/new-name/").status_code == 200


def test_ids_survive_a_new_host_a_new_date_and_a_restart(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Moving the site to a new host or scheme, or redating a post, keeps its id (across processes)."""
    write_post("a.md", title="A", date="2025-06-01T10:00:00Z")
    old = Builder(make_settings(site_url="http://old.example"))
    old.reload(NOW)
    published = ids(old)
    write_post("a.md", title="A", date="2025-06-03T10:00:00Z")
    moved = Builder(make_settings(site_url="https://new.example"))
    moved.reload(NOW)
    assert ids(moved) == published == ["tag:old.example,2025-06-01:/posts/a"]


def test_a_changed_explicit_id_is_honoured_with_a_warning(
    settings: Settings, write_post: Callable[..., Path], monkeypatch: object, tmp_path: Path
) -> None:
    """Editing `id:` changes the entry, and `check` warns that readers will see a new one."""
    write_post("a.md", title="A", id="urn:one")
    Builder(settings).reload(NOW)
    write_post("a.md", title="A", id="urn:two")
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert ids(builder) == ["urn:two"]
    assert [p.message for p in report.problems] == [
        "id changes from published 'urn:one' to 'urn:two': readers will see a new entry"
    ]
    assert not report.failed


def test_check_warns_before_an_edit_changes_a_published_id(
    tmp_path: Path, write_post: Callable[..., Path], monkeypatch: object
) -> None:
    """`syndicator check` reads the ledger and flags the change (exit 1)."""
    monkeypatch.chdir(tmp_path)  # type: ignore[attr-defined]
    runner = CliRunner()
    write_post("a.md", title="A", id="urn:one")
    assert runner.invoke(cli, ["build"]).exit_code == 0
    edited = write_post("a.md", title="A", id="urn:two")
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 1
    line = edited.read_text().splitlines().index("id: urn:two") + 1  # said on the line of the id
    assert f"posts/a.md:{line}: warning: id changes from published 'urn:one' to 'urn:two'" in result.stdout


def test_corrupt_ledger_is_rebuilt_with_a_warning(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A corrupt ledger file is reported once and rebuilt from the posts."""
    write_post("a.md", title="A")
    ledger_file = settings.state_dir / LEDGER_FILE
    ledger_file.parent.mkdir(parents=True)
    ledger_file.write_bytes(b"{not json")
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert [p.message.split(" (")[0] for p in report.problems] == ["ledger unreadable"]
    assert report.posts == 1
    assert list(loads(ledger_file.read_bytes())) == ["a.md"]
    assert builder.reload(NOW).problems == ()


def test_missing_ledger_is_rebuilt_silently(settings: Settings, write_post: Callable[..., Path]) -> None:
    """No ledger yet: it is written on the first load, without a warning."""
    write_post("sub/a.md", title="A")
    report = Builder(settings).reload(NOW)
    assert report.problems == ()
    document = json.loads((settings.state_dir / LEDGER_FILE).read_bytes())
    record = {
        "id": "tag:example.org,2025-06-01:/posts/a",
        "slug": "a",
        "former_slugs": [],
        "title": "A",
        "date": "2025-06-01T10:00:00+00:00",
        "content": document["posts"]["sub/a.md"]["content"],
        "updated": "2025-06-01T10:00:00+00:00",
        "stems": ["all", "author/test-site"],
    }
    assert document == {"version": 4, "posts": {"sub/a.md": record}}


def test_drafts_and_future_posts_are_not_recorded(settings: Settings, write_post: Callable[..., Path]) -> None:
    """Only published posts enter the ledger."""
    write_post("draft.md", title="D", draft="true")
    write_post("later.md", title="L", date="2099-01-01")
    write_post("live.md", title="Live")
    Builder(settings).reload(NOW)
    assert list(loads((settings.state_dir / LEDGER_FILE).read_bytes())) == ["live.md"]


def test_round_trip() -> None:
    """dumps and loads agree, every field kept (a deleted post's time, one for partners only and when it was
    withdrawn from the public)."""
    ledger = {
        "a.md": Record("urn:a", "a", ("old",)),
        "b.md": Record("urn:b", "b", stems=("all",), deleted="2026-01-02T03:04:05+00:00"),
        "c.md": Record("urn:c", "c", partners_only=True, withdrawn="2026-01-02T03:04:05+00:00"),
    }
    assert loads(dumps(ledger)) == ledger


def test_a_new_builder_writes_the_unchanged_lines_of_the_ledger_file_as_they_were(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A new process (a one-post ``build``) reuses each unchanged post's line as the file has it; an edited post's
    line is made anew; a file of another layout gives no line to reuse, and the file written is the same."""
    for name in ("a", "b", "c"):
        write_post(f"{name}.md", title=name.upper(), body=f"{name} first")
    Builder(settings).reload(NOW)
    ledger_file = settings.state_dir / LEDGER_FILE
    data = ledger_file.read_bytes()
    assert written_lines(data, loads(data)) == {s: entry_line(s, r) for s, r in loads(data).items()}
    assert written_lines(data.replace(b",\n", b",\n\n", 1), loads(data)) == {}
    assert written_lines(data.replace(b'"version":', b'"version": '), loads(data)) == {}
    marked = data.replace(b'"slug":"a"', b'"slug":"a" ')  # the same record, another spelling: kept as it is
    ledger_file.write_bytes(marked)
    write_post("b.md", title="B", body="b second")
    builder = Builder(settings)
    builder.reload(NOW)
    written = ledger_file.read_bytes()
    assert b'"slug":"a" ' in written
    assert (
        loads(written) == builder.state.ledger and builder.state.ledger["b.md"].content != loads(data)["b.md"].content
    )


def test_the_ledger_file_follows_each_edit_and_removal(settings: Settings, write_post: Callable[..., Path]) -> None:
    """A reload rewrites only the edited post's line, yet the file always says what the builder holds."""
    for name in ("a", "b", "c"):
        write_post(f"{name}.md", title=name.upper(), body=f"{name} first")
    builder = Builder(settings)
    builder.reload(NOW)
    ledger_file = settings.state_dir / LEDGER_FILE
    first = loads(ledger_file.read_bytes())
    write_post("b.md", title="B", body="b second")
    builder.reload(NOW)
    second = loads(ledger_file.read_bytes())
    assert second == builder.state.ledger
    assert ledger_file.read_bytes() == dumps(builder.state.ledger)
    assert second["b.md"].content != first["b.md"].content
    assert {k: v for k, v in second.items() if k != "b.md"} == {k: v for k, v in first.items() if k != "b.md"}
    (settings.posts_dir / "c.md").unlink()
    builder.reload(NOW)
    third = loads(ledger_file.read_bytes())
    assert third == builder.state.ledger
    assert third["c.md"].deleted and not third["b.md"].deleted
    assert third["b.md"] == second["b.md"]
    assert ledger_file.read_bytes() == dumps(builder.state.ledger)


def test_a_lost_ledger_and_a_new_slug_keep_the_id_by_title_and_date(
    settings: Settings, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """Ledger lost while a file was renamed: the post's id is found again by its title and date; the old URL 301s."""
    write_post("2025-06-01-trip.md", title="Trip", date="2025-06-01T10:00:00Z")
    write_post("2025-06-01-market.md", title="Market", date="2025-06-01T12:00:00Z")
    builder = Builder(settings)
    builder.reload(NOW)
    published = ids(builder)
    (settings.state_dir / LEDGER_FILE).unlink()
    (posts_dir / "2025-06-01-trip.md").rename(posts_dir / "2025-06-01-journey.md")
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert not isinstance(report, ReloadError), report
    assert sorted(ids(builder)) == sorted(published)
    assert "tag:example.org,2025-06-01:/posts/trip" in ids(builder)
    response = create_app(settings, builder).test_client().get("/posts/trip/")
    assert response.status_code == 301 and response.headers["Location"].endswith("/posts/journey/")


def test_a_lost_ledger_refuses_a_post_it_cannot_tell_from_a_published_one(
    tmp_path: Path, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """Ledger lost while a post's title and slug changed: `build` names the post and the id, and writes nothing."""
    config = tmp_path / "s.toml"
    config.write_text(
        f'posts_dir = "{posts_dir}"\noutput_dir = "{tmp_path / "feeds"}"\nstate_dir = "{tmp_path / "state"}"\n'
        'site_url = "https://example.org"\n'
    )
    runner = CliRunner()
    write_post("2025-06-01-trip.md", title="Trip", date="2025-06-01T10:00:00Z")
    assert runner.invoke(cli, ["build", "--config", str(config)]).exit_code == 0
    before = (tmp_path / "feeds" / "all.atom").read_bytes()
    shutil.rmtree(tmp_path / "state")
    (posts_dir / "2025-06-01-trip.md").unlink()
    write_post("2025-06-01-journey.md", title="Journey", date="2025-06-01T10:00:00Z")
    write_post("2025-06-09-new.md", title="New", date="2025-06-09T10:00:00Z")  # no published post that day
    result = runner.invoke(cli, ["build", "--config", str(config)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "Traceback" not in result.output
    assert "2025-06-01-journey.md" in line and "tag:example.org,2025-06-01:/posts/trip" in line
    assert "2025-06-09-new.md" not in line
    assert (tmp_path / "feeds" / "all.atom").read_bytes() == before
    write_post(
        "2025-06-01-journey.md",
        title="Journey",
        date="2025-06-01T10:00:00Z",
        id="'tag:example.org,2025-06-01:/posts/trip'",
    )
    result = runner.invoke(cli, ["build", "--config", str(config)])
    assert result.exit_code == 0, result.output
    entries = {e.title: e.id for e in feedparser.parse(tmp_path / "feeds" / "all.atom").entries}
    assert entries == {
        "Journey": "tag:example.org,2025-06-01:/posts/trip",
        "New": "tag:example.org,2025-06-09:/posts/new",
    }


def test_a_renamed_post_file_keeps_its_id_and_its_old_url(settings: Settings, write_post: Callable[..., Path]) -> None:
    """Renaming a file (its slug comes from the name) keeps the entry id; the old URL answers 301."""
    old = write_post("2025-06-01-first-name.md", title="Same title")
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    published = builder.snapshot.catalog.posts[0].id
    old.rename(old.with_name("2025-06-01-better-name.md"))
    builder.reload(NOW)
    assert [(p.slug, p.id) for p in builder.snapshot.catalog.posts] == [("better-name", published)]
    client = create_app(settings, builder).test_client()
    moved = client.get("/posts/first-name/")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/posts/better-name/")
    again = Builder(settings)  # a new process reads the same from the ledger
    again.reload(NOW)
    assert again.snapshot is not None and again.snapshot.catalog.posts[0].id == published


def test_a_journal_left_by_a_crash_is_read_with_the_ledger_file_it_follows(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A server's reload appends its changed lines to the journal before its answer and writes the file whole after;
    a crash between leaves the journal, which the next start applies (and writes whole), unless it follows another
    file, and up to a line cut short."""
    for name in ("a", "b", "c"):
        write_post(f"{name}.md", title=name.upper(), body=f"{name} first")
    Builder(settings).reload(NOW)
    ledger_file, journal = settings.state_dir / LEDGER_FILE, settings.state_dir / LEDGER_JOURNAL_FILE
    before = ledger_file.read_bytes()
    write_post("a.md", title="A, edited", body="a second")
    (settings.posts_dir / "c.md").unlink()
    crashed = Builder(settings)
    crashed.reload(NOW, settle=False)  # answered; the process ends before it settles
    assert ledger_file.read_bytes() == before and journal.is_file()
    held = dict(crashed.state.ledger)
    assert held["a.md"].title == "A, edited" and held["c.md"].deleted
    assert read_ledger(settings)[0] == held, "the file and its journal say what the builder held"
    with journal.open("ab") as file:
        file.write(b'"b.md":{"id":"tag:cut')  # a line cut short: the rest of the journal stands
    assert read_ledger(settings)[0] == held
    restarted = Builder(settings)
    restarted.reload(NOW)
    assert loads(ledger_file.read_bytes()) == held and not journal.exists()
    assert ids(restarted) == ids(crashed)


def test_a_journal_of_another_ledger_file_is_not_applied(settings: Settings, write_post: Callable[..., Path]) -> None:
    write_post("a.md", title="A")
    Builder(settings).reload(NOW)
    ledger_file, journal = settings.state_dir / LEDGER_FILE, settings.state_dir / LEDGER_JOURNAL_FILE
    record = loads(ledger_file.read_bytes())["a.md"]
    st = ledger_file.stat()
    other = (st.st_size, st.st_mtime_ns, st.st_ino + 1)
    journal.write_bytes(journal_head(other) + b"\n" + journal_line("a.md", replace(record, title="Stale")) + b"\n")
    assert read_ledger(settings)[0]["a.md"].title == "A"
    write_post("a.md", title="A, edited")
    builder = Builder(settings)
    builder.reload(NOW, settle=False)  # the journal is started afresh for this file
    assert read_ledger(settings)[0]["a.md"].title == "A, edited"
    assert journal.read_bytes().count(b"\n") == 2 and b"Stale" not in journal.read_bytes()
    builder.state.settle()
    assert loads(ledger_file.read_bytes())["a.md"].title == "A, edited" and not journal.exists()


def test_a_journal_line_of_null_removes_the_post() -> None:
    ledger = {"a.md": Record("id-a", "a", ()), "b.md": Record("id-b", "b", ())}
    lines = {source: entry_line(source, record) for source, record in ledger.items()}
    journal = b"\n".join(
        [journal_head((1, 2, 3)), journal_line("a.md", None), journal_line("c.md", Record("c", "c", ()))]
    )
    assert apply_journal(journal + b"\n", (1, 2, 3), ledger, lines)
    assert list(ledger) == ["b.md", "c.md"] and lines["c.md"] == journal_line("c.md", ledger["c.md"])
    assert not apply_journal(journal, (1, 2, 4), ledger, lines)
