"""The page templates shipped with the package, read from its files (the renderer takes them as text).

Read once, by the builder that renders the pages.
"""

from __future__ import annotations

from importlib import resources


def read_templates() -> dict[str, str]:
    """Every template of the package's ``templates/`` folder: {file name: its text}."""
    folder = resources.files("syndicator") / "templates"
    return {entry.name: entry.read_text(encoding="utf-8") for entry in folder.iterdir() if entry.name.endswith(".html")}
