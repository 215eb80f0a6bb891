"""The house's rules (STYLE.md §1): four wings, data flowing one way, a pure core, each library in its room."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from support.paths import SRC

MODULES = sorted(SRC.rglob("*.py"))

# What each part of the package may import of the package: lower rows only, nothing imports cli.
MAY_IMPORT: dict[str, set[str]] = {
    "__init__": set(),
    "__main__": {"cli"},
    "config": {"configtables", "podcastconfig", "configchecks"},
    "configtables": set(),  # the [redirects] and [categories] tables of the config file
    "configchecks": {"configtables"},  # what a setting may be beyond its type (site_url's host, the site's images)
    "podcastconfig": set(),  # the [podcasts.*] tables of the config file
    "digest": set(),
    "pickling": set(),  # frozen dataclasses pickled as their fields (the post cache)
    "problem": {"pickling"},  # LoadProblem, apart so that a command reading a builder's report imports no model
    "model": {"digest", "pickling", "problem"},
    "outbound": set(),  # requests sent out to checked addresses: the hub's and the importer's
    "core": {"__init__", "config", "configtables", "podcastconfig", "digest", "model", "problem", "core"},
    "served": {"digest"},  # what is served at a URL: made by the builder's wings, answered by service.http
    "store": {
        *("__init__", "config", "configtables", "podcastconfig", "digest", "model", "problem", "core"),
        *("served", "store"),
    },
    "incremental": {
        "__init__",
        "config",
        "configtables",
        "podcastconfig",
        "digest",
        "model",
        "pickling",
        "problem",
        "core",
        "store",
        "served",
        "incremental",
    },
    "service": {
        *(
            "__init__",
            "config",
            "configtables",
            "podcastconfig",
            "configchecks",
            "digest",
            "model",
            "problem",
            "outbound",
        ),
        *("core", "store", "served", "incremental", "service"),
    },
    "importers": {
        "__init__",
        "config",
        "configtables",
        "podcastconfig",
        "digest",
        "model",
        "problem",
        "outbound",
        "core",
        "store",
        "importers",
    },
    "cli": {
        *(
            "__init__",
            "config",
            "configtables",
            "podcastconfig",
            "digest",
            "model",
            "problem",
            "outbound",
            "core",
            "store",
            "served",
        ),
        *("incremental", "service"),
        *("importers", "cli"),
    },
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
    "nh3": {"core.markup"},
    "lz4": {"core.text"},
    "slugify": {"core.markup"},
    "yaml": {"core.frontmatter"},
    "feedgen": {"core.render", "core.namespaces"},  # a package owner holds it in each of its modules
    "lxml": {"core.render", "core.namespaces"},
    "imagesize": {"store.sources"},
    "mutagen": {"store.sources"},
    "PIL": {"store.images"},
    "flask": {
        "service.http.app",
        "service.http.context",
        "service.http.views",
        "service.http.websub",
        "service.http.oldurls",
        "service.http.wpurls",
        "service.http.statspage",
        "service.http.fediweb",
        "service.http.followpages",
    },
    "werkzeug": {
        "service.http.app",
        "service.http.proxies",
        "service.http.answer",
        "service.http.routes",
        "service.http.views",
        "service.http.websub",
        "service.http.oldurls",
        "service.http.wpurls",
        "service.http.fediweb",
        "service.http.followpages",
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
    "email_validator": {"core.mailaddress"},
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
    """model imports only digest; core only config and model; store adds core; the caches wing adds store; and so on."""
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
            name = name_of(module)
            assert any(name == owner or name.startswith(f"{owner}.") for owner in owners), (
                f"{imported} belongs to {sorted(owners)}, not {name}"
            )


# One room per rule (STYLE.md §1a): these spellings appear in one module only (docstrings aside).
ONE_ROOM = {
    "/posts/": ("core.actors", "core.urls"),  # a post's page; an ActivityPub object under its actor
    "/feeds/": ("core.urls",),
    "index.opml": ("core.urls",),
    "/partners": ("core.urls",),
    **{
        uri: (f"core.namespaces.{name}",)
        for name, uri in [
            ("atom", "http://www.w3.org/2005/Atom"),
            ("content", "http://purl.org/rss/1.0/modules/content/"),
            ("dc", "http://purl.org/dc/elements/1.1/"),
            ("history", "http://purl.org/syndication/history/1.0"),
            ("media", "http://search.yahoo.com/mrss/"),
            ("tombstones", "http://purl.org/atompub/tombstones/1.0"),
        ]
    },
}


@functools.cache  # read once for all of ONE_ROOM's cases: the sources do not change during the run
def strings(module: Path) -> frozenset[str]:
    """The string constants of a module, f-strings' literal parts included, docstrings left out."""
    tree = ast.parse(module.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return frozenset(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    )


@pytest.mark.parametrize(("spelling", "owner"), ONE_ROOM.items())
def test_a_cross_cutting_rule_is_spelled_in_one_module(spelling: str, owner: tuple[str, ...]) -> None:
    """The post page URL, the feeds' and the partners' URL paths and the OPML's name are written in core.urls
    alone, and each feed namespace's URI in its own module of core.namespaces."""
    spelled = sorted(name_of(m) for m in MODULES if any(spelling in text for text in strings(m)))
    assert spelled == list(owner)
