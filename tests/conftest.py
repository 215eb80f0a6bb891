"""Shared fixtures: settings factory, a posts folder with a writer, the app and its client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.web import create_app

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
pytest_plugins = ("support.mailsite",)  # the fixtures of a site that mails its followers
SEED_POSTS = Path(__file__).resolve().parent.parent / "posts"


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


def post_text(title: str = "A post", date: str = "2025-06-01T10:00:00Z", body: str = "Hello.\n", **fields: Any) -> str:
    """The text of a post file with the given front matter fields (YAML flow values)."""
    lines = ["---", f"title: {title!r}" if title is not None else "", f"date: {date}" if date is not None else ""]
    for key, value in fields.items():
        lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(line for line in lines if line) + "\n" + body


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A real ``syndicator serve`` subprocess on a free loopback port."""

    def __init__(self, cwd: Path, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / "serve.log"
        self._log_file = self.log.open("wb")
        full_env = {**os.environ, **env, "SYNDICATOR_SITE_URL": self.url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syndicator", "serve", "--port", str(self.port)],
            cwd=cwd,
            env=full_env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.wait_until(self.loaded, what="server start")

    def loaded(self) -> bool:
        """Whether the server answers and its first load is done (it answers from the first moment)."""
        response = self.get("/healthz")
        return response.status_code == 200 and response.json()["status"] != "starting"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, allow_redirects=False, **kwargs)

    def wait_until(self, condition: Callable[[], bool], *, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                if condition():
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``syndicator serve`` in a folder with the given environment; stopped after the test."""
    servers: list[Server] = []

    def start(cwd: Path = tmp_path, port: int | None = None, **env: str) -> Server:
        server = Server(cwd, env, port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/data/golden from the current output.")
