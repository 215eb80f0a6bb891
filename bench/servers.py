"""What the benchmarks share: a corpus, a free port, `syndicator serve` started and stopped, wrk and its report.

Imported by run.py, equal.py, deploy.py and ceiling.py (the scripts' folder is on sys.path).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


def corpus(posts: int, out: Path, fmt: str, *extra: str) -> Path:
    subprocess.run(
        [sys.executable, str(HERE / "corpus.py"), "--posts", str(posts), "--out", str(out), "--format", fmt, *extra],
        check=True,
    )
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0])), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens at {url}")


def wrk_out(out: str) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) from wrk's --latency report."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rate, float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(url: str, etag: str | None = None, *, gzip: bool = False) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) of wrk -t2 -c50 -d10s (with If-None-Match, or asking for gzip)."""
    cmd = ["wrk", "-t2", "-c50", "-d10s", "--latency", url]
    if etag:
        cmd[1:1] = ["-H", f"If-None-Match: {etag}"]
    if gzip:
        cmd[1:1] = ["-H", "Accept-Encoding: gzip"]
    return wrk_out(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def loaded(url: str) -> None:
    """Wait until a server's first load is done (it answers before, from the feeds already on disk)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        out = subprocess.run(["curl", "-s", url + "/healthz"], capture_output=True, check=False).stdout
        if b'"status"' in out and b'"starting"' not in out:
            return
        time.sleep(0.2)
    raise SystemExit(f"{url} never finished its first load")


def start_serve(site: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`syndicator serve` on ``port`` in the site's folder, in a session of its own (stop_serve ends it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "syndicator", "serve", "--port", str(port)],
        cwd=site,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_serve(server: subprocess.Popen[bytes], wait: float = 30) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(wait)


@contextmanager
def serving(site: Path, port: int) -> Iterator[str]:
    """`syndicator serve` answering at its URL once its first load is done; stopped at the end, loaded or not."""
    server = start_serve(site, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url)
        loaded(url)
        yield url
    finally:
        stop_serve(server)


def etag_of(url: str) -> str:
    out = subprocess.run(["curl", "-sI", url], check=True, capture_output=True, text=True).stdout
    return re.search(r"(?im)^etag:\s*(\S+)", out).group(1)  # type: ignore[union-attr]
