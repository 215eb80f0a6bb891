"""Hostile input: no script URL in any output, one bad file stops nothing else, build removes only its own files."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner
from lxml import etree

from support.factories import NOW
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

UNICODE_SPACES = [
    "\u00a0",
    "\u1680",
    *map(chr, range(0x2000, 0x200B)),
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
]
SPELLINGS = ["&#xa0;", "&nbsp;", " ", "&#x09;", "\t", "&#10;", "\x01", *UNICODE_SPACES]


def dangerous(value: str) -> bool:
    """Whether a browser would run or render this URL as script or a document (its own reading, not ours)."""
    cleaned = re.sub("[\t\n\r]", "", value).strip("".join(map(chr, range(0x21)))).lower()
    return cleaned.startswith(("javascript:", "vbscript:", "data:text/html", "data:"))


def html_urls(fragment: str) -> list[str]:
    """Every attribute value of an HTML fragment."""
    if not fragment.strip():
        return []
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return [value for element in root.iter() for value in element.attrib.values()]


def every_output(builder: Builder, settings: Settings) -> dict[str, str]:
    """Every feed file, plus the HTML pages, as text."""
    assert builder.snapshot is not None
    outputs = {
        path: f.body.decode()
        for path, f in builder.snapshot.files.items()
        if f.body is not None and not f.media_type.startswith("image/")  # the favicon: no text to look in
    }
    outputs.update(
        {p.relative_to(settings.output_dir).as_posix(): p.read_text() for p in settings.output_dir.rglob("*.atom")}
    )
    client = create_app(settings, builder).test_client()
    for page in ["/", "/posts/evil/", "/category/x/"]:
        response = client.get(page)
        assert response.status_code == 200, page
        outputs[page] = response.get_data(as_text=True)
    return outputs


def attribute_values(path: str, text: str) -> list[str]:
    """Attribute values of a document, and of the HTML it carries (feed content, JSON content_html)."""
    if path.endswith(".json"):
        document = json.loads(text)
        values: list[str] = []
        for item in document.get("items", []):
            values += html_urls(item.get("content_html", ""))
            values += [a.get("url", "") for a in item.get("authors", [])]
            values += [item.get("author", {}).get("url", ""), item.get("image", "")]
            values += [a.get("url", "") for a in item.get("attachments", [])]
        values += [document.get("icon", ""), document.get("favicon", "")]
        return values
    if path.endswith((".atom", ".rss", ".opml")):
        root = etree.fromstring(text.encode())
        values = [v for element in root.iter() for v in element.attrib.values()]
        for element in root.iter():
            if element.text and ("<" in element.text or element.tag.endswith("uri")):
                values += html_urls(element.text) if "<" in element.text else [element.text]
        return values
    return html_urls(text.split("<body>", 1)[-1].split("</body>")[0])


@pytest.mark.parametrize("space", SPELLINGS, ids=lambda s: f"U+{ord(s[0]):04X}" if len(s) == 1 else s)
def test_no_spelling_of_a_script_url_survives(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], space: str
) -> None:
    """No attribute of any feed, page or JSON value holds a javascript:, vbscript: or data: URL, however spelled."""
    body = (
        f'<a href="{space}javascript:alert(document.domain)">a</a> <a href="{space}JaVaScRiPt:alert(1)">b</a>\n\n'
        f'<blockquote cite="{space}javascript:alert(2)">quoted</blockquote>\n\n'
        f'<q cite="{space}vbscript:msgbox(1)">q</q> <img src="{space}data:text/html,<script>alert(3)</script>">\n\n'
        f'[md link]({space.strip() or ""}javascript:alert(4)) and <del cite="{space}javascript:x">gone</del>\n'
    )
    write_post(
        "evil.md",
        title="Evil",
        categories="[X]",
        author="{name: Mallory, uri: 'javascript:alert(5)'}",
        body=body,
    )
    settings = make_settings()
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 1
    assert any("author uri" in p.message for p in report.problems)
    for path, text in every_output(builder, settings).items():
        bad = [v for v in attribute_values(path, text) if dangerous(v)]
        assert not bad, (path, bad)


@pytest.mark.parametrize("space", SPELLINGS, ids=lambda s: f"U+{ord(s[0]):04X}" if len(s) == 1 else s)
def test_no_script_url_survives_in_media(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], space: str
) -> None:
    """Images, audio, video, srcset, ``image`` and ``enclosures`` carry no script URL, however it is spelled."""
    body = (
        f'<img src="ok.png" srcset="{space}javascript:alert(1) 1x, {space}data:text/html,x 2x">\n\n'
        f'<audio controls src="{space}javascript:alert(2)"></audio> <video poster="{space}JaVaScRiPt:alert(3)" '
        f'src="{space}vbscript:x"><source src="{space}data:text/html,<script>alert(4)</script>"></video>\n'
    )
    text = json.dumps(f"{space}javascript:alert(5)")
    write_post(
        "evil.md",
        title="Evil",
        categories="[X]",
        image=f"{{src: {text}, alt: x}}",
        enclosures=f"[{text}, {{url: {json.dumps(space + 'data:text/html,x')}}}]",
        body=body,
    )
    settings = make_settings()
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 1
    for path, text in every_output(builder, settings).items():
        bad = [v for v in attribute_values(path, text) if dangerous(v)]
        assert not bad, (path, bad)


def test_each_unreadable_file_is_a_problem_of_its_own(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path, tmp_path: Path
) -> None:
    """A non-UTF-8 name, a date out of range in UTC, a slug too long for a file name and a FIFO stop nothing else."""
    write_post("good.md", title="Good", categories="[Kept]")
    (posts_dir / os.fsdecode(b"caf\xe9.md")).write_text("---\ntitle: Cafe\ndate: 2025-01-01\n---\nHi\n")
    write_post("early.md", title="Early", date="0001-01-01T00:00:00+01:00")
    write_post("late.md", title="Late", date="9999-12-31T23:00:00-05:00")
    write_post("long-tag.md", title="Long", tags=f"[{'x' * 300}]")
    write_post("long-slug.md", title="Long slug", slug="s" * 240)
    settings = make_settings()
    report = Builder(settings).reload(NOW)
    assert report.posts == 1
    messages = {Path(p.path).name: p.message for p in report.problems}
    assert messages["caf\ufffd.md"].startswith("file name is not valid UTF-8")
    assert "out of range" in messages["early.md"] and "out of range" in messages["late.md"]
    assert "over 200 bytes" in messages["long-tag.md"]
    assert "over 200" in messages["long-slug.md"]
    assert all(p.line >= 1 for p in report.problems)


def test_symlinked_folders_are_followed_once(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A folder linking to itself or to its parent is no loop: every post is found once (SPEC, hostile input)."""
    write_post("a/one.md", title="One")
    write_post("a/b/two.md", title="Two", date="2025-06-02T10:00:00Z")
    for depth in range(4):
        (posts_dir / "a" / "b" / f"up{depth}").symlink_to(posts_dir)
    (posts_dir / "a" / "self").symlink_to(posts_dir / "a")
    report = Builder(make_settings()).reload(NOW)
    assert report.posts == 2 and report.problems == ()


