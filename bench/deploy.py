#!/usr/bin/env python3
"""Measure the shipped deployment: a 20-entry category feed through nginx, from serve alone, and from Varnish.

    python bench/deploy.py                  # 2,000 posts
    python bench/deploy.py --posts 10000

Starts `syndicator serve` over bench/corpus.py's corpus, Debian's nginx with
deploy/nginx.conf (the server block included by a minimal main config, as
sites-enabled/ includes it) in front of it, and Varnish with the README's VCL
(Behind a CDN) in front of serve, with cdn_purge_url pointing at Varnish. wrk
measures requests/s and p99 for each (Varnish once the feed is cached: hits).
Then 1,000 readers poll the feed through Varnish while two posts are published,
and Varnish's own counters say how many requests reached serve. Needs wrk,
nginx, varnish and varnish-modules (vmod xkey).
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
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from pathlib import Path

from servers import corpus  # bench/servers.py: the script's folder is on sys.path
from servers import free_port
from servers import serving
from servers import wait_for
from servers import wrk_out

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER_BLOCK = ROOT / "deploy" / "nginx.conf"
README = ROOT / "README.md"
MAIN = """{user}worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 4096; }}
http {{
    sendfile on;
    tcp_nopush on;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    gzip on;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    include {work}/syndicator.conf;
}}
"""


@contextmanager
def nginx(site: Path, app_port: int, work: Path) -> Iterator[str]:
    """Debian's nginx with the shipped server block (site folder, app address, site_url and listen line replaced)."""
    port = free_port()
    block = (
        SERVER_BLOCK.read_text()
        .replace("/srv/syndicator", str(site))
        .replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
        .replace("https://blog.example.org", f"http://127.0.0.1:{port}")
    )
    block = re.sub(r"^(\s*)listen\s[^;]*;", rf"\1listen 127.0.0.1:{port};", block, count=1, flags=re.MULTILINE)
    (work / "syndicator.conf").write_text(block)
    user = "user root;\n" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(MAIN.format(user=user, work=work))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def readme_vcl() -> str:
    section = README.read_text(encoding="utf-8").split("## Behind a CDN", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```vcl\n(.*?)```", section, re.DOTALL)[0]


@contextmanager
def varnish(app_port: int, port: int) -> Iterator[tuple[str, Path]]:
    """varnishd -F with the README's VCL in front of serve; yields its URL and its -n folder."""
    work = Path(tempfile.mkdtemp(prefix="syndicator-varnish-"))
    work.chmod(0o755)
    (work / "syndicator.vcl").write_text(readme_vcl().replace('.port = "8000"', f'.port = "{app_port}"'))
    (work / "syndicator.vcl").chmod(0o644)
    binary = shutil.which("varnishd") or "/usr/sbin/varnishd"
    command = [binary, "-F", "-a", f"127.0.0.1:{port}", "-f", str(work / "syndicator.vcl"), "-n", str(work / "n")]
    process = subprocess.Popen([*command, "-s", "malloc,64m"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url)
        yield url, work / "n"
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(work, ignore_errors=True)


def backend_requests(name: Path) -> int:
    """How many requests Varnish sent to serve so far (its MAIN.backend_req counter)."""
    out = subprocess.run(
        ["varnishstat", "-n", str(name), "-1", "-f", "MAIN.backend_req"], capture_output=True, text=True
    )
    return int(out.stdout.split()[1])


def category_feed(site: Path, entries: int = 20) -> str:
    """A category feed with ``entries`` entries (the corpus's categories are Zipf-sized: take the smallest such)."""
    for feed in sorted((site / "feeds" / "category").glob("*.atom"), key=lambda p: p.stat().st_size):
        if feed.read_text(encoding="utf-8").count("<entry>") == entries:
            return "/feeds/category/" + feed.name
    raise SystemExit(f"no category feed with {entries} entries")


def poll_through_varnish(url: str, name: Path, site: Path, reload_interval: int) -> tuple[int, int, int]:
    """1,000 readers (connections) poll the feed through Varnish for 3 reload intervals while two posts come
    out; (requests answered, requests that reached serve, new posts seen at the end)."""
    before = backend_requests(name)
    seconds = 3 * reload_interval
    command = ["wrk", "-t2", "-c1000", f"-d{seconds}s", "--latency", "-H", "Accept-Encoding: gzip", url]
    poll = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    for n in range(2):
        time.sleep(reload_interval)
        (site / "posts" / f"zz-bench-{n}.md").write_text(
            f"---\ntitle: Bench post {n}\ndate: {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n"
            f"categories: [{category_name(site, url)}]\n---\nNews.\n"
        )
    out = poll.communicate()[0]
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    feed = subprocess.run(["curl", "-s", url], capture_output=True, text=True).stdout
    return answered, backend_requests(name) - before, feed.count("Bench post")


def category_name(site: Path, url: str) -> str:
    """The category's name, from its feed's title ("<site> — <name>")."""
    feed = (site / "feeds" / url.split("/feeds/", 1)[1]).read_text(encoding="utf-8")
    return re.search(r"<title>[^<]* — ([^<]+)</title>", feed).group(1)  # type: ignore[union-attr]


def gzip_wrk(url: str) -> tuple[float, float]:
    """Requests/s and p99 (ms) of wrk -t2 -c50 -d10s, asking for gzip as feed readers do."""
    command = ["wrk", "-t2", "-c50", "-d10s", "--latency", "-H", "Accept-Encoding: gzip", url]
    return wrk_out(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def measure(posts: int, work: Path) -> list[tuple[str, str]]:
    site = corpus(posts, work / "site", "syndicator")
    subprocess.run([sys.executable, "-m", "syndicator", "build"], cwd=site, check=True, capture_output=True)
    path = category_feed(site)
    port, varnish_port, reload_interval = free_port(), free_port(), 10
    with (site / "syndicator.toml").open("a") as config:
        config.write(f'\ncdn_purge_url = "http://127.0.0.1:{varnish_port}/"\nreload_interval = {reload_interval}\n')
    with ExitStack() as stack:
        serve = stack.enter_context(serving(site, port))
        front = stack.enter_context(nginx(site, port, work))
        edge, name = stack.enter_context(varnish(port, varnish_port))
        subprocess.run(["curl", "-s", "-o", "/dev/null", edge + path], check=True)  # cached from here on
        bases = (("serve", serve), ("nginx", front), ("Varnish", edge))
        rows = [(label, *gzip_wrk(base + path)) for label, base in bases]
        answered, reached, seen = poll_through_varnish(edge + path, name, site, reload_interval)
    table = [
        (f"GET {path} (20 entries, gzip) via {label}", f"{rate:,.0f} req/s, p99 {p99:.1f} ms")
        for label, rate, p99 in rows
    ]
    return [
        *table,
        ("1,000 readers polling through Varnish, 2 new posts", f"{answered:,} answered, {reached} reached serve"),
        ("new posts the readers saw at the end", f"{seen} of 2"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syndicator-deploy-bench-") as tmp:
        rows = measure(args.posts, Path(tmp))
    print(f"Syndicator deployment benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores\n")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
