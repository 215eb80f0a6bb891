"""Which way a site's language is written (its pages' `dir`)."""

from __future__ import annotations

import pytest

from syndicator.core.languages import direction


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "rtl"),
        ("he-IL", "rtl"),
        ("fa", "rtl"),
        ("ur-PK", "rtl"),
        ("yi", "rtl"),
        ("pa-Arab", "rtl"),  # Punjabi in the Shahmukhi script
        ("ku-Arab", "rtl"),
        ("az-Latn", "ltr"),
        ("ug-Cyrl", "ltr"),  # a right-to-left language in a left-to-right script
        ("en", "ltr"),
        ("zh-Hant-TW", "ltr"),
        ("ru", "ltr"),
    ],
)
def test_direction_follows_the_language_and_its_script(language: str, expected: str) -> None:
    assert direction(language) == expected
