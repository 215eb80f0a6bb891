"""The config file edited in place by an import: its ``[redirects]`` and ``[categories]`` tables grow.

Everything else in the file (comments, order, other keys) is kept as it is, and
what the file already says wins over what the import would write: an old slug it
maps, a category's parent or description it gives, are left alone.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from syndicator.config import ConfigError
from syndicator.configtables import REDIRECT_KINDS
from syndicator.configtables import check_redirect
from syndicator.configtables import parse_categories
from syndicator.store.files import FILE_MODE
from syndicator.store.files import write_atomic

Table = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Written:
    """What an import added to the config file."""

    redirects_added: int = 0
    redirects_kept: int = 0  # old slugs the file already maps elsewhere
    categories_added: int = 0  # categories given a parent or a description


def write_tables(path: Path, redirects: Table, categories: Table) -> Written:
    """Add redirects and category entries to a config file (created when missing), keeping the rest of it and its
    permissions (it may hold secrets).
    """
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, TOMLKitError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    parse_categories(categories, str(path))
    added, kept = _add_redirects(document, redirects, path) if any(redirects.values()) else (0, 0)
    described = _add_categories(document, categories, path) if categories else 0
    if added or described:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else FILE_MODE
        write_atomic(path, tomlkit.dumps(document).encode("utf-8"), mode)
    return Written(added, kept, described)


def _super_table(document: Any, name: str, path: Path) -> Any:
    table = document.setdefault(name, tomlkit.table(is_super_table=True))
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {name} must be a table")
    return table


def _add_redirects(document: Any, entries: Table, path: Path) -> tuple[int, int]:
    """Old slug -> new slug entries per kind; an old slug the file maps is left as it is. Returns (added, kept)."""
    redirects = _super_table(document, "redirects", path)
    added = kept = 0
    for kind in REDIRECT_KINDS:
        wanted = {old: new for old, new in sorted(entries.get(kind, {}).items()) if old != new}
        for old, new in wanted.items():
            check_redirect(kind, old, new, str(path))
        if not wanted:
            continue
        if kind not in redirects:  # a new table at once: tomlkit adds keys one by one in quadratic time
            lines = (
                f"{tomlkit.key(old).as_string()} = {tomlkit.string(new).as_string()}" for old, new in wanted.items()
            )
            redirects[kind] = tomlkit.parse("[t]\n" + "\n".join(lines) + "\n")["t"]
            added += len(wanted)
            continue
        table = redirects[kind]
        for old, new in wanted.items():
            if old in table:
                kept += table[old] != new
            else:
                table[old] = new
                added += 1
    return added, kept


def _add_categories(document: Any, entries: Table, path: Path) -> int:
    """A table per category with its parent and description; keys the file has are left as they are."""
    categories = _super_table(document, "categories", path)
    changed = 0
    for slug, entry in entries.items():
        table = categories.setdefault(slug, tomlkit.table())
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: categories.{slug} must be a table")
        missing = {key: value for key, value in entry.items() if key not in table}
        for key, value in missing.items():
            table[key] = value
        changed += bool(missing)
    return changed
