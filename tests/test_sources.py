"""Which files under posts_dir are read (store/sources.py): the ignore rules, symlinks that stay inside it, and
links that lead out, which publish nothing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from support.factories import NOW
from support.mediafiles import SECRET
from support.mediafiles import write_links_out
from support.mediafiles import write_png
from syndicator.config import Settings
from syndicator.incremental.postcache import PostCache
from syndicator.service.assets import AssetWriter
from syndicator.service.build import Builder
from syndicator.store.files import file_state
from syndicator.store.sources import Listings
from syndicator.store.sources import asset_states
from syndicator.store.sources import scan

LEAVES = "a link that leads out of posts_dir: not published"


def every_file(folder: Path) -> dict[str, bytes]:
    """Every file under a folder by path (links followed), with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_link_leading_out_of_posts_dir_is_never_published(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """An asset linking outside posts_dir is neither copied nor listed; the post is told, on its line."""
    posts = write_links_out(tmp_path)
    settings = make_settings(posts_dir=posts)
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 1
    warnings = sorted((p.path, p.line, p.message) for p in report.problems)
    assert warnings == [
        (str(posts / "post.md"), 5, f"refers to list.txt, {LEAVES}"),
        (str(posts / "post.md"), 6, f"refers to guide.txt, {LEAVES}"),
        (str(posts / "post.md"), 7, f"refers to rules.txt, {LEAVES}"),
    ]
    assert not any(p.fatal for p in report.problems)
    written = every_file(settings.output_dir)
    assert written["media/alias.png"] == (posts / "images" / "real.png").read_bytes()
    assert not any(name.startswith(("media/list", "media/guide", "media/rules")) for name in written)
    everything = b"".join(written.values())
    assert b"SECRET" not in everything
    assert builder.snapshot is not None and set(builder.snapshot.assets) == {"/feeds/media/alias.png"}


def test_a_post_file_linking_out_is_not_read(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path, tmp_path: Path
) -> None:
    """A post file that is a link to a file outside posts_dir is a problem of its own, and is not published."""
    write_post("kept.md", title="Kept")
    (tmp_path / "elsewhere.md").write_text("---\ntitle: Elsewhere\ndate: 2025-01-01\n---\nSECRET\n")
    (posts_dir / "taken.md").symlink_to(tmp_path / "elsewhere.md")
    (posts_dir / "inside.md").symlink_to("kept.md")
    builder = Builder(make_settings())
    report = builder.reload(NOW)
    assert [(p.path, p.message, p.fatal) for p in report.problems] == [
        (str(posts_dir / "inside.md"), f"the same file as {posts_dir / 'kept.md'} (a link to it): {ONCE}", False),
        (str(posts_dir / "taken.md"), "a link that leads out of posts_dir: not read", True),
    ]
    assert builder.snapshot is not None
    assert [p.title for p in builder.snapshot.catalog.posts] == ["Kept"]


ONCE = "published once, under that name"


def test_a_post_file_under_two_names_is_one_post(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A link to a post file (`ln -s roads.md latest.md`, committed to git) or a hard link is the same file: one post,
    under the name that is no link (else the first in order), where each name was an entry of its own; the other
    name is a warning, private when the post is (a draft's name is never shown)."""
    write_post("roads.md", title="Roads")
    (posts_dir / "latest.md").symlink_to("roads.md")
    write_post("draft.md", title="Secret plan", draft="true")
    os.link(posts_dir / "draft.md", posts_dir / "also-draft.md")
    os.link(posts_dir / "roads.md", posts_dir / "a-hard-link.md")
    builder = Builder(make_settings())
    report = builder.reload(NOW)
    assert builder.snapshot is not None
    assert [p.slug for p in builder.snapshot.catalog.posts] == ["a-hard-link"]  # no link among the two: the first
    warned = {(Path(p.path).name, p.message.split(" (")[0], p.private) for p in report.problems}
    assert warned == {
        ("latest.md", f"the same file as {posts_dir / 'a-hard-link.md'}", False),
        ("roads.md", f"the same file as {posts_dir / 'a-hard-link.md'}", False),
        ("draft.md", f"the same file as {posts_dir / 'also-draft.md'}", True),
    }
    assert "Secret" not in str(report.public_problems)


def test_a_folder_linking_out_is_not_scanned(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path, tmp_path: Path
) -> None:
    """A symlinked folder outside posts_dir (posts/usr -> /usr) is not scanned, with a warning; one inside is."""
    outside = tmp_path / "usr"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "found.md").write_text("---\ntitle: Outside\ndate: 2025-01-01\n---\nBody\n")
    write_post("real/inner.md", title="Inner")
    (posts_dir / "usr").symlink_to(outside)
    (posts_dir / "system").symlink_to("/usr")
    (posts_dir / "again").symlink_to("real")
    settings = make_settings()
    report = Builder(settings).reload(NOW)
    assert report.posts == 1  # real/inner.md, found once (again/ is the same folder)
    folder = "a link to a folder outside posts_dir: its files are not read"
    assert sorted((p.path, p.message, p.fatal) for p in report.problems) == [
        (str(posts_dir / "system"), folder, False),
        (str(posts_dir / "usr"), folder, False),
    ]


def test_a_file_swapped_for_a_link_after_the_scan_is_not_copied(
    settings: Settings, posts_dir: Path, tmp_path: Path
) -> None:
    """An asset replaced by a link leading out between the scan and the copy is not copied (it is not the file seen)."""
    image = write_png(posts_dir / "x.png", 4, 4)
    seen = file_state(os.stat(image))
    (tmp_path / "secret.txt").write_text(SECRET)
    image.unlink()
    image.symlink_to(tmp_path / "secret.txt")
    writer = AssetWriter(settings)
    output = writer.publish_files({"x.png": (str(image), seen)}, set())
    assert output.written == [] and output.files == {}
    assert not (settings.output_dir / "media" / "x.png").exists()


def test_a_watched_asset_that_becomes_a_link_out_is_dropped(
    settings: Settings, posts_dir: Path, tmp_path: Path
) -> None:
    """A reload told only the asset's path (as a watcher tells it) sees it become a link leading out, then go."""
    image = write_png(posts_dir / "x.png", 4, 4)
    (posts_dir / "a.md").write_text("---\ntitle: A\ndate: 2025-06-01\n---\n![x](x.png)\n")
    (tmp_path / "secret.txt").write_text(SECRET)
    cache = PostCache(settings)
    (post,), problems = cache.refresh()
    assert post.assets == ("x.png",) and problems == []
    image.unlink()
    image.symlink_to(tmp_path / "secret.txt")
    (post,), problems = cache.refresh(changed={str(image)})
    assert post.assets == () and [p.message for p in problems] == [f"refers to x.png, {LEAVES}"]
    assert "x.png" not in cache.assets.files
    image.unlink()
    (post,), problems = cache.refresh(changed={str(image)})
    assert [p.message for p in problems] == ["refers to a missing file: x.png"]
    assert cache.assets.states() == []


def test_ignore_rules(tmp_path: Path) -> None:
    """Hidden, underscored and editor files and folders are skipped; .md and .markdown found."""
    for name in [
        "a.md",
        "b.markdown",
        "c.txt",
        ".hidden.md",
        "_draft.md",
        "d.md~",
        "e.md.swp",
        ".#f.md",
        "sub/g.md",
        ".git/h.md",
        "_private/i.md",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = sorted(Path(path).relative_to(tmp_path).as_posix() for path in scan(str(tmp_path)))
    assert found == ["a.md", "b.markdown", "sub/g.md"]


def _age(*folders: Path) -> None:
    """Folders last changed an hour ago (their listings can then be kept)."""
    for folder in folders:
        os.utime(folder, (NOW.timestamp() - 3600, NOW.timestamp() - 3600))


def test_an_unchanged_folder_is_not_listed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its entries are the last scan's until a name in it is added, removed or renamed (its mtime changes)."""
    posts = tmp_path / "posts"
    (posts / "2024").mkdir(parents=True)
    for name in ("2024/a.md", "2024/b.md", "top.md", "2024/photo.jpg"):
        (posts / name).write_text(name)
    _age(posts, posts / "2024")
    listed: list[str] = []
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: listed.append(str(path)) or scandir(path))
    listings = Listings()

    def names(assets: list[os.DirEntry[str]] | None = None) -> list[str]:
        return sorted(os.path.relpath(path, posts) for path in scan(str(posts), None, assets, None, listings))

    assert names() == ["2024/a.md", "2024/b.md", "top.md"] and len(listed) == 2
    assets: list[os.DirEntry[str]] = []
    assert names(assets) == ["2024/a.md", "2024/b.md", "top.md"] and len(listed) == 2, "nothing listed again"
    assert [e.name for e in assets] == ["photo.jpg"]
    assert [state[0] for _path, state in asset_states(str(posts), assets)] == [len("2024/photo.jpg")]
    (posts / "2024/photo.jpg").write_bytes(b"a larger photo, written in place")
    again: list[os.DirEntry[str]] = []
    names(again)
    assert again == assets and len(listed) == 2, "the very entries of the last scan"
    assert [state[0] for _path, state in asset_states(str(posts), again)] == [32], "its own stat, not the entry's"
    (posts / "2024/c.md").write_text("new")
    assert names() == ["2024/a.md", "2024/b.md", "2024/c.md", "top.md"] and listed[2:] == [str(posts / "2024")]
    (posts / "2024/a.md").rename(posts / "2024/d.md")
    (posts / "top.md").unlink()
    assert names() == ["2024/b.md", "2024/c.md", "2024/d.md"]
    assert names() == ["2024/b.md", "2024/c.md", "2024/d.md"] and len(listed) == 7, "changed just now: listed again"
    _age(posts, posts / "2024")
    names()
    count = len(listed)
    assert names() == ["2024/b.md", "2024/c.md", "2024/d.md"] and len(listed) == count
    shutil.rmtree(posts / "2024")
    assert names() == []


def test_an_edit_in_an_unchanged_folder_is_still_seen(settings: Settings, write_post: Callable[..., Path]) -> None:
    """An edit in place changes no folder: the file's own stat tells it."""
    post = write_post("2024/a.md", title="A")
    write_post("2024/b.md", title="B")
    _age(settings.posts_dir, settings.posts_dir / "2024")
    cache = PostCache(settings)
    cache.refresh()
    cache.refresh()
    post.write_text(post.read_text().replace("title: 'A'", "title: 'A, edited'"))
    os.utime(post, ns=(1, 1))
    posts, _ = cache.refresh()
    assert sorted(p.title for p in posts) == ["A, edited", "B"] and cache.parsed == 3
