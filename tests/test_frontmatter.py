"""Front matter: read safely and within bounds, every mistake a problem on its line, never an exception."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from syndicator.config import Settings
from syndicator.core.parse import parse_post
from syndicator.model import LoadProblem
from syndicator.model import Post

ALIASES = "aliases (*name) expand the front matter by more than 10,000 values: not read"
LONG_NUMBER = (
    "invalid YAML front matter: a number of more than 4300 digits cannot be read (quote it to keep it as text)"
)


def alias_bomb(levels: int, field: str = "visibility") -> str:
    """The billion-laughs post: ``levels`` nested lists of nine aliases each, the last one given to ``field``."""
    lines = ["---", "title: Bomb", "date: 2025-01-01", "l0: &l0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join([*lines, f"{field}: *l{levels - 1}", "---", "Body", ""])


def test_the_490_byte_alias_bomb_is_refused_by_check(tmp_path: Path) -> None:
    """Nine levels of aliases given to ``visibility`` (whose problem shows its value) stop nothing: `check` names the
    file and the line where the front matter passes the bound, and the other post is fine."""
    posts = tmp_path / "posts"
    posts.mkdir()
    bomb = alias_bomb(9)
    assert len(bomb.encode()) < 600
    (posts / "bomb.md").write_text(bomb)
    (posts / "fine.md").write_text("---\ntitle: Fine\ndate: 2025-01-01\n---\nBody\n")
    result = subprocess.run(
        [sys.executable, "-m", "syndicator", "check"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stderr[-2000:]
    problems = [line for line in result.stdout.splitlines() if "bomb.md" in line]
    assert problems == [f"posts/bomb.md:8: {ALIASES}"]
    assert "fine.md" not in result.stdout and len(result.stdout) < 2000


@pytest.mark.parametrize("field", ["visibility", "draft", "image", "enclosures", "categories", "date", "slug"])
def test_aliases_are_refused_before_any_value_is_shown(settings: Settings, field: str) -> None:
    """A smaller bomb (half a million values) is refused whichever field it is given to, on the line of the first
    list past the bound (l4, 66,430 values)."""
    result = parse_post(alias_bomb(6, field), "posts/bomb.md", settings)
    assert isinstance(result, LoadProblem)
    assert (result.line, result.message) == (8, ALIASES)


def test_a_few_aliases_are_fine(settings: Settings) -> None:
    """Anchors and aliases that repeat a little (tags used as categories too) are read as YAML reads them."""
    text = "---\ntitle: T\ndate: 2025-01-01\ntags: &t [One, Two]\ncategories: *t\n---\nBody\n"
    post = parse_post(text, "posts/t.md", settings)
    assert isinstance(post, Post)
    assert [c.name for c in post.categories] == [t.name for t in post.tags] == ["One", "Two"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("visibility", "p" * 200_000),
        ("visibility", "[" + ", ".join(["[x, y, z]"] * 20_000) + "]"),
        ("date", "x" * 200_000),
        ("slug", "a b" * 100_000),
        ("image", "{src: [" + ", ".join(["1"] * 50_000) + "]}"),
        ("enclosures", "[{url: x.mp3, length: -" + "9" * 4000 + "}]"),
        ("author", "{name: A, uri: 'javascript:" + "x" * 100_000 + "'}"),
        ("license", "'ftp://" + "x" * 100_000 + "'"),
        ("x" * 100_000, "1"),
    ],
    ids=lambda value: value[:12],
)
def test_every_value_a_message_shows_is_bounded(settings: Settings, field: str, value: str) -> None:
    """A problem or warning quotes at most a short, cut form of the value it is about."""
    result = parse_post(f"---\ntitle: T\ndate: 2025-01-01\n{field}: {value}\n---\nBody\n", "posts/v.md", settings)
    messages = [result.message] if isinstance(result, LoadProblem) else [w.message for w in result.warnings]
    assert messages
    assert all(len(message) < 400 for message in messages), [m[:200] for m in messages]