def test_a_post_with_too_many_terms_is_reported_and_cut(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """More than 100 categories and tags: a warning, and only the first 100 make feeds."""
    names = ", ".join(f"C{n}" for n in range(1500))
    write_post("many.md", title="Many", categories=f"[{names}]", tags="[T1, T2]")
    settings = make_settings()
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 1 and report.categories == 100
    assert [p.message for p in report.problems] == ["1502 categories and tags; only the first 100 are used"]
    assert not report.problems[0].fatal
    assert len(list((settings.output_dir / "category").glob("*.atom"))) == 100
    assert not (settings.output_dir / "tag").exists()


def test_a_duplicate_front_matter_key_is_reported(settings: Settings, write_post: Callable[..., Path]) -> None:
    """YAML keeps the last of two equal keys; the file is told so, on the line of the second one."""
    write_post("dup.md", text="---\ntitle: First\ndate: 2025-01-01\ntitle: Second\n---\nBody\n")
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert [(p.line, p.message, p.fatal) for p in report.problems] == [
        (4, "'title' is given twice; the last value is used", False)
    ]
    assert builder.snapshot is not None and builder.snapshot.catalog.posts[0].title == "Second"


def test_a_newline_in_a_file_name_never_reaches_the_slug(settings: Settings, write_post: Callable[..., Path]) -> None:
    """The slug of ``post\\n.md`` is ``post``: a name is matched to its very end, not up to a final newline."""
    write_post("post\n.md", title="Post")
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.snapshot is not None
    assert [p.slug for p in builder.snapshot.catalog.posts] == ["post"]


def operator_files(root: Path) -> dict[str, str]:
    files = {
        "manifest.json": "{}",
        "api/data.json": "[1]",
        "podcast/episodes.rss": "<rss/>",
        "index.html": "<p>home</p>",
        "category/handmade.atom": "<feed/>",
        ".well-known/x.json": "{}",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "empty-folder").mkdir()
    return files


def test_build_removes_only_files_it_wrote(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """output_dir pointing at a web root: the operator's files and folders survive every build and prune."""
    root = tmp_path / "www"
    files = operator_files(root)
    write_post("a.md", title="A", categories="[Gone]")
    write_post("b.md", title="B", categories="[Stays]")
    settings = make_settings(output_dir=root)
    Builder(settings).reload(NOW)
    assert (root / "category" / "gone.atom").is_file()
    write_post("a.md", title="A", categories="[Stays]")
    report = Builder(settings).reload(NOW)  # a new process: what it may remove comes from state_dir
    assert "category/gone.atom" in report.removed
    assert not (root / "category" / "gone.atom").exists()
    for rel, text in files.items():
        assert (root / rel).read_text() == text, rel
    assert (root / "empty-folder").is_dir()


def test_output_dir_dot_keeps_the_state(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """output_dir = the project folder: the ledger and every other file there survive."""
    write_post("a.md", title="A", categories="[Gone]")
    settings = make_settings(output_dir=tmp_path, state_dir=tmp_path / ".syndicator")
    Builder(settings).reload(NOW)
    write_post("a.md", title="A", categories="[Other]")
    Builder(settings).reload(NOW)
    assert (tmp_path / ".syndicator" / "ledger.json").is_file()
    assert (tmp_path / "posts" / "a.md").is_file()
    assert not (tmp_path / "category" / "gone.atom").exists()


@pytest.mark.parametrize("site_url", ["https://example.org", "https://example.org/blog"])
def test_published_ids_survive_the_loss_of_state_dir(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path, site_url: str
) -> None:
    """Without its ledger, a build takes the ids back from the feeds it published (archives included), a site under
    a path too (its post pages at /blog/posts/…: none was recognised, and every post was published anew)."""
    settings = make_settings(feed_size=2, archive_page_size=2, site_url=site_url)
    for n in range(5):
        write_post(f"p{n}.md", title=f"P{n}", date=f"2025-06-0{n + 1}T10:00:00Z")
    Builder(settings).reload(NOW)
    published = {e.link: e.id for e in feedparser.parse(settings.output_dir / "all.atom").entries}
    for n in range(5):  # each post's date moves: its default id would change
        write_post(f"p{n}.md", title=f"P{n}", date=f"2024-06-0{n + 1}T10:00:00Z")
    (settings.state_dir / "ledger.json").unlink()
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert [p.message for p in report.problems] == [
        "ledger missing; 5 published ids recovered from the feeds in output_dir"
    ]
    ids = {}
    for path in ["all.atom", *(f"archive/{n}.atom" for n in (1, 2, 3))]:
        ids.update({e.link: e.id for e in feedparser.parse(settings.output_dir / path).entries})
    assert len(ids) == 5 and all(ids[link] == published_id for link, published_id in published.items())
    assert all(",2025-" in entry_id for entry_id in ids.values())


def test_an_unreadable_feed_without_a_ledger_refuses_the_build(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """Ledger gone and the published feed unreadable: `build` refuses with one line and writes nothing."""
    write_post("a.md", title="A")
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "all.atom").write_text("<feed")
    (tmp_path / "s.toml").write_text(f'posts_dir = "{tmp_path / "posts"}"\n')
    result = CliRunner().invoke(cli, ["build", "--config", str(tmp_path / "s.toml")])
    assert result.exit_code == 1
    assert "ids published in" in result.output and "Traceback" not in result.output
    assert (tmp_path / "feeds" / "all.atom").read_text() == "<feed"


def test_healthz_never_shows_a_drafts_name_or_a_server_path(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """Problems stay public, but a draft's file, line and message, and paths on the server, do not."""
    write_post("ok.md", title="OK")
    write_post("2026-secret-merger.md", text="---\ntitle: Merger\ndraft: true\ndate: [unclosed\n---\nBody\n")
    write_post("bad-public.md", text="---\ntitle: Public\n---\nBody\n")
    settings = make_settings()
    (settings.state_dir).mkdir(parents=True)
    (settings.state_dir / "ledger.json").write_text("not json")
    builder = Builder(settings)
    builder.reload(NOW)
    body: Any = create_app(settings, builder).test_client().get("/healthz").get_json()
    text = json.dumps(body)
    assert body["status"] == "degraded" and len(body["problems"]) == 3
    assert "secret" not in text and "Merger" not in text and str(tmp_path) not in text
    assert {"path": "bad-public.md", "line": 1, "message": "date is missing"} in body["problems"]


def test_write_changed_replaces_the_gzip_twin_first(tmp_path: Path) -> None:
    """A crash between the two renames leaves the old plain file beside a new .gz, never the reverse."""
    from syndicator.store.files import write_changed

    (tmp_path / "x.atom").mkdir()  # replacing the plain file fails, as a crash at that moment would stop it
    with pytest.raises(IsADirectoryError):
        write_changed(tmp_path, {"x.atom": b"new", "x.atom.gz": b"new-gz"})
    assert (tmp_path / "x.atom.gz").read_bytes() == b"new-gz"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("char", ["\\v", "\\e", "\\0", "\\x85", "\\uFFFE"])
def test_a_media_url_with_a_character_xml_cannot_hold_stops_nothing(
    settings: Settings, write_post: Callable[..., Path], char: str
) -> None:
    """An ``image`` or ``enclosures`` URL holding a control character (a YAML escape) reached the feed writer as it
    was: lxml refused it, and the reload failed for the whole site (a post for partners failed the partner feeds).
    Percent-encoded as a browser reads the URL, each post is published and every feed is XML."""
    write_post("public.md", title="Public", categories="[X]", image=f'"http://img.example/a{char}.png"')
    enclosure = json.dumps({"url": "https://media.example/e.mp3", "type": "audio/mpeg"}).replace(".mp3", char + ".mp3")
    write_post("briefing.md", title="Briefing", categories="[X]", visibility="partners", enclosures=f"[{enclosure}]")
    write_post("plain.md", title="Plain", categories="[X]")
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 2 and builder.last_error is None
    snapshot = builder.snapshot
    assert snapshot is not None
    feeds = [f.body for path, f in snapshot.files.items() if path.endswith((".atom", ".rss")) and f.body is not None]
    partner_feed = snapshot.partners.file("all.atom") if snapshot.partners is not None else None
    assert partner_feed is not None and partner_feed.body is not None
    for body in [*feeds, partner_feed.body]:
        etree.fromstring(body)
    assert any(b"http://img.example/a%" in body for body in feeds)
    assert b"https://media.example/e%" in partner_feed.body


def test_an_asset_whose_name_holds_a_control_character_is_not_published(
    settings: Settings, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A file beside the posts named ``c<CR>Set-Cookie: pwn=1.png`` was copied into output_dir: nginx wrote its name
    raw into the Surrogate-Key header (a bare CR, a second header to some clients). No URL names such a file as it
    is: it is not published, and the post is told so with the name escaped (a CR in a message rewrote the line)."""
    for name in ("c\rSet-Cookie: pwn=1.png", "e\x1b[2J.png"):
        (posts_dir / name).write_bytes(b"\x89PNG\r\n\x1a\n")
    write_post("a.md", title="A", body="![x](c%0DSet-Cookie:%20pwn=1.png) ![y](e%1B%5B2J.png)\n")
    report = Builder(settings).reload(NOW)
    assert report.posts == 1  # type: ignore[union-attr]
    messages = [p.message for p in report.problems]  # type: ignore[union-attr]
    assert all(m.startswith("refers to a missing file: '") and m.isprintable() for m in messages), messages
    assert len(messages) == 2
    assert not [p for p in settings.output_dir.rglob("*") if not p.name.isprintable()]


def test_a_post_file_named_with_a_control_character_is_shown_escaped(
    settings: Settings, write_post: Callable[..., Path]
) -> None:
    """A post file named ``evil<CR><ESC>[2Kname.md``: its problems' lines printed the name raw, and the carriage
    return rewrote the terminal's line (hiding the path). The name is shown escaped."""
    write_post("2026-12-02-evil\r\x1b[2Kname.md", title="Evil", updated="2020-01-01")
    report = Builder(settings).reload(NOW)
    lines = [str(problem) for problem in report.problems]  # type: ignore[union-attr]
    assert lines and all(line.isprintable() and "evil\\r\\x1b[2Kname.md" in line for line in lines), lines
