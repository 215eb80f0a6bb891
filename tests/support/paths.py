"""Where the tests find the checkout: its root, the tests' data folder, the bundled posts, the deploy files."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
DATA = TESTS / "data"
SEED_POSTS = ROOT / "posts"
SRC = ROOT / "src" / "syndicator"
DEPLOY = ROOT / "deploy"
