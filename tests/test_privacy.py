"""Privacy keys fail closed, and a private post's problems never reach the public, whatever form they take."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from support.factories import NOW
from syndicator.config import Settings
from syndicator.core.privacy import near_miss
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.snapshot import PRIVATE_PROBLEM

MISSPELLED = "the post stays unpublished until the key is spelled right (or removed)"


@pytest.mark.parametrize(
    ("key", "value", "meant"),
    [
        ("Visibility", "partners", "visibility"),
        ("visiblity", "partners", "visibility"),
        ("VISIBILTY", "partners", "visibility"),
        ("Draft", "true", "draft"),
        ("drafts", "true", "draft"),
        ("DRAFT", "false", "draft"),
    ],
)
def test_a_misspelled_privacy_key_keeps_the_post_unpublished(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], key: str, value: str, meant: str
) -> None:
    """A key that is `draft` or `visibility` in another case or within two edits fails closed: the embargoed story is
    published nowhere, and the file has a problem on the key's line (private, like the story)."""
    write_post("public.md", title="Public")
    write_post("embargo.md", text=f"---\ntitle: Embargoed merger\ndate: 2025-06-01\n{key}: {value}\n---\nSecret.\n")
    settings = make_settings()
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 1
    assert [(Path(p.path).name, p.line, p.fatal, p.private) for p in report.problems] == [("embargo.md", 4, True, True)]
    assert report.problems[0].message == f"{key!r} looks like {meant!r} misspelled: {MISSPELLED}"
    written = b"".join(f.read_bytes() for f in settings.output_dir.rglob("*") if f.is_file())
    assert b"Embargoed" not in written and b"Secret." not in written
    assert builder.snapshot is not None
    assert all(b"Embargoed" not in file.body for file in builder.snapshot.files.values())


@pytest.mark.parametrize("key", ["date", "data", "title", "type", "layout", "drafted-by-me", "visible", "tags"])
def test_other_keys_are_not_taken_for_privacy_keys(key: str) -> None:
    """Keys that are not within two edits of `draft` or `visibility` are only unknown keys (or known ones)."""
    assert near_miss(key) is None


def healthz(settings: Settings, builder: Builder) -> dict[str, Any]:
    body: dict[str, Any] = create_app(settings, builder).test_client().get("/healthz").get_json()
    return body


