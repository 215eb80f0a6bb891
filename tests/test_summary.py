"""core.summary: where a post's summary comes from (override, marker, first paragraph) and each form it is shown in."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.factories import NOW
from syndicator.config import Settings
from syndicator.core.markup import plain_text
from syndicator.core.summary import DESCRIPTION_CHARACTERS
from syndicator.core.summary import description
from syndicator.core.summary import sources
from syndicator.core.summary import split_excerpt
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app


@pytest.mark.parametrize(
    "marker",
    [
        "Continue reading",
        "continue reading",
        "CONTINUE READING",
        "  Continue reading  ",
        "Continue reading →",
        "Continue reading »",
        "Continue reading...",
        "Continue reading …",
        "Continue reading…",
        "<!--more-->",
        "<!-- more -->",
        "<!--More-->",
    ],
)
def test_every_marker_form_splits_the_body(marker: str) -> None:
    """Each SPEC marker form splits; the marker is in neither part."""
    body = f"First paragraph.\n\n{marker}\n\nThe rest.\n"
    parts = split_excerpt(body)
    assert parts is not None
    before, after = parts
    assert before.strip() == "First paragraph."
    assert after.strip() == "The rest."
    assert "ontinue" not in before + after and "more" not in (before + after).lower()


@pytest.mark.parametrize(
    "body",
    [
        "Please continue reading the report.\n",
        "Continue reading the report\n",
        "```\nContinue reading\n```\n",
        "    text\n```md\n<!--more-->\n```\n",
    ],
)
def test_text_that_is_not_a_marker_does_not_split(body: str) -> None:
    """A marker must be a whole line, outside fenced code."""
    assert split_excerpt(body) is None


def test_first_marker_wins() -> None:
    """The first marker line is the cut; later ones stay in the content."""
    before, after = split_excerpt("a\nContinue reading\nb\n<!--more-->\nc\n") or ("", "")
    assert before == "a\n"
    assert "<!--more-->" in after


def test_inline_more_comment_splits_inside_a_line() -> None:
    """WordPress puts <!--more--> inside a paragraph; the text around it joins up again."""
    before, after = split_excerpt("One two<!--more--> three.\n") or ("", "")
    assert before == "One two"
    assert before + after == "One two three.\n"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200), st.text(max_size=200))
def test_excerpt_plus_rest_is_the_body_without_the_marker(head: str, tail: str) -> None:
    """Property: before + after equals the body with the marker line removed."""
    head = head.replace("<!--", "").replace("```", "").replace("~~~", "")
    if any(split_excerpt(line) for line in head.splitlines()):
        return
    body = head.rstrip("\n") + "\n" + "<!--more-->\n" + tail
    parts = split_excerpt(body)
    assert parts is not None
    assert parts[0] + parts[1] == body.replace("<!--more-->", "", 1)


@pytest.mark.parametrize(
    ("body", "override", "expected"),
    [
        ("Intro.\n\n<!--more-->\n\nRest.\n", "", ("Intro.\n\n\n\nRest.\n", "Intro.\n\n")),
        ("Intro.\n\n<!--more-->\n\nRest.\n", "Mine.", ("Intro.\n\n\n\nRest.\n", "Mine.")),
        ("Just a body.\n", "", ("Just a body.\n", None)),
        ("Just a body.\n", "Mine.", ("Just a body.\n", "Mine.")),
    ],
)
def test_the_override_wins_then_the_marker_then_the_cut(
    body: str, override: str, expected: tuple[str, str | None]
) -> None:
    """The front matter's summary overrides the marker; without either the summary is cut from the content (None)."""
    assert sources(body, override) == expected


def test_a_long_description_is_cut_at_a_word() -> None:
    """og:description is the summary's text, cut at a word before DESCRIPTION_CHARACTERS, with an ellipsis."""
    words = " ".join(f"word{i}," for i in range(100))
    cut = description(f"<p>{words}</p>")
    assert cut.endswith("…") and len(cut) <= DESCRIPTION_CHARACTERS + 1
    assert words.startswith(cut.removesuffix("…")) and not cut.removesuffix("…").endswith(",")
    assert description("<p>Short &amp; sweet.</p>") == "Short & sweet."


def test_every_plain_form_of_a_summary_reads_the_same_text(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """og:description, the JSON-LD description and JSON Feed's summary are one text: an element inside a word
    adds no space to it ("**bold**<em>ly</em>," reads "boldly,")."""
    write_post("2025-06-01-styled.md", title="Styled", body="A **bold**<em>ly</em>, *styled* intro; and more.\n")
    settings = make_settings()
    builder = Builder(settings)
    builder.reload(NOW)
    client = create_app(settings, builder).test_client()
    page = lxml.html.fromstring(client.get("/posts/styled/").get_data(as_text=True))
    og = page.xpath('//meta[@property="og:description"]/@content')[0]
    json_ld = json.loads(page.xpath('//script[@type="application/ld+json"]')[0].text)["description"]
    item = json.loads((settings.output_dir / "all.json").read_bytes())["items"][0]
    assert og == json_ld == item["summary"] == plain_text(builder.snapshot.catalog.posts[0].summary_html)
    assert og == "A boldly, styled intro; and more."
