"""The house's rules (STYLE.md §1): four wings, data flowing one way, a pure core, each library in its room."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "syndicator"
MODULES = sorted(SRC.rglob("*.py"))

# What each part of the package may import of the package: lower rows only, nothing imports cli.
MAY_IMPORT: dict[str, set[str]] = {
    "__init__": set(),
    "__main__": {"cli"},
    "config": set(),
    "model": set(),
    "outbound": set(),  # requests sent out to checked addresses: the hub's and the importer's
    "core": {"__init__", "config", "model", "core"},
    "store": {"__init__", "config", "model", "core", "store"},
    "incremental": {"__init__", "config", "model", "core", "store", "incremental"},
    "service": {"__init__", "config", "model", "outbound", "core", "store", "incremental", "service"},
    "importers": {"__init__", "config", "model", "outbound", "core", "store", "importers"},
    "cli": {"__init__", "config", "model", "outbound", "core", "store", "incremental", "service", "importers", "cli"},
}

# The pure core touches no disk, clock, environment, process, thread, socket or database.
NOT_IN_CORE = {
    "os",
    "io",
    "time",
    "threading",
    "multiprocessing",
    "concurrent",
    "subprocess",
    "socket",
    "sqlite3",
    "tempfile",
    "shutil",
    "pickle",
    "flask",
    "werkzeug",
    "granian",
    "apscheduler",
    "watchdog",
}

# Each third-party library lives in one room.
OWNERS = {
    "cmarkgfm": {"core.cmark"},
    "cffi": {"core.cmark"},
    "nh3": {"core.markup"},
    "lz4": {"core.text"},
    "slugify": {"core.markup"},
    "yaml": {"core.frontmatter"},
    "feedgen": {"core.render"},
    "lxml": {"core.render", "core.feedmedia"},
    "imagesize": {"store.sources"},
    "flask": {"service.web", "service.context", "service.oldurls", "service.statspage", "service.fediweb"},
    "werkzeug": {
        "service.web",
        "service.oldurls",
        "service.feedserver",
        "service.partners",
        "service.assetserver",
        "service.pageserver",
        "service.fediweb",
    },
    "jinja2": {"core.pagerender"},
    "apscheduler": {"service.schedule"},
    "watchdog": {"service.watch"},
    "click": {"cli", "cli.common", "cli.build", "cli.wordpress", "cli.audience"},
    "granian": {"service.server"},
    "defusedxml": {"importers.wxr"},
    "tomlkit": {"store.configfile"},
    "cryptography": {"service.httpsig"},
    "http_message_signatures": {"service.httpsig"},
}


def name_of(module: Path) -> str:
    """'core.parse' for src/syndicator/core/parse.py, 'core' for its __init__."""
    parts = module.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def part_of(name: str) -> str:
    return name.split(".")[0]


def imports(module: Path) -> set[str]:
    """The modules one module imports (syndicator.* without the prefix), wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", MODULES, ids=name_of)
def test_imports_run_down_the_house(module: Path) -> None:
    """core imports only config and model; store adds core; the caches wing adds store; service all below it."""
    own = part_of(name_of(module))
    assert own in MAY_IMPORT, f"{name_of(module)} is in no part of the house"
    for imported in imports(module):
        if imported == "syndicator" or imported.startswith("syndicator."):
            target = imported.removeprefix("syndicator").lstrip(".") or "__init__"
            assert part_of(target) in MAY_IMPORT[own], f"{name_of(module)} may not import {imported}"


@pytest.mark.parametrize("module", [m for m in MODULES if name_of(m).startswith("core")], ids=name_of)
def test_the_core_is_pure(module: Path) -> None:
    """No disk, clock, processes or threads in core/, and no module-level cache (no lru_cache, no empty dict)."""
    tree = ast.parse(module.read_text())
    assert not {i.split(".")[0] for i in imports(module)} & NOT_IN_CORE, name_of(module)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            decorators = [ast.unparse(d) for d in node.decorator_list]
            assert not any("cache" in d for d in decorators), f"{name_of(module)}:{node.lineno} caches"
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            empty = isinstance(node.value, ast.Dict | ast.List | ast.Set) and not getattr(node.value, "elts", None)
            empty = empty and not getattr(node.value, "keys", None)
            assert not empty, f"{name_of(module)}:{node.lineno} holds module-level state"


@pytest.mark.parametrize("module", MODULES, ids=name_of)
def test_each_library_belongs_to_one_room(module: Path) -> None:
    """A third-party library is imported only where it belongs (feedgen in the renderer, flask in the web app...)."""
    for imported in imports(module):
        owners = OWNERS.get(imported.split(".")[0])
        if owners is not None:
            assert name_of(module) in owners, f"{imported} belongs to {sorted(owners)}, not {name_of(module)}"
