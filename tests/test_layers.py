"""The package's import rule: each module imports only the modules of its row."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "syndicator"

ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "__main__": {"cli"},
    "config": set(),
    "model": set(),
    "markup": set(),
    "sources": set(),
    "forked": set(),
    "records": {"__init__", "config", "model", "ledger", "sources"},
    "posts": {"__init__", "config", "model", "markup", "sources", "forked"},
    "catalog": {"model"},
    "feeds": {"__init__", "config", "model", "markup", "catalog", "forked"},
    "output": set(),
    "ledger": {"model"},
    "callbacks": {"__init__", "config"},
    "hub": {"__init__", "config", "callbacks"},
    "wordpress": {"markup", "output", "posts"},
    "build": {"config", "model", "posts", "catalog", "feeds", "output", "ledger", "records"},
    "web": {"config", "model", "catalog", "output", "build", "hub"},
    "watch": set(),
    "schedule": {"config", "build", "hub", "watch"},
    "cli": {
        "__init__",
        "config",
        "model",
        "posts",
        "catalog",
        "feeds",
        "output",
        "ledger",
        "build",
        "web",
        "schedule",
        "hub",
        "wordpress",
        "records",
        "watch",
    },
}

THIRD_PARTY_OWNER = {
    "cmarkgfm": "markup",
    "cffi": "markup",
    "nh3": "markup",
    "slugify": "markup",
    "frontmatter": "posts",
    "yaml": "posts",
    "feedgen": "feeds",
    "flask": "web",
    "werkzeug": "web",
    "apscheduler": "schedule",
    "watchdog": "watch",
    "click": "cli",
    "granian": "cli",
    "defusedxml": "wordpress",
}


def imports(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "syndicator":
                names.update(
                    f"syndicator.{alias.name}"
                    for alias in node.names
                    if alias.name not in ("__version__", "CODE_FINGERPRINT")
                )
                names.add("syndicator.__init__")
    return names


@pytest.mark.parametrize("module", sorted(SRC.glob("*.py")), ids=lambda p: p.stem)
def test_imports_follow_the_layers(module: Path) -> None:
    """Data flows one way; each third-party library belongs to one module."""
    assert module.stem in ALLOWED, f"{module.stem} is not in the layer table"
    for name in imports(module):
        top = name.split(".")[0]
        if top == "syndicator":
            inner = name.split(".")[1] if "." in name else "__init__"
            assert inner in ALLOWED[module.stem], f"{module.stem} may not import syndicator.{inner}"
        elif top in THIRD_PARTY_OWNER:
            assert THIRD_PARTY_OWNER[top] == module.stem, f"{top} belongs to {THIRD_PARTY_OWNER[top]}"
