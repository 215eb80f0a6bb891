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
    "build": {"config", "model", "posts", "catalog", "feeds", "output", "ledger", "records"},
    "web": {"config", "model", "catalog", "output", "build", "hub"},
    "watch": set(),
    "schedule": {"config", "build", "hub", "watch"},
    # the importers package: one engine per module, its steps beside it
    "importers.__init__": set(),
    "importers.wxr": set(),
    "importers.content": set(),
    "importers.media": {"output"},
    "importers.wordpress": {
        "config",
        "markup",
        "output",
        "posts",
        "importers.wxr",
        "importers.content",
        "importers.media",
    },
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
        "importers",
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
    "defusedxml": "importers.wxr",
    "tomlkit": "config",
}


def imports(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module in ("syndicator", "syndicator.importers"):
                names.update(
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name not in ("__version__", "CODE_FINGERPRINT")
                )
                names.add(f"{node.module}.__init__")
    return names


def inner_name(name: str) -> str:
    """The layer-table name of a syndicator module: 'syndicator.importers.wxr' -> 'importers.wxr'."""
    parts = name.split(".")[1:] or ["__init__"]
    return ".".join(parts[:2]) if parts[0] == "importers" and len(parts) > 1 else parts[0]


def table_name(module: Path) -> str:
    relative = module.relative_to(SRC).with_suffix("")
    return ".".join(relative.parts)


MODULES = sorted([*SRC.glob("*.py"), *SRC.glob("importers/*.py")])


@pytest.mark.parametrize("module", MODULES, ids=table_name)
def test_imports_follow_the_layers(module: Path) -> None:
    """Data flows one way; each third-party library belongs to one module."""
    name = table_name(module)
    assert name in ALLOWED, f"{name} is not in the layer table"
    for imported in imports(module):
        top = imported.split(".")[0]
        if top == "syndicator":
            inner = inner_name(imported)
            allowed = ALLOWED[name]
            assert inner in allowed or inner.split(".")[0] in allowed, f"{name} may not import syndicator.{inner}"
        elif top in THIRD_PARTY_OWNER:
            assert THIRD_PARTY_OWNER[top] == name, f"{top} belongs to {THIRD_PARTY_OWNER[top]}"


def test_no_module_is_left_out_of_the_table() -> None:
    """Every module of the package, the importers included, has a row (and every row a module)."""
    assert {table_name(m) for m in MODULES} == set(ALLOWED)
