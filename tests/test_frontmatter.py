"""Front matter: read safely and within bounds, every mistake a problem on its line, never an exception."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import frontmatter
import pytest
from frontmatter.default_handlers import YAMLHandler
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from support.factories import NOW
from support.strategies import front_matter_lines
from syndicator.config import Settings
from syndicator.core.frontmatter import HANDLER
from syndicator.core.frontmatter import split_front_matter
from syndicator.core.parse import parse_post
from syndicator.model import LoadProblem
from syndicator.model import Post
from syndicator.service.build import Builder

ALIASES = "aliases (*name) expand the front matter by more than 10,000 values: not read"
LONG_NUMBER = (
    "invalid YAML front matter: a number of more than 4300 digits cannot be read (quote it to keep it as text)"
)


def alias_bomb(levels: int, field: str = "visibility") -> str:
    """The billion-laughs post: ``levels`` nested lists of nine aliases each, the last one given to ``field``."""
    lines = ["---", "title: Bomb", "date: 2025-01-01", "l0: &l0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join([*lines, f"{field}: *l{levels - 1}", "---", "Body", ""])


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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "9" * 5000),
        ("id", "-" + "1" * 5000),
        ("slug", "0x" + "f" * 5000),
        ("summary", "1" + ":30" * 3000),
        ("tags", "[a, " + "7" * 4301 + "]"),
    ],
    ids=lambda value: value[:12],
)
def test_a_number_too_long_to_read_is_a_problem_on_its_line(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], field: str, value: str
) -> None:
    """A number of 5,000 digits in any field is that file's problem (with its line); every other post is published."""
    write_post("fine.md", title="Fine")
    write_post("long.md", text=f"---\ntitle: Long\ndate: 2025-01-01\nauthor: A\n{field}: {value}\n---\nBody\n")
    report = Builder(make_settings()).reload(NOW)
    assert report.posts == 1
    assert [(Path(p.path).name, p.line, p.message) for p in report.problems] == [("long.md", 5, LONG_NUMBER)]


def test_long_numbers_that_are_text_are_kept(settings: Settings) -> None:
    """A quoted long number is text, as YAML says: a title may be 5,000 digits long."""
    post = parse_post(f"---\ntitle: '{'9' * 5000}'\ndate: 2025-01-01\n---\nBody\n", "posts/q.md", settings)
    assert isinstance(post, Post) and post.title == "9" * 5000


@hsettings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    lines=st.lists(front_matter_lines, max_size=8),
    head=st.sampled_from(["title: T\ndate: 2025-01-01\n", "", "title: T\n"]),
    body=st.text(max_size=80),
)
def test_adversarial_front_matter_never_raises(settings: Settings, lines: list[str], head: str, body: str) -> None:
    """Property: any front matter gives a Post or a LoadProblem, never an exception, and every message is short."""
    text = "---\n" + head + "\n".join(lines) + "\n---\n" + body
    result = parse_post(text, "posts/x.md", settings)
    assert isinstance(result, Post | LoadProblem)
    problems = [result] if isinstance(result, LoadProblem) else list(result.warnings)
    assert all(len(p.message) < 600 and p.line >= 1 for p in problems), problems


def test_post_files_are_read_with_python_frontmatter() -> None:
    """Front matter is read through python-frontmatter's handler interface (a YAMLHandler with our loader): the
    library itself gives the same fields, with dates left as text and duplicate keys and lines noted."""
    text = "---\ntitle: T\ndate: 2025-01-01\ntags: [a]\ntitle: U\n---\nBody\n"
    assert isinstance(HANDLER, YAMLHandler)
    post = frontmatter.loads(text, handler=HANDLER)
    assert post.metadata == {"title": "U", "date": "2025-01-01", "tags": ["a"]}
    assert post.content == "Body"
    found = split_front_matter(text, "posts/t.md")
    assert not isinstance(found, LoadProblem)
    assert found.fields == post.metadata and found.duplicates == (("title", 3),)
    assert (found.line_of("title"), found.line_of("tags"), found.line_of("nope")) == (5, 4, 1)
    assert text[found.body_start :] == "Body\n"
