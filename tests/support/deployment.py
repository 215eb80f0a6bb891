"""A site folder served as the README deploys it: ``syndicator serve --config syndicator.toml`` run in the folder
(no SYNDICATOR_* variable), its commands typed there, and the parity of nginx in front written as a matrix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from support.parity import Probe
from support.parity import compare
from support.parity import matrix_line


@dataclass
class Deployment:
    """A site served by serve with the shipped nginx in front; what its probes need to know of it."""

    site: Path
    nginx: str
    serve: str
    token: str = ""  # a partner's
    newest_archive: int = 0  # the number of the site-wide feed's newest archive page (not yet full)
    thumbnail: str = ""  # a resized copy a feed names as media:thumbnail (under /feeds/media/_resized/)


def environment() -> dict[str, str]:
    """The operator's shell: no SYNDICATOR_* variable."""
    return {key: value for key, value in os.environ.items() if not key.startswith("SYNDICATOR_")}


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``syndicator <args>`` in the site's folder, as an operator types it (stopped at a timeout)."""
    command = [sys.executable, "-m", "syndicator", *args]
    process = subprocess.Popen(
        command, cwd=site, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


class Serve:
    """``syndicator serve --config syndicator.toml`` in the site's folder, stopped by its pid."""

    def __init__(self, site: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = (site / "serve.log").open("ab")
        command = [sys.executable, "-m", "syndicator", "serve", "--config", "syndicator.toml", "--port", str(port)]
        self.process = subprocess.Popen(command, cwd=site, env=environment(), stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for(self, path: str, status: int, what: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited ({what})"
            try:
                if requests.get(self.url + path, timeout=5, allow_redirects=False).status_code == status:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def parity(
    deployment: Deployment, probes: list[Probe], allowed: dict[tuple[str, str], str]
) -> tuple[dict[tuple[str, str], str], str]:
    """Every probe through nginx and straight to serve: what differs (probe, field -> both values) and the matrix."""
    observed: dict[tuple[str, str], str] = {}
    lines = []
    for probe in probes:
        nginx, serve, found = compare(deployment.nginx, deployment.serve, probe)
        for name in found:
            observed[(probe.name, name)] = f"nginx {nginx.headers.get(name)!r}, serve {serve.headers.get(name)!r}"
        lines.append(matrix_line(probe, nginx, serve, found, {f: allowed.get((probe.name, f), "") for f in found}))
    return observed, "\n".join(lines) + "\n"
