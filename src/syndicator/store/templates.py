"""The page templates: the package's, and the publisher's theme's (``theme_dir``), read from their files.

The renderer takes them as text with the file each came from (so that an
error in one names it); the theme's are found first. Read once, by the
builder that renders the pages. A theme's static files are looked up here too.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from syndicator.config import Settings

if TYPE_CHECKING:  # a one-off build reads no template: Jinja is imported by what renders pages
    from syndicator.core.pagerender import Templates

TEMPLATES, STATIC = "templates", "static"  # the folders of a theme, as of the package


class NotText(ValueError):
    """A theme's template that is not UTF-8 text: its path, the line of the first byte that is not, and that byte."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise NotText(str(path), line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from exc


def read_templates(settings: Settings | None = None) -> list[Templates]:
    """The templates found first to last: theme_dir's ``templates/`` (when set), then the package's.

    Each as {file name: (its text, its path)}. A theme's file that cannot be
    read is an OSError naming it; one that is not UTF-8 text, a NotText naming it and the line.
    """
    layers: list[Templates] = []
    theme = settings.theme_dir if settings is not None else None
    if theme is not None and (theme / TEMPLATES).is_dir():
        found = sorted((theme / TEMPLATES).glob("*.html"))
        layers.append({path.name: (_text(path), str(path)) for path in found})
    folder = resources.files("syndicator") / TEMPLATES
    bundled = (entry for entry in folder.iterdir() if entry.name.endswith(".html"))
    layers.append(
        {entry.name: (entry.read_text(encoding="utf-8"), f"syndicator/{TEMPLATES}/{entry.name}") for entry in bundled}
    )
    return layers


def static_bytes(settings: Settings, name: str) -> bytes:
    """A static file's bytes: theme_dir's (``static/<name>``) when it has one, else the package's."""
    themed = theme_static(settings, name)
    if themed is not None:
        return themed.read_bytes()
    return (resources.files("syndicator") / STATIC / name).read_bytes()


def theme_static(settings: Settings, name: str) -> Path | None:
    """The theme's own static file of this name (a path under ``static/``, never leaving it), or None."""
    theme = settings.theme_dir
    if theme is None or not name or name.startswith(("/", "\\")) or ".." in Path(name).parts:
        return None
    path = theme / STATIC / name
    return path if path.is_file() else None
