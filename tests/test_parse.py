"""A post file's text read into a Post (core/parse.py): front matter fields, defaults, problems with their lines."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from support.factories import post_text
from syndicator.config import Settings
from syndicator.core.conflicts import CONFLICT
from syndicator.core.parse import decode_post
from syndicator.core.parse import parse_post
from syndicator.core.slugs import default_slug
from syndicator.core.text import MarkdownText
from syndicator.model import Post
from syndicator.problem import LoadProblem


def parse(settings: Settings, text: str, path: str = "posts/2025-06-01-hello.md") -> Post:
    result = parse_post(text, path, settings)
    assert isinstance(result, Post), result
    return result


def problem(settings: Settings, text: str, path: str = "posts/bad.md") -> LoadProblem:
    result = parse_post(text, path, settings)
    assert isinstance(result, LoadProblem), result
    return result


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2011-12-22", datetime(2011, 12, 22, tzinfo=UTC)),
        ("2011-12-22 10:30:00", datetime(2011, 12, 22, 10, 30, tzinfo=UTC)),
        ("2011-12-22T10:30:00", datetime(2011, 12, 22, 10, 30, tzinfo=UTC)),
        ("2011-12-22T10:30:00Z", datetime(2011, 12, 22, 10, 30, tzinfo=UTC)),
        ("2011-12-22t10:30:00z", datetime(2011, 12, 22, 10, 30, tzinfo=UTC)),  # RFC 3339 §5.6 allows lower case
        ("2011-12-22T10:30:00+05:00", datetime(2011, 12, 22, 5, 30, tzinfo=UTC)),
        ("'2011-12-22T10:30:00-02:00'", datetime(2011, 12, 22, 12, 30, tzinfo=UTC)),
        ('"2011-12-22"', datetime(2011, 12, 22, tzinfo=UTC)),
    ],
)
def test_dates_in_every_iso_form(settings: Settings, value: str, expected: datetime) -> None:
    """Date-only, naive and offset dates all become aware UTC datetimes."""
    post = parse(settings, f"---\ntitle: T\ndate: {value}\n---\nBody\n")
    assert post.date == expected
    assert post.date.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2011-12-22", datetime(2011, 12, 22, tzinfo=timezone(timedelta(hours=5)))),
        ("2011-12-22 10:30:00", datetime(2011, 12, 22, 10, 30, tzinfo=timezone(timedelta(hours=5)))),
        ("2011-12-22T10:30:00+01:00", datetime(2011, 12, 22, 9, 30, tzinfo=UTC)),
    ],
)
def test_naive_dates_are_in_the_configured_timezone(
    make_settings: Callable[..., Settings], value: str, expected: datetime
) -> None:
    """A naive date is read in `timezone`; an explicit offset wins."""
    post = parse(make_settings(timezone="Asia/Dushanbe"), f"---\ntitle: T\ndate: {value}\n---\nBody\n")
    assert post.date == expected


def test_defaults(settings: Settings) -> None:
    """Slug from the file name without the date, tag: id, updated = date, site author."""
    post = parse(settings, "---\ntitle: Hello\ndate: 2025-06-01T23:30:00-02:00\n---\nBody\n")
    assert post.slug == "hello"
    assert post.id == "tag:example.org,2025-06-02:/posts/hello"
    assert post.updated == post.date
    assert post.author.name == "Test Site"
    assert post.categories == () and post.tags == ()
    assert not post.draft


def test_explicit_fields(settings: Settings) -> None:
    """Every optional field is honoured."""
    post = parse(
        settings,
        "---\ntitle: Hello\ndate: 2025-06-01\nupdated: 2025-07-01\nslug: custom\n"
        "id: https://old.example/?p=12\ncategories: One\ntags: [x, y]\n"
        "author: {name: Ann, email: ann@example.org, uri: https://ann.example}\n"
        "draft: true\nsummary: Short *one*.\n---\nBody\n",
    )
    assert post.slug == "custom"
    assert post.id == "https://old.example/?p=12"
    assert post.updated == datetime(2025, 7, 1, tzinfo=UTC)
    assert [t.name for t in post.categories] == ["One"]
    assert [t.slug for t in post.tags] == ["x", "y"]
    assert (post.author.name, post.author.email, post.author.uri) == ("Ann", "ann@example.org", "https://ann.example")
    assert post.draft
    assert post.summary_html == "<p>Short <em>one</em>.</p>"


def test_author_as_a_name(make_settings: Callable[..., Settings]) -> None:
    """`author` may be a plain name; `site_author` is the default."""
    settings = make_settings(site_author="Desk")
    assert parse(settings, "---\ntitle: T\ndate: 2025-01-01\nauthor: Bo\n---\n").author.name == "Bo"
    assert parse(settings, "---\ntitle: T\ndate: 2025-01-01\n---\n").author.name == "Desk"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("2011-12-22-csto-agreement.md", "csto-agreement"),
        ("csto-agreement.markdown", "csto-agreement"),
        ("2011/2011-12-22-x.md", "x"),
        ("My Post.md", "my-post"),
        ("2024-05-04-trip/index.md", "trip"),  # a page bundle: its folder's name
        ("2024/Summer Trip/index.markdown", "summer-trip"),
        ("index.md", "index"),  # not in a folder of its own
    ],
)
def test_default_slug(name: str, slug: str) -> None:
    """The file name without extension and leading YYYY-MM-DD-; a bundle's index.md takes its folder's name."""
    assert default_slug(name) == slug


def test_summary_is_the_text_before_the_marker(settings: Settings) -> None:
    """The excerpt is the body before the marker, rendered; the content has no marker."""
    post = parse(settings, "---\ntitle: T\ndate: 2025-01-01\n---\nOne.\n\nTwo.\nContinue reading →\n\nThree.\n")
    assert post.summary_html == "<p>One.</p>\n<p>Two.</p>"
    assert post.content_html == "<p>One.</p>\n<p>Two.</p>\n<p>Three.</p>"


def test_summary_without_marker_is_the_first_paragraph_cut(make_settings: Callable[..., Settings]) -> None:
    """Without a marker: the first paragraph, cut at summary_words with …."""
    settings = make_settings(summary_words=3)
    post = parse(settings, "---\ntitle: T\ndate: 2025-01-01\n---\n# Head\n\none two three four\n\nsecond\n")
    assert post.summary_html == "<p>one two three…</p>"
    short = parse(settings, "---\ntitle: T\ndate: 2025-01-01\n---\none two\n\nsecond\n")
    assert short.summary_html == "<p>one two</p>"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "empty file"),
        ("just text\n", 1, "no front matter"),
        ("---\ntitle: [unclosed\ndate: 2025-01-01\n---\n", 2, "invalid YAML"),
        ("---\ntitle: ok\ndate: 2025-01-01\ncategories: [a\n---\n", 4, "invalid YAML"),
        ("---\n- a\n- b\n---\n", 2, "not a mapping"),
        ("---\ndate: 2025-01-01\n---\n", 1, "title is missing"),
        ("---\ntitle: [a, b]\ndate: 2025-01-01\n---\n", 2, "title must be text, not a list"),
        ("---\ntitle: Null\ndate: 2025-01-01\n---\n", 2, "title must be text, not null (no value)"),
        ("---\ntitle: T\ndate: [2025]\n---\n", 3, "date must be an ISO 8601 date or date-time, not a list"),
        ("---\ntitle: '  '\ndate: 2025-01-01\n---\n", 2, "title is empty"),
        ('---\ntitle: "\\x00\\x01"\ndate: 2025-01-01\n---\n', 2, "title is empty"),
        ("---\ntitle: T\n---\n", 1, "date is missing"),
        ("---\ntitle: T\ndate: next tuesday\n---\n", 3, "not an ISO 8601"),
        ("---\ntitle: T\ndate: 2025-01-01\ncategories: {a: b}\n---\n", 4, "list of names"),
        ("---\ntitle: T\ndate: 2025-01-01\ndraft: maybe\n---\n", 4, "draft must be true or false"),
        ("---\ntitle: T\ndate: 2025-01-01\nslug: a/b\n---\n", 4, "not URL-safe"),
    ],
)
def test_problems_name_the_line(settings: Settings, text: str, line: int, message: str) -> None:
    """Each mistake is a LoadProblem with the file's line (YAML lines converted to file lines)."""
    found = problem(settings, text)
    assert found.path == "posts/bad.md"
    assert found.line == line
    assert message in found.message
    assert str(found).startswith(f"posts/bad.md:{line}: ")


