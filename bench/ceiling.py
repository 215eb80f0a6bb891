#!/usr/bin/env python3
"""How fast granian can answer at all: a WSGI app that does nothing, beside nginx serving the same bytes.

    python bench/ceiling.py               # a 264 KB body, the size of the benchmark's largest category feed
    python bench/ceiling.py --size 40000

The app answers every GET with the same bytes and every matching If-None-Match
with a 304, with no work of its own; granian runs it as `syndicator serve` runs
its app (one worker, HTTP/1), once with as many blocking threads as serve asks
for and once with one. nginx (`worker_processes auto`, sendfile) serves the same
bytes from a file, with its own ETag. wrk as in bench/run.py (-t2 -c50). What no
app on granian can beat is the ceiling of the serving rows' ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from servers import free_port  # bench/servers.py: the script's folder is on sys.path
from servers import wait_for
from servers import wrk

APP = """
import os
BODY = open(os.environ["CEILING_BODY"], "rb").read()
TAG = '"ceiling"'
def app(environ, start_response):
    if environ.get("HTTP_IF_NONE_MATCH") == TAG:
        start_response("304 Not Modified", [("ETag", TAG)])
        return [b""]
    start_response("200 OK", [("Content-Type", "application/atom+xml"), ("ETag", TAG)])
    return [BODY]
"""
SERVER = """
import sys
from granian.constants import HTTPModes, Interfaces
from granian.server import Server
sys.path.insert(0, sys.argv[3])
Server("noop:app", address="127.0.0.1", port=int(sys.argv[1]), interface=Interfaces.WSGI, workers=1,
       blocking_threads=int(sys.argv[2]), http=HTTPModes.http1, backlog=4096, backpressure=4096,
       log_access=False, websockets=False).serve()
"""
NGINX = """worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/error.log;
{user}events {{ worker_connections 4096; }}
http {{ sendfile on; tcp_nopush on; access_log off; default_type application/atom+xml;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  server {{ listen 127.0.0.1:{port}; root {work}; }} }}
"""


def serve_threads() -> int:
    """The blocking threads `syndicator serve` gives granian with its default --threads and settings."""
    from syndicator.cli.build import serve
    from syndicator.config import Settings
    from syndicator.service.http.app import slot_threads

    threads = next(param.default for param in serve.params if param.name == "threads")
    return int(threads) + slot_threads(Settings())


def etag(url: str) -> str:
    out = subprocess.run(["curl", "-sI", url], check=True, capture_output=True, text=True).stdout
    return re.search(r"(?im)^etag:\s*(\S+)", out).group(1)  # type: ignore[union-attr]


def rates(url: str) -> tuple[float, float]:
    """Requests/s of a GET and of a 304."""
    return wrk(url)[0], wrk(url, etag(url))[0]


def measured(process: subprocess.Popen[bytes], port: int) -> tuple[float, float]:
    """The rates of the server just started on ``port``; it is stopped after."""
    try:
        wait_for(f"http://127.0.0.1:{port}/feed.atom")
        time.sleep(1)
        return rates(f"http://127.0.0.1:{port}/feed.atom")
    finally:
        process.terminate()
        process.wait(30)


def granian(work: Path, threads: int) -> tuple[float, float]:
    port = free_port()
    env = {**os.environ, "CEILING_BODY": str(work / "feed.atom")}
    command = [sys.executable, "-c", SERVER, str(port), str(threads), str(work)]
    return measured(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port)


def nginx(work: Path) -> tuple[float, float]:
    port = free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(NGINX.format(work=work, port=port, user=user))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"]
    return measured(subprocess.Popen(command), port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=264_000, help="bytes of the body")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "noop.py").write_text(APP)
        (work / "feed.atom").write_bytes(os.urandom(args.size // 4 * 3).hex().encode()[: args.size])
        many = serve_threads()
        rows = [
            (f"granian, no-op app, {many} blocking threads (serve's)", granian(work, many)),
            ("granian, no-op app, 1 blocking thread", granian(work, 1)),
            ("nginx, the same bytes from a file", nginx(work)),
        ]
    ng_get, ng_304 = rows[-1][1]
    print("| server | GET req/s | vs nginx | 304 req/s | vs nginx |")
    print("|---|---|---|---|---|")
    for name, (get, not_modified) in rows:
        print(f"| {name} | {get:,.0f} | {get / ng_get:.2f}× | {not_modified:,.0f} | {not_modified / ng_304:.2f}× |")


if __name__ == "__main__":
    main()
