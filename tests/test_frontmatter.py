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
from support.strategies import post_fields
from syndicator.config import Settings
from syndicator.core.frontmatter import HANDLER
from syndicator.core.frontmatter import dump_post
from syndicator.core.frontmatter import split_front_matter
from syndicator.core.frontmatter import unknown_keys
from syndicator.core.parse import parse_post
from syndicator.model import Post
from syndicator.problem import LoadProblem
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


# split_front_matter itself: where the front matter ends, its lines, its problems (file lines: it starts on line 2).


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("---\ntitle: T\n---\n\nBody\n", "\nBody\n"),
        ("--- \r\ntitle: T\r\n---\t\r\nBody\r\n", "Body\r\n"),
        ("---\ntitle: T\n---", ""),
        ("---\ntitle: T\n---\nBody\n---\nmore\n", "Body\n---\nmore\n"),
    ],
    ids=["blank-line", "crlf-and-spaces", "no-body", "rule-in-body"],
)
def test_the_body_starts_where_the_file_has_it(text: str, body: str) -> None:
    """The front matter closes at the first ``---`` line after the first; the body is the rest, not stripped, so its
    lines stay the file's (CRLF and spaces after a fence too)."""
    found = split_front_matter(text, "posts/p.md")
    assert not isinstance(found, LoadProblem), found
    assert found.fields == {"title": "T"} and text[found.body_start :] == body


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "empty file"),
        (" \n\n", 1, "empty file"),
        ("Body\n", 1, "no front matter"),
        ("---\ntitle: T\nBody\n", 1, "the front matter opened on line 1 is never closed"),
        ("---\n---\nBody\n", 2, "front matter is not a mapping of fields"),
        ("---\n- a\n- b\n---\n", 2, "front matter is not a mapping of fields"),
        ("---\n!!set {a, b}\n---\n", 2, "front matter is not a mapping of fields"),
        ("---\na: 1\nb: 'open\nc: 2\n---\n", 3, "the quoted value that starts on this line is never closed"),
        ("---\na: 1\nb: [x, y\nc: 2\n---\n", 3, "list or mapping in brackets that starts on this line is never closed"),
        ("---\na: 1\nb: c: d\n---\n", 3, "mapping values are not allowed"),
        ("---\na: 1\nb: 2\n\tc: 3\n---\n", 4, "tab character"),
    ],
)
def test_each_problem_is_on_its_file_line(text: str, line: int, message: str) -> None:
    """A YAML mark (from 0 in the front matter) becomes a file line (+2); a value left open is reported where it
    opens; a file that is no post file is line 1's problem."""
    found = split_front_matter(text, "posts/p.md")
    assert isinstance(found, LoadProblem)
    assert (found.path, found.line) == ("posts/p.md", line) and message in found.message


def test_fields_keep_dates_as_text_and_their_lines() -> None:
    """Dates stay text (the parser reads them, on their line); each top-level key has its line (a key given twice:
    the last one, which counts); every key given twice in any mapping is noted."""
    text = "---\nauthor: {name: A, name: B}\ndate: 2025-01-01T10:00:00Z\ntags: [a]\ndate: 2025-02-02\n---\nBody\n"
    found = split_front_matter(text, "posts/p.md")
    assert not isinstance(found, LoadProblem)
    assert found.fields == {"author": {"name": "B"}, "date": "2025-02-02", "tags": ["a"]}
    assert set(found.duplicates) == {("name", 0), ("date", 3)}
    assert [found.line_of(key) for key in ("author", "date", "tags", "missing")] == [2, 5, 4, 1]


def test_aliases_are_bounded_by_what_they_add() -> None:
    """Anchors and aliases are read while they add few values; past 10,000 added values the front matter is refused
    on the line of the first field that passes the bound, before any value is made."""
    few = split_front_matter("---\nl0: &l0 [a, b]\nl1: [*l0, *l0]\ntitle: T\n---\n", "posts/p.md")
    assert not isinstance(few, LoadProblem) and few.fields["l1"] == [["a", "b"], ["a", "b"]]
    bomb = split_front_matter(alias_bomb(6), "posts/bomb.md")
    assert isinstance(bomb, LoadProblem) and (bomb.line, bomb.message) == (8, ALIASES)
    looped = split_front_matter("---\ntitle: T\nx: &x [*x]\n---\n", "posts/p.md")
    assert isinstance(looped, LoadProblem)


def test_unknown_keys_name_the_likely_one() -> None:
    """A near miss names the likely key, anything else the known ones; a long or odd key is shown short."""
    messages = unknown_keys(["titel", "title", "zzz", 5, "x" * 1000], ["title", "date"], "field")
    assert messages[:3] == [
        "unknown field 'titel' is ignored (did you mean 'title'?)",
        "unknown field 'zzz' is ignored (known: title, date)",
        "unknown field '5' is ignored (known: title, date)",
    ]
    assert len(messages) == 4 and len(messages[3]) < 200


@hsettings(max_examples=200, deadline=None)
@given(meta=post_fields, body=st.text(max_size=80))
def test_a_written_post_reads_back_as_written(meta: dict[str, object], body: str) -> None:
    """Property: dump_post (the importer's writer) gives a file whose front matter reads back as the same fields and
    whose body is the body, stripped, after a blank line."""
    text = dump_post(meta, body)
    found = split_front_matter(text, "posts/p.md")
    assert not isinstance(found, LoadProblem), (text, found)
    assert found.fields == meta
    assert text[found.body_start :] == "\n" + body.strip() + "\n"


@pytest.mark.xfail(strict=True, reason="PyYAML writes U+0085 (NEL) raw in a quoted scalar, where YAML reads a break")
def test_a_next_line_character_in_a_written_title_reads_back() -> None:
    """A title with U+0085 (a C1 control, what a cp1252 ellipsis becomes when read as Latin-1) is written so that it
    reads back as it was."""
    found = split_front_matter(dump_post({"title": "Wait\x85"}, ""), "posts/p.md")
    assert not isinstance(found, LoadProblem) and found.fields == {"title": "Wait\x85"}
