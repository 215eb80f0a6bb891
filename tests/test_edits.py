"""What counts as an edit: what a reader can tell apart, not the bytes of the file (a checkout with CRLF line
endings, an editor trimming trailing spaces, blank lines at the end leave every entry as it was)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import feedparser

from support.factories import NOW
from syndicator.config import Settings
from syndicator.core.ledger import words_of
from syndicator.digest import digest_text
from syndicator.service.build import Builder

LATER = NOW + timedelta(days=3)
POST = (
    "---\ntitle: Roads east\ndate: 2025-05-01T09:00:00Z\ncategories: [Travel]\n---\n\n"
    "The road climbs.\nThen it falls.\n\nContinue reading\n\nThe pass is open in July.\n"
)


def updated_of(settings: Settings) -> str:
    """The one entry's `updated` in the site's Atom feed."""
    (entry,) = feedparser.parse((settings.output_dir / "all.atom").read_bytes()).entries
    return str(entry.updated)


def rebuilt(settings: Settings, path: Path, text: str) -> str:
    """The entry's `updated` after the file is written as ``text`` (bytes as given) and a new builder reloads later."""
    path.write_bytes(text.encode("utf-8"))
    Builder(settings).reload(LATER)
    return updated_of(settings)


def test_line_endings_trailing_spaces_and_blank_lines_are_no_edit(settings: Settings) -> None:
    """CRLF (git's core.autocrlf), spaces at a paragraph's end, blank lines before and after the body: the entry keeps
    its `updated`, and no feed file is written again."""
    path = settings.posts_dir / "roads.md"
    path.write_text(POST)
    Builder(settings).reload(NOW)
    published, feed = updated_of(settings), (settings.output_dir / "all.atom").read_bytes()
    for text in (
        POST.replace("\n", "\r\n"),
        POST.replace("falls.\n", "falls.   \n").replace("July.\n", "July.\t\n"),
        POST.replace("---\n\n", "---\n\n\n\n") + "\n\n  \n",
    ):
        assert rebuilt(settings, path, text) == published, repr(text)
        assert (settings.output_dir / "all.atom").read_bytes() == feed


def test_a_line_break_or_a_word_is_an_edit(settings: Settings) -> None:
    """Two spaces before a line that goes on make a line break a reader sees: an edit, dated now; so is a word."""
    path = settings.posts_dir / "roads.md"
    path.write_text(POST)
    Builder(settings).reload(NOW)
    published = updated_of(settings)
    assert rebuilt(settings, path, POST.replace("climbs.\n", "climbs.  \n")) != published
    path.write_text(POST)
    builder = Builder(settings)
    builder.reload(NOW)
    assert rebuilt(settings, path, POST.replace("July", "June")) != published


def test_a_ledger_recorded_before_these_rules_sees_no_edit(settings: Settings) -> None:
    """A ledger written by an earlier release holds the digest of the file's bytes: a CRLF post it recorded is
    unchanged to it (no `updated` moved at the upgrade), and its record takes the digest as a reader reads it."""
    path = settings.posts_dir / "roads.md"
    path.write_bytes(POST.replace("\n", "\r\n").encode())
    builder = Builder(settings)
    builder.reload(NOW)
    (post,) = builder.snapshot.catalog.posts  # type: ignore[union-attr]
    assert post.text.written_key  # type: ignore[attr-defined]  # the bytes differ from what a reader reads
    ledger_file = settings.state_dir / "ledger.json"
    ledger = json.loads(ledger_file.read_text())
    (record,) = ledger["posts"].values()
    record["content"] = digest_text(post.title, post.text.written_key)  # type: ignore[attr-defined]
    ledger_file.write_text(json.dumps(ledger))
    (settings.state_dir / "ledger.journal").unlink(missing_ok=True)
    published = updated_of(settings)
    later = Builder(settings)
    later.reload(LATER)
    assert updated_of(settings) == published
    (record,) = json.loads(ledger_file.read_text())["posts"].values()
    assert record["content"] == words_of(post)


def test_an_updated_in_the_future_waits_for_its_time(settings: Settings) -> None:
    """`updated: 2030-01-01` on a post of 2025 (a typo for 2025): until 2030 the entry is dated as if no `updated`
    were given, with a warning on its line; mended to `2025-05-03`, the entry takes it (the ledger let no date go
    back, so the typo stayed for good); left as it is, it applies once its time comes."""
    path = settings.posts_dir / "roads.md"
    path.write_text(POST.replace("categories:", "updated: 2030-01-01T00:00:00Z\ncategories:"))
    report = Builder(settings).reload(NOW)
    assert updated_of(settings) == "2025-05-01T09:00:00+00:00"
    assert [(p.line, p.message, p.fatal) for p in report.problems] == [
        (
            4,
            "updated 2030-01-01T00:00:00Z is in the future: the entry is dated as if no updated were given until then",
            False,
        )
    ]
    path.write_text(POST.replace("categories:", "updated: 2025-05-03T00:00:00Z\ncategories:"))
    assert not Builder(settings).reload(LATER).problems
    assert updated_of(settings) == "2025-05-03T00:00:00+00:00"
    path.write_text(POST.replace("categories:", "updated: 2030-01-01T00:00:00Z\ncategories:"))
    Builder(settings).reload(NOW.replace(year=2030, month=6))
    assert updated_of(settings) == "2030-01-01T00:00:00+00:00"
