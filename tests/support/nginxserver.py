"""Run Debian's nginx with the shipped deploy/nginx.conf over a built site folder, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from support.paths import DEPLOY
from support.server import free_port

CONFIG = DEPLOY / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@contextmanager
def running_nginx(work: Path, site: Path) -> Iterator[str]:
    """nginx serving ``site`` (the folder holding feeds/) with the shipped config; yields its base URL."""
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("no nginx on the CI machine: .ci/run must install Debian's nginx")
        pytest.skip("nginx is not installed")
    port = free_port()
    text = (
        CONFIG.read_text()
        .replace("root /srv/syndicator;", f"root {site};")
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
        .replace('set $site_url "http://127.0.0.1:8080";', f'set $site_url "http://127.0.0.1:{port}";')
        .replace("/var/log/nginx/syndicator-feeds.log", str(work / "logs" / "feeds.log"))
    )
    # The test runs as root in a private temp folder: let the workers read it.
    text = "user root;\n" + text
    (work / "nginx.conf").write_text(text)
    (work / "logs").mkdir(exist_ok=True)
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(work),
            "-c",
            str(work / "nginx.conf"),
            "-g",
            f"daemon off; pid {work}/nginx.pid; error_log {work}/logs/error.log;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/feeds/", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)
