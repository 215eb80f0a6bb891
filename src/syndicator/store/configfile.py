"""Edit the config file in place: the importer's redirects added to ``[redirects]``, the rest kept as written."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from syndicator.config import REDIRECT_KINDS
from syndicator.config import ConfigError
from syndicator.config import check_redirect
from syndicator.store.files import FILE_MODE
from syndicator.store.files import write_atomic


def write_redirects(path: Path, entries: Mapping[str, Mapping[str, str]]) -> tuple[int, int]:
    """Add redirects to a config file (created when missing), keeping the rest of it and its permissions.

    An old slug the file already maps is left as the file has it. Returns (added, kept).
    """
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, TOMLKitError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    redirects = document.setdefault("redirects", tomlkit.table(is_super_table=True))
    if not isinstance(redirects, dict):
        raise ConfigError(f"{path}: redirects must be a table")
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
    if added:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else FILE_MODE  # a file of secrets stays private
        write_atomic(path, tomlkit.dumps(document).encode("utf-8"), mode)
    return added, kept