def test_a_name_without_letters_or_digits_is_left_out_with_a_warning(settings: Settings) -> None:
    """`categories: ["🎉", News]` or a tag `!!!` make no slug: that name is left out, with a warning on its line,
    and the post is published under the rest, where the whole post failed."""
    post = parse(settings, "---\ntitle: T\ndate: 2025-01-01\ncategories: ['🎉', News]\ntags: ['!!!']\n---\nB\n")
    assert [c.slug for c in post.categories] == ["news"] and post.tags == ()
    assert [(w.line, w.message, w.fatal) for w in post.warnings] == [
        (4, "categories: '🎉' gives an empty URL slug (no letter or digit): left out", False),
        (5, "tags: '!!!' gives an empty URL slug (no letter or digit): left out", False),
    ]


def test_an_updated_before_the_date_is_a_warning_on_its_line(settings: Settings) -> None:
    """`updated: 2024-03-02` under `date: 2025-03-01` (a year mistyped) dated the entry by its date in silence."""
    post = parse(settings, "---\ntitle: T\ndate: 2025-03-01\nupdated: 2024-03-02\n---\nB\n")
    assert post.updated == post.date == datetime(2025, 3, 1, tzinfo=UTC)
    assert [(w.line, w.message, w.fatal) for w in post.warnings] == [
        (4, "updated is before date (2025-03-01): the entry is dated by its date alone", False)
    ]
    assert parse(settings, "---\ntitle: T\ndate: 2025-03-01\nupdated: 2025-03-01\n---\nB\n").warnings == ()


