"""A post's rendered text (core/text.py): its summary cut at summary_words words, and summaries that carry no ids."""

from __future__ import annotations

from syndicator.core.markup import plain_text
from syndicator.core.text import MarkdownText

BASE = "https://example.org/posts/my-post/"
FOOTNOTES = 'Text with a note[^a] and [a link](#here).\n\n<p id="here">Here.</p>\n\n[^a]: The note.\n'


def test_summary_cut_has_exactly_summary_words_words() -> None:
    """summary_words = 20 on a first paragraph with punctuation after inline elements gives 20 words."""
    body = "One *two*, three **four**; " + " ".join(f"w{i}" for i in range(5, 30)) + ".\n"
    summary = MarkdownText(body, None, BASE, 20).summary_html
    assert plain_text(summary).split() == ["One", "two,", "three", "four;", *(f"w{i}" for i in range(5, 20)), "w20…"]


def test_summaries_carry_no_ids() -> None:
    """A summary is shown beside others (category pages): its footnote links stay, its ids go."""
    cut = MarkdownText(FOOTNOTES, None, BASE, 55).summary_html
    marked = MarkdownText(FOOTNOTES, 'Before <span id="x">the</span> marker.', BASE, 55).summary_html
    assert "#user-content-fn-a" in cut
    assert " id=" not in cut and " id=" not in marked
