"""Run Debian's nginx with the shipped server block (deploy/nginx.conf), included as sites-enabled/ includes it.

Only what the block says an operator changes is replaced: the site's folder
(``/srv/syndicator``), the app's address (``127.0.0.1:8000``), site_url
(``https://blog.example.org``) and its one ``listen`` line. The main config around it is Debian's, kept to what matters
here (its http settings, gzip on, the temp folders and logs under the test's
folder).
"""

from __future__ import annotations

import os
import re
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

SERVER_BLOCK = DEPLOY / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
LISTEN = re.compile(r"^(\s*)listen\s[^;]*;", re.MULTILINE)

MAIN = """{user}worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 256; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {work}/access.log;
    gzip on;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/sites-enabled/*;
}}
"""


def server_block(site: Path, app: str, port: int, text: str | None = None, site_url: str = "") -> str:
    """The shipped block (or ``text``, a copy of it) with the site's folder, the app's address, site_url (by
    default nginx's own address) and its listen line replaced."""
    text = SERVER_BLOCK.read_text() if text is None else text
    assert len(LISTEN.findall(text)) == 1, "deploy/nginx.conf has one listen line"
    assert "/srv/syndicator" in text and "127.0.0.1:8000" in text and "https://blog.example.org" in text
    text = text.replace("/srv/syndicator", str(site)).replace("127.0.0.1:8000", app)
    text = text.replace("https://blog.example.org", site_url or f"http://127.0.0.1:{port}")
    return LISTEN.sub(lambda m: f"{m.group(1)}listen 127.0.0.1:{port};", text)


@contextmanager
def running_nginx(work: Path, site: Path, app: str, port: int | None = None, site_url: str = "") -> Iterator[str]:
    """nginx on a free loopback port with the shipped block over ``site`` in front of ``app``; yields its URL."""
    if NGINX is None:
        pytest.fail("no nginx: .ci/run installs Debian's nginx")
    port = port or free_port()
    (work / "sites-enabled").mkdir(parents=True, exist_ok=True)
    (work / "sites-enabled" / "syndicator").write_text(server_block(site, app, port, site_url=site_url))
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers must read the test's private folders
    (work / "nginx.conf").write_text(MAIN.format(user=user, work=work))
    checked = subprocess.run([NGINX, "-t", "-p", str(work), "-c", str(work / "nginx.conf")], capture_output=True)
    assert checked.returncode == 0, checked.stderr.decode()
    process = subprocess.Popen(
        [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(url + "/feeds/nothing", timeout=2)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((work / "error.log").read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