def test_a_file_name_of_no_letter_says_how_to_give_a_slug(settings: Settings) -> None:
    """`🎉.md` makes no slug, and no slug can be suggested from it: the problem says to give one (it said "try ''")."""
    found = problem(settings, "---\ntitle: T\ndate: 2025-01-01\n---\n", "posts/🎉.md")
    assert found.message == "slug '' is not URL-safe (no letter or digit: give the post a slug: in its front matter)"


def test_invalid_utf8_is_a_problem_with_its_line() -> None:
    """Bytes that are not UTF-8 are reported with the line they are on."""
    found = decode_post(b"---\ntitle: T\n\xff\n", "posts/x.md")
    assert isinstance(found, LoadProblem)
    assert found.line == 3 and "UTF-8" in found.message


def test_xml_illegal_characters_are_stripped_with_a_warning(settings: Settings) -> None:
    """Control characters leave title and body; the post still publishes with a warning."""
    post = parse(settings, '---\ntitle: "Bad\\x07 title"\ndate: 2025-01-01\n---\nBody\x0b text\n')
    assert post.title == "Bad title"
    assert "\x0b" not in post.content_html
    assert sorted(w.message for w in post.warnings) == [
        "removed XML-illegal characters from body",
        "removed XML-illegal characters from title",
    ]
    assert all(not w.fatal for w in post.warnings)
    assert {w.line for w in post.warnings} == {2, 5}


def test_a_name_with_a_comma_where_a_list_was_likely_meant_is_a_warning(settings: Settings) -> None:
    """`tags: rivers, towns` is one tag to YAML (as Pelican's and WordPress's habits would split it, most likely two
    were meant): published as written, with a warning on its line that says how to write two; a list is silent."""
    text = "---\ntitle: T\ndate: 2025-01-01\ncategories: Politics, Law\ntags: rivers, towns\n---\nB\n"
    post = parse(settings, text)
    assert [c.name for c in post.categories] == ["Politics, Law"] and [t.name for t in post.tags] == ["rivers, towns"]
    assert [(w.line, w.message, w.fatal) for w in post.warnings] == [
        (4, "categories is one name, 'Politics, Law': for several, write a list: [Politics, Law]", False),
        (5, "tags is one name, 'rivers, towns': for several, write a list: [rivers, towns]", False),
    ]
    listed = parse(settings, '---\ntitle: T\ndate: 2025-01-01\ncategories: ["Politics, Law"]\ntags: [a, b]\n---\n')
    assert not listed.warnings and [c.name for c in listed.categories] == ["Politics, Law"]


def test_a_title_written_over_several_lines_is_one_line(settings: Settings) -> None:
    """A YAML block title keeps its line breaks in the value; a title is one line wherever it is shown (a feed
    reader's list, a toot's name, a mail's subject, a page's heading), so its lines are joined by a space."""
    post = parse(settings, "---\ntitle: |\n  Two\n    lines\n\n  and more\ndate: 2025-01-01\n---\nB\n")
    assert post.title == "Two lines and more"
    assert parse(settings, "---\ntitle: 'A\u2028B  C'\ndate: 2025-01-01\n---\n").title == "A B  C"


CONFLICTED = "<<<<<<< HEAD\nThe pass opens in June.\n=======\nThe pass opens in July.\n>>>>>>> 3f2c1a9\n"


