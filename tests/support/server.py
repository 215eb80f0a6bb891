"""A real ``syndicator serve`` subprocess on a free loopback port, for tests, and the free port itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from support.commands import limited


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A real ``syndicator serve`` subprocess on a free loopback port."""

    def __init__(
        self,
        cwd: Path,
        env: dict[str, str],
        port: int | None = None,
        *,
        obeying_modes: bool = False,
        file_size: int | None = None,
    ) -> None:
        """``obeying_modes`` and ``file_size``: as ``support.commands.run_syndicator``'s."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / "serve.log"
        self._log_file = self.log.open("wb")
        full_env = {**os.environ, "SYNDICATOR_SITE_URL": self.url, **env}  # its own address, unless the test names one
        command = [sys.executable, "-m", "syndicator", "serve", "--port", str(self.port)]
        command = limited(command, obeying_modes=obeying_modes, file_size=file_size)
        self.process = subprocess.Popen(
            command,
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
