"""Whole outputs: the feeds of tests/data/posts at a fixed moment, byte for byte."""

from __future__ import annotations

import shutil
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest

from support.outputs import published_tree
from support.paths import DATA
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.store.claim import CLAIM_FILE

GOLDEN = DATA / "golden"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_feeds_match_the_golden_tree(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The feeds/ tree is byte-equal to tests/data/golden (rewrite with --update-golden)."""
    settings = Settings(
        site_title="Tajikistan Monitor",
        site_url="https://blog.example.org",
        site_author="Editor",
        posts_dir=DATA / "posts",
        output_dir=tmp_path / "feeds",
        state_dir=tmp_path / "state",
    )
    Builder(settings).reload(NOW)
    produced = published_tree(settings.output_dir)
    if request.config.getoption("--update-golden"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(settings.output_dir, GOLDEN, ignore=shutil.ignore_patterns(CLAIM_FILE))
    expected = published_tree(GOLDEN)
    assert sorted(produced) == sorted(expected)
    for path, data in produced.items():
        assert data == expected[path], f"{path} differs from the golden file"