def test_a_merge_left_unfinished_is_a_problem_on_its_first_marker(settings: Settings) -> None:
    """Git's conflict markers in the body (a `git pull` that stopped on a conflict) or in the front matter: the file is
    a problem on the `<<<<<<<` line, never published with the markers as headings and quotes; a post about git
    showing them in fenced code, or a line of seven `=` alone, is published."""
    head = "---\ntitle: T\ndate: 2025-01-01\n---\n\nIntro.\n\n"
    found = problem(settings, head + CONFLICTED)
    assert (found.line, found.message) == (8, CONFLICT)
    front = "---\ntitle: T\n<<<<<<< HEAD\ndate: 2025-01-01\n=======\ndate: 2025-01-02\n>>>>>>> main\n---\nB\n"
    assert (problem(settings, front).line, problem(settings, front).message) == (3, CONFLICT)
    shown_in_code = head + "```\n" + CONFLICTED + "```\n\nThen =======\n\n=======\n"
    assert "&gt;" * 7 + " 3f2c1a9" in parse(settings, shown_in_code).content_html


@pytest.mark.parametrize("slug", ["नमस्ते-दुनिया", "สวัสดี", "வணக்கம்", "مَرْحَبًا", "привет-мир", "안녕하세요"])
def test_a_slug_in_its_own_script_is_used_as_written(settings: Settings, slug: str) -> None:
    """Hindi, Thai, Tamil and vowelled Arabic write words with marks (vowel signs, harakat), URL-safe once
    percent-encoded like any letter: such a slug is the post's, where it was refused and the post left unpublished."""
    assert parse(settings, f"---\ntitle: T\ndate: 2025-01-01\nslug: {slug}\n---\n").slug == slug


def test_a_decomposed_name_is_the_slug_as_typed(settings: Settings) -> None:
    """macOS writes `café.md` decomposed (e and a combining accent): the slug is composed (NFC), as a reader types
    and shares it, where it was `cafe` (and a decomposed Korean name kept its jamo apart: an address no one types)."""
    decomposed = unicodedata.normalize("NFD", "café")
    assert parse(settings, "---\ntitle: T\ndate: 2025-01-01\n---\n", f"posts/{decomposed}.md").slug == "café"
    korean = unicodedata.normalize("NFD", "한국어")
    assert parse(settings, "---\ntitle: T\ndate: 2025-01-01\n---\n", f"posts/{korean}.md").slug == "한국어"
    given = f"---\ntitle: T\ndate: 2025-01-01\nslug: {decomposed}\n---\n"
    assert parse(settings, given).slug == "café"


def test_yaml_alias_bomb_is_rejected_quickly(settings: Settings) -> None:
    """A billion-laughs alias bomb in categories is a problem, not a hang: refused before any value is built."""
    bomb = "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]"
            for i in range(8)
        ]
    )
    found = problem(settings, f"---\ntitle: T\ndate: 2025-01-01\n{bomb}\ncategories: *i\n---\n")
    assert found.message == "aliases (*name) expand the front matter by more than 10,000 values: not read"


def test_drafts_are_not_rendered_until_asked(settings: Settings) -> None:
    """A published post's Markdown is rendered when it is read; a draft's only if its HTML is asked for."""
    draft = parse_post(post_text(title="D", draft="true", body="Draft *body*.\n"), "posts/d.md", settings)
    assert isinstance(draft, Post) and isinstance(draft.text, MarkdownText) and not draft.text.rendered
    assert draft.content_html == "<p>Draft <em>body</em>.</p>" and draft.text.rendered
    published = parse_post(post_text(title="P", body="Live *body*.\n"), "posts/p.md", settings)
    assert isinstance(published, Post) and isinstance(published.text, MarkdownText) and published.text.rendered


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "---\ntitle: A\ndate: 2025-01-01\ncategory: Politics\n---\n",
            4,
            "'category' is ignored (did you mean 'categories'?)",
        ),
        ('---\ntitle: "Unclosed\ndate: 2025-01-01\ncategories: [A]\n---\n', 2, "quoted value that starts on this line"),
        ("---\ntitle: A\ndate: 2025-01-01\n\nBody, but the front matter never closes.\n", 1, "never closed"),
        (
            "---\ntitle: A\ndate: 2025-01-01\nauthor: {nom: X}\n---\n",
            4,
            "author has no name (unknown author field 'nom'",
        ),
    ],
)
def test_messages_say_what_is_really_wrong(settings: Settings, text: str, line: int, message: str) -> None:
    """Unknown keys are warnings with the likely key; YAML errors name the line where the problem starts."""
    result = parse_post(text, "posts/p.md", settings)
    problems = list(getattr(result, "warnings", ())) or [result]
    assert [(p.line, message in p.message) for p in problems] == [(line, True)], problems
