"""Add redirects to a config file in place, keeping the rest of it as it is (the importer's; with tomlkit)."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from syndicator.config import REDIRECT_KINDS
from syndicator.config import ConfigError
from syndicator.config import check_redirect


def write_redirects(path: Path, entries: Mapping[str, Mapping[str, str]]) -> tuple[int, int]:
    """Add redirects to a config file (created when missing), keeping the rest of it as it is.

    An old slug the file already maps is left as the file has it. Returns (added, kept).
    """
    import tomlkit  # only the importer writes config files
    from tomlkit.exceptions import TOMLKitError

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
        _replace_file(path, tomlkit.dumps(document))
    return added, kept


def _replace_file(path: Path, text: str) -> None:
    """Write a small text file atomically (temp file beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
