"""Privacy keys fail closed: a misspelled `draft` or `visibility` publishes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import NOW
from syndicator.config import Settings
from syndicator.core.privacy import near_miss
from syndicator.service.build import Builder

MISSPELLED = "the post stays unpublished until the key is spelled right (or removed)"


@pytest.mark.parametrize(
    ("key", "value", "meant"),
    [
        ("Visibility", "partners", "visibility"),
        ("visiblity", "partners", "visibility"),
        ("VISIBILTY", "partners", "visibility"),
        ("Draft", "true", "draft"),
        ("drafts", "true", "draft"),
        ("DRAFT", "false", "draft"),
    ],
)
def test_a_misspelled_privacy_key_keeps_the_post_unpublished(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], key: str, value: str, meant: str
) -> None:
    """A key that is `draft` or `visibility` in another case or within two edits fails closed: the embargoed story is
    published nowhere, and the file has a problem on the key's line."""
    write_post("public.md", title="Public")
    write_post("embargo.md", text=f"---\ntitle: Embargoed merger\ndate: 2025-06-01\n{key}: {value}\n---\nSecret.\n")
    settings = make_settings()
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 1
    assert [(Path(p.path).name, p.line, p.fatal) for p in report.problems] == [("embargo.md", 4, True)]
    assert report.problems[0].message == f"{key!r} looks like {meant!r} misspelled: {MISSPELLED}"
    written = b"".join(f.read_bytes() for f in settings.output_dir.rglob("*") if f.is_file())
    assert b"Embargoed" not in written and b"Secret." not in written
    assert builder.snapshot is not None
    assert all(b"Embargoed" not in file.body for file in builder.snapshot.files.values())


@pytest.mark.parametrize("key", ["date", "data", "title", "type", "layout", "drafted-by-me", "visible", "tags"])
def test_other_keys_are_not_taken_for_privacy_keys(key: str) -> None:
    """Keys that are not within two edits of `draft` or `visibility` are only unknown keys (or known ones)."""
    assert near_miss(key) is None