def test_healthz_never_names_a_post_for_partners_or_a_draft_whatever_its_problem(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Privacy is decided from the parsed post: a partners-only post's missing image and id change, and a draft
    written ``draft: "true"``, are listed without file, line or message; a public post's problem is listed whole."""
    write_post("public.md", title="Public", body="![gone](public-gone.png)\n")
    write_post("zebra-briefing.md", title="Zebra", visibility="partners", id="tag:x,2025:zebra-1", body="![](z.png)\n")
    write_post("2026-secret-merger.md", text='---\ntitle: Merger\ndate: 2025-06-01\ndraft: "true"\n---\nBody\n')
    write_post("quagga-plan.md", text="---\ntitle: Quagga\ndate: 2025-06-01\nvisibility: 'partners'\ndate: [\n---\nx\n")
    for name, value in [("okapi-layoffs", ""), ("okapi-null", "null"), ("okapi-zero", "0")]:  # no value, or not false
        write_post(f"{name}.md", text=f"---\ntitle: Okapi\ndate: 2025-06-01\ndraft: {value}\n---\nx\n")
    latin1 = "---\ntitle: Caf\u00e9 okapi\ndate: 2025-06-01\ndraft: true\n---\nx\n".encode("latin-1")
    (write_post("okapi-latin1.md", text="")).write_bytes(latin1)  # not UTF-8: its front matter read as it can be
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    write_post("zebra-briefing.md", title="Zebra", visibility="partners", id="tag:x,2025:zebra-2", body="![](z.png)\n")
    report = builder.reload(NOW)
    assert len(report.problems) == 9  # public image, zebra image and id change, the drafts, quagga's YAML
    body = healthz(settings, builder)
    text = json.dumps(body)
    for secret in ("zebra", "Zebra", "z.png", "secret", "merger", "Merger", "quagga", "Quagga", "okapi", "Okapi"):
        assert secret not in text, secret
    assert {"path": "public.md", "line": 5, "message": "refers to a missing file: public-gone.png"} in body["problems"]
    assert [p for p in body["problems"] if p["path"] is None] == [
        {"path": None, "line": 0, "message": PRIVATE_PROBLEM}
    ] * 8


def test_healthz_never_names_a_private_file_it_cannot_read_or_a_private_folder(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path, tmp_path: Path
) -> None:
    """A draft over max_post_bytes (its front matter read from its head), a FIFO or a link out named as a post (no
    words read: private, failing closed), a link leading out of a partners-only bundle's folder: listed without
    their names, which were shown (a draft's name is its story's). A public post's own are still shown whole."""
    write_post("public.md", title="Public")
    (tmp_path / "elsewhere").mkdir()
    (posts_dir / "public-photos").symlink_to(tmp_path / "elsewhere")
    write_post("2026-okapi-draft.md", title="Okapi", draft="true", body="x" * 5000)
    os.mkfifo(posts_dir / "2026-zebra-fifo.md")
    (tmp_path / "elsewhere" / "notes.md").write_text("---\ntitle: Notes\ndate: 2025-06-01\n---\nx\n")
    (posts_dir / "2026-zebra-outlink.md").symlink_to(tmp_path / "elsewhere" / "notes.md")
    write_post("2026-quagga-bundle/index.md", title="Quagga", visibility="partners")
    (posts_dir / "2026-quagga-bundle" / "photos").symlink_to(tmp_path / "elsewhere")
    write_post("big-public.md", title="Big public", body="y" * 5000)
    settings = make_settings(max_post_bytes=3000)
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert len(report.problems) == 6
    body = healthz(settings, builder)
    text = json.dumps(body)
    for secret in ("okapi", "zebra", "quagga"):
        assert secret not in text, secret
    shown = {p["path"] for p in body["problems"]}
    assert shown == {None, "public-photos", "big-public.md"}
    assert [p for p in body["problems"] if p["path"] is None] == [
        {"path": None, "line": 0, "message": PRIVATE_PROBLEM}
    ] * 4


def test_healthz_never_names_a_post_not_yet_due(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A scheduled post, never published, is not public until its time: its problems (its file's name, the values
    they quote) are listed as a draft's; once it is due they are shown whole."""
    write_post("2099-acme-launch.md", title="Launch", date="2099-02-01T00:00:00Z", categories="Secret Launch, Acme")
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    body = healthz(settings, builder)
    assert "acme" not in json.dumps(body).lower()
    assert body["problems"] == [{"path": None, "line": 0, "message": PRIVATE_PROBLEM}]
    builder.reload(datetime(2099, 2, 1, 0, 1, tzinfo=UTC))
    assert [p["path"] for p in healthz(settings, builder)["problems"]] == ["2099-acme-launch.md"]


def test_a_public_post_whose_file_now_says_it_is_private_is_withdrawn(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A takedown with a typo (`Draft: true`), or `draft: true` in front matter that no longer parses: the post was
    kept at its last good version, public, while `check` said it stays unpublished. It is withdrawn (a tombstone),
    failing closed; a public post whose file fails for another reason stays as it was, `draft: false` written out
    too (its problem shown whole: it is public)."""
    write_post("takedown.md", title="Takedown")
    write_post("broken.md", title="Broken")
    write_post("typo.md", title="Typo")
    write_post("public.md", title="Public", draft="false")
    builder = Builder(make_settings())
    builder.reload(NOW)
    write_post("takedown.md", text="---\ntitle: Takedown\ndate: 2025-06-01\nDraft: true\n---\nBody\n")
    write_post("broken.md", text="---\ntitle: Broken\ndate: 2025-06-01\ndraft: true\ntags: [\n---\nBody\n")
    write_post("typo.md", text="---\ntitle: Typo\ndate: 2025-06-01\ntags: [\n---\nBody\n")
    write_post("public.md", text="---\ntitle: Public\ndate: 2025-06-01\ndraft: false\ntags: [\n---\nBody\n")
    report = builder.reload(NOW)
    assert sorted((Path(p.path).name, p.private) for p in report.problems) == [
        ("broken.md", True),
        ("public.md", False),
        ("takedown.md", True),
        ("typo.md", False),
    ]
    assert builder.snapshot is not None
    assert sorted(post.title for post in builder.snapshot.catalog.posts) == ["Public", "Typo"]
    feed = builder.snapshot.files["/feeds/all.atom"].body
    assert feed.count(b"deleted-entry") == 2
