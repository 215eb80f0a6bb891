"""A mail's text part from HTML (SPEC "Following by email"): paragraphs, lists and links kept as plain text."""

from __future__ import annotations

from syndicator.core.mailtext import html_text


def test_the_text_part_keeps_paragraphs_lists_and_links() -> None:
    """Paragraphs apart, list items dashed, a link's URL after its text, an image by its alt."""
    html = '<p>One <a href="https://x.org/">two</a>.</p><ul><li>a</li><li>b</li></ul><p><img src="i" alt="Cat"></p>'
    assert html_text(html) == "One two <https://x.org/>.\n\n- a\n- b\n\n[Cat]"
