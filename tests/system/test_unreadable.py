"""Posts and folders under posts_dir that cannot be read (their permissions): a problem naming them, and what was
published from them stays published, never a tombstone sent to every subscriber and partner."""

from __future__ import annotations

import os
from pathlib import Path

import feedparser

from support.commands import run_syndicator
from support.mediafiles import write_png

POST = "---\ntitle: {title}\ndate: 2024-0{month}-01T09:00:00Z\ncategories: [Notes]\n---\nThe {title} post.\n"
ENV = {"SYNDICATOR_SITE_URL": "https://example.org"}


def site(root: Path) -> Path:
    posts = root / "posts"
    (posts / "sub").mkdir(parents=True)
    (posts / "kept.md").write_text(POST.format(title="Kept", month=1))
    (posts / "sub" / "inside.md").write_text(POST.format(title="Inside", month=2) + "\n![A picture](pic.png)\n")
    write_png(posts / "sub" / "pic.png", 20, 10)
    assert run_syndicator("build", cwd=root, env=ENV, check=True).returncode == 0
    return posts


def titles_and_deletions(root: Path) -> tuple[set[str], bytes]:
    body = (root / "feeds" / "all.atom").read_bytes()
    return {entry.title for entry in feedparser.parse(body).entries}, body


def test_a_folder_that_cannot_be_listed_keeps_its_posts(tmp_path: Path) -> None:
    """chmod 000 on a folder of posts: its posts stay in every feed, with no tombstone; the build names the folder;
    readable again, the problem goes."""
    posts = site(tmp_path)
    (posts / "sub").chmod(0)
    try:
        built = run_syndicator("build", cwd=tmp_path, env=ENV, obeying_modes=True)
        titles, body = titles_and_deletions(tmp_path)
    finally:
        (posts / "sub").chmod(0o755)
    assert titles == {"Kept", "Inside"} and b"deleted-entry" not in body, body
    assert "posts/sub:1: this folder cannot be listed" in built.stdout + built.stderr, built
    assert (tmp_path / "feeds" / "media" / "sub" / "pic.png").exists() and b"pic.png" in body  # its files kept
    again = run_syndicator("build", cwd=tmp_path, env=ENV, obeying_modes=True)
    assert "cannot be listed" not in again.stdout + again.stderr


def test_a_post_readable_again_is_read_again_without_being_touched(tmp_path: Path) -> None:
    """chmod 000 on a post (and a write of its time): a problem, its last good version kept; chmod 644 alone (its
    stat as before) is enough for the next build to read it and drop the problem."""
    posts = site(tmp_path)
    post = posts / "kept.md"
    post.write_text(POST.format(title="Kept, edited", month=1))
    post.chmod(0)
    try:
        failed = run_syndicator("build", cwd=tmp_path, env=ENV, obeying_modes=True)
        titles, body = titles_and_deletions(tmp_path)
    finally:
        post.chmod(0o644)
    assert "posts/kept.md:1: cannot read file: Permission denied" in failed.stdout + failed.stderr, failed
    assert titles == {"Kept", "Inside"} and b"deleted-entry" not in body
    read = run_syndicator("build", cwd=tmp_path, env=ENV, obeying_modes=True)
    assert "cannot read file" not in read.stdout + read.stderr, read
    assert titles_and_deletions(tmp_path)[0] == {"Kept, edited", "Inside"}
    assert os.access(post, os.R_OK)
