"""Shared fixtures: settings factory, a posts folder with a writer, the app and its client, a real server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from support.commands import run_syndicator
from support.factories import NOW
from support.factories import post_text
from support.paths import SEED_POSTS
from support.server import Server
from support.server import free_port
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app

pytest_plugins = ("support.mailsite",)  # the fixtures of a site that mails its followers
__all__ = ["NOW", "SEED_POSTS", "Server", "free_port", "post_text"]  # still importable from here, as they were

# Hypothesis checks what a function returns, not how fast: its default 200 ms deadline per example fails
# a correct test on a machine busy with other work (a timing assertion), so no example has a deadline.
hypothesis_settings.register_profile("syndicator", deadline=None)
hypothesis_settings.load_profile("syndicator")


@pytest.fixture(autouse=True)
def _scrub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SYNDICATOR_* variable of the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("SYNDICATOR_"):
            monkeypatch.delenv(key)


@pytest.fixture
def posts_dir(tmp_path: Path) -> Path:
    path = tmp_path / "posts"
    path.mkdir()
    return path


@pytest.fixture
def make_settings(tmp_path: Path, posts_dir: Path) -> Callable[..., Settings]:
    """Settings over the temp posts folder, with any value overridden."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "site_title": "Test Site",
            "site_url": "https://example.org",
            "posts_dir": posts_dir,
            "output_dir": tmp_path / "feeds",
            "state_dir": tmp_path / "state",
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def write_post(posts_dir: Path) -> Callable[..., Path]:
    """Write a post file under the posts folder: write_post("name.md", title=..., categories="[A, B]")."""

    def writer(name: str, text: str | None = None, **fields: Any) -> Path:
        path = posts_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text is not None else post_text(**fields), encoding="utf-8")
        return path

    return writer


@pytest.fixture
def builder(settings: Settings) -> Builder:
    return Builder(settings)


@pytest.fixture
def client(settings: Settings, builder: Builder, write_post: Callable[..., Path]) -> Any:
    """A test client over two loaded posts in two categories."""
    write_post("2025-06-01-first.md", title="First", categories="[Alpha, Beta]")
    write_post("2025-06-02-second.md", title="Second", date="2025-06-02T10:00:00Z", categories="[Alpha]")
    builder.reload(NOW)
    return create_app(settings, builder).test_client()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``syndicator serve`` in a folder with the given environment; stopped after the test."""
    servers: list[Server] = []

    def start(
        cwd: Path = tmp_path, port: int | None = None, *, limits: dict[str, Any] | None = None, **env: str
    ) -> Server:
        server = Server(cwd, env, port, **(limits or {}))  # limits: obeying_modes, file_size (Server's)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``syndicator <args>`` as a process of its own (``support.commands.run_syndicator``), in tmp_path unless
    ``cwd`` names another folder: ``run_cli("build", "--strict", env={...}, timeout=60, check=True)``."""

    def run(*args: str, cwd: Path = tmp_path, **options: Any) -> subprocess.CompletedProcess[str]:
        return run_syndicator(*args, cwd=cwd, **options)

    return run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/data/golden from the current output.")
