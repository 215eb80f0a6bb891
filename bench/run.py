#!/usr/bin/env python3
"""Measure Syndicator against its peers on this machine and print one table.

    python bench/run.py                 # 10,000 posts: builds, one-post rebuild, reload, serving
    python bench/run.py --big           # also 100,000 posts (several minutes more): every row of issue 28's table
    python bench/run.py --posts 2000    # a quicker, smaller run

The first rows (bench/equal.py) set our cold build, with everything it writes, and
a one-post ``syndicator build`` beside Hugo and Pelican writing the equal feed set
(bench/hugo-equal/, bench/pelican-equal/), with wall and CPU times; the next ones
beside Hugo's default category feeds, as before; then serving beside nginx (GET,
gzip GET and 304 of the same file).

Every peer runs in the same session, on the same corpus, so the ratios hold when
the machine's speed drifts (the CPU-time ratios hold on a machine shared with other
work, where the wall times do not). Hugo and Pelican come from the benchmark's own
environment (bench/peers.py installs them on the first run); nginx and wrk from
Debian. A peer that is missing is reported as such.
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
import urllib.request
from datetime import UTC
from datetime import datetime
from pathlib import Path

from equal import big_equal_rows  # bench/equal.py: the script's folder is on sys.path
from equal import compiled
from equal import equal_rows
from equal import measured
from equal import median
from equal import print_table
from peers import peers
from servers import corpus  # bench/servers.py
from servers import etag_of
from servers import free_port
from servers import loaded
from servers import serving
from servers import start_serve
from servers import stop_serve
from servers import wrk
from servers import wrk_out

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
Row = tuple[str, str, str, str, str]


def best_of(runs: int, cmd: list[str], cwd: Path, before: list[Path] | None = None) -> tuple[float, float]:
    """Median wall time and peak RSS over runs (removing `before` paths before each)."""
    results = []
    for _ in range(runs):
        for path in before or []:
            shutil.rmtree(path, ignore_errors=True)
        results.append(measured(cmd, cwd))
    found = median(results)
    return found.wall, found.rss


def reload_ms(site: Path, edits: int = 5) -> float:
    """Median reload time after editing the newest post, as `serve` runs it.

    Every feed is held for serving; the file watcher tells the reload which file
    changed (the measure starts when the reload does, after the event arrived).
    """
    code = f"""
import os, statistics, time
from datetime import UTC, datetime
from pathlib import Path
os.chdir({str(site)!r})
from syndicator.service.build import Builder
from syndicator.config import load_settings
from syndicator.service.watch import PostWatcher
settings = load_settings(None, {{}})
builder = Builder(settings)
watcher = PostWatcher(settings.posts_dir)
watcher.start()
builder.reload(datetime.now(UTC))
watcher.take()
post = Path("posts") / builder.snapshot.catalog.posts[0].source
text = post.read_text()
times = []
for i in range({edits}):
    post.write_text(text + f"\\nEdited {{i}}.\\n")
    changed = set()
    while not changed:  # the write is whole once the watcher hands the file over (after its close)
        time.sleep(0.001)
        changed |= watcher.take() or set()
    times.append(builder.reload(datetime.now(UTC), changed=changed).duration_ms)
post.write_text(text)
builder.reload(datetime.now(UTC))
print(statistics.median(times))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def publish_latency(site: Path, base: str) -> float:
    """Seconds from writing a new post file to seeing it in the served site-wide Atom feed."""
    post = site / "posts" / "bench-latency-probe.md"
    title = f"Latency probe {time.time():.0f}"
    started = time.perf_counter()
    post.write_text(f"---\ntitle: {title}\ndate: {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n---\nProbe.\n")
    try:
        while time.perf_counter() - started < 120:
            out = subprocess.run(["curl", "-s", base + "/feeds/all.atom"], capture_output=True, check=False).stdout
            if title.encode() in out:
                return time.perf_counter() - started
            time.sleep(0.02)
        return float("nan")
    finally:
        post.unlink()


def first_feed_seconds(site: Path, **env: str) -> float:
    """Seconds from starting `syndicator serve` to the first 200 for the site-wide Atom feed."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/feeds/all.atom"
    started = time.perf_counter()
    server = start_serve(site, port, **env)
    try:
        while time.perf_counter() - started < 600:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
        return float("nan")
    finally:
        try:
            loaded(f"http://127.0.0.1:{port}")  # let the first load finish: the next start then finds it done
        finally:
            stop_serve(server, 60)  # even when the load never finished


def startup_rows(site: Path, posts: int) -> list[Row]:
    """Time to the first feed served, warm and after a setting changed (every cache then stale)."""
    warm = first_feed_seconds(site)
    changed = first_feed_seconds(site, SYNDICATOR_SUMMARY_WORDS="54")
    return [
        (f"serve start → first feed, {posts:,} posts, warm", f"{warm:.2f} s", "", "", "≤ 1 s"),
        (f"serve start → first feed, {posts:,} posts, a setting changed", f"{changed:.2f} s", "", "", "≤ 1 s"),
    ]


PAGES_LUA = """
local n = 0
request = function()
  n = n % {pages} + 1
  local path = "{base}"
  if n > 1 then path = path .. "page/" .. n .. "/" end
  return wrk.format("GET", path, {{["Accept-Encoding"] = "gzip"}})
end
"""


def busiest_category(base: str) -> tuple[str, int]:
    """The category with the most posts (as the home page counts them) and its number of pages."""
    home = subprocess.run(["curl", "-s", base + "/"], check=True, capture_output=True, text=True).stdout
    counts = re.findall(r'/category/([^/"]+)/">[^<]*</a>\s*<span class="count">\((\d+) posts?\)', home)
    slug = max(counts, key=lambda c: int(c[1]))[0]
    first = subprocess.run(["curl", "-s", f"{base}/category/{slug}/"], check=True, capture_output=True, text=True)
    pages = re.search(r"Page 1 of (\d+)", first.stdout)
    return slug, int(pages.group(1)) if pages else 1


def page_flood_rows(base: str, feed: str, work: Path) -> list[Row]:
    """Feed p99 alone, then while 12 clients read every page of the busiest category (gzip, as browsers ask)."""
    slug, pages = busiest_category(base)
    script = work / "pages.lua"
    script.write_text(PAGES_LUA.format(pages=pages, base=f"/category/{slug}/"))
    feed_cmd = ["wrk", "-t1", "-c4", "-d10s", "--latency", base + feed]
    _alone_rate, alone_p99 = wrk_out(subprocess.run(feed_cmd, check=True, capture_output=True, text=True).stdout)
    flood = subprocess.Popen(
        ["wrk", "-t2", "-c12", "-d12s", "--latency", "-s", str(script), base], stdout=subprocess.PIPE, text=True
    )
    time.sleep(1)
    _rate, busy_p99 = wrk_out(subprocess.run(feed_cmd, check=True, capture_output=True, text=True).stdout)
    page_rate, page_p99 = wrk_out(flood.communicate()[0])
    return [
        (
            f"GET category pages ({pages} pages of /category/{slug}/), 12 clients, req/s",
            f"{page_rate:,.0f}",
            "",
            "",
            "",
        ),
        ("  p99 latency", f"{page_p99:.1f} ms", "", "", ""),
        ("feed p99, 4 clients alone", f"{alone_p99:.1f} ms", "", "", "≤ 50 ms"),
        ("feed p99, 4 clients while 12 read category pages", f"{busy_p99:.1f} ms", "", "", "≤ 50 ms"),
    ]


def biggest_category_feed(site: Path) -> str:
    feeds = sorted((site / "feeds" / "category").glob("*.atom"), key=lambda p: p.stat().st_size)
    return "/feeds/category/" + feeds[-1].name


def serve_rows(site: Path, work: Path) -> list[Row]:
    if not (shutil.which("wrk") and (shutil.which("nginx") or Path("/usr/sbin/nginx").exists())):
        return [("serving", "n/a", "wrk or nginx missing", "", "")]
    path = biggest_category_feed(site)
    port = free_port()
    from deploy import nginx  # bench/deploy.py: the shipped server block, as sites-enabled/ includes it

    with serving(site, port) as ours:
        with nginx(site, port, work) as theirs:
            time.sleep(1)
            our_rate, our_p99 = wrk(ours + path)
            ng_rate, ng_p99 = wrk(theirs + path)
            our_gz, _ = wrk(ours + path, gzip=True)
            ng_gz, _ = wrk(theirs + path, gzip=True)
            our_304, _ = wrk(ours + path, etag_of(ours + path))
            ng_304, _ = wrk(theirs + path, etag_of(theirs + path))
        flood = page_flood_rows(ours, path, work)
        latency = publish_latency(site, ours)
    size = (site / "feeds" / path.removeprefix("/feeds/")).stat().st_size
    return [
        (
            f"GET of a {size / 1000:.0f} KB category Atom, req/s",
            f"{our_rate:,.0f}",
            f"nginx {ng_rate:,.0f}",
            f"{our_rate / ng_rate:.2f}×",
            "≥ 0.8×",
        ),
        ("  p99 latency", f"{our_p99:.1f} ms", f"nginx {ng_p99:.1f} ms", "", "≤ 50 ms"),
        ("the same with gzip, req/s", f"{our_gz:,.0f}", f"nginx {ng_gz:,.0f}", f"{our_gz / ng_gz:.2f}×", "≥ 0.8×"),
        ("If-None-Match → 304, req/s", f"{our_304:,.0f}", f"nginx {ng_304:,.0f}", f"{our_304 / ng_304:.2f}×", "≥ 0.8×"),
        *flood,
        ("new post file → served in all.atom", f"{latency:.2f} s", "", "", ""),
    ]


def build_rows(posts: int, work: Path, runs: int) -> tuple[list[Row], Path]:
    site = corpus(posts, work / f"site{posts}", "syndicator")
    hugo_site = corpus(posts, work / f"hugo{posts}", "hugo")
    build = [sys.executable, "-m", "syndicator", "build"]
    cold, cold_rss = best_of(runs, build, site, [site / "feeds", site / ".syndicator"])
    warm, warm_rss = best_of(runs, build, site)
    hugo = peers(install=False).hugo
    rows: list[Row] = []
    if hugo:
        h_wall, h_rss = best_of(runs, [hugo, "--quiet"], hugo_site, [hugo_site / "public", hugo_site / "resources"])
        rows.append(
            (f"cold build, {posts:,} posts", f"{cold:.2f} s", f"Hugo {h_wall:.2f} s", f"{cold / h_wall:.2f}×", "≤ 0.5×")
        )
        rows.append(
            ("  peak RSS", f"{cold_rss:.0f} MB", f"Hugo {h_rss:.0f} MB", f"{cold_rss / h_rss:.2f}×", "≤ 300 MB")
        )
        rows.append(
            (
                f"warm build, {posts:,} posts",
                f"{warm:.2f} s",
                f"Hugo {h_wall:.2f} s",
                f"{warm / h_wall:.2f}×",
                "≤ 0.15×",
            )
        )
    else:
        rows.append((f"cold build, {posts:,} posts", f"{cold:.2f} s ({cold_rss:.0f} MB)", "Hugo missing", "", ""))
        rows.append((f"warm build, {posts:,} posts", f"{warm:.2f} s ({warm_rss:.0f} MB)", "Hugo missing", "", ""))
    rows.append((f"one post edited, {posts:,} posts (reload)", f"{reload_ms(site):.0f} ms", "", "", "≤ 100 ms"))
    return rows, site


def media_rows(posts: int, work: Path, runs: int) -> list[Row]:
    """The cold build and a one-post reload of a corpus with a picture on a fifth of the posts."""
    site = corpus(posts, work / f"media{posts}", "syndicator", "--images")
    build = [sys.executable, "-m", "syndicator", "build"]
    cold, rss = best_of(runs, build, site, [site / "feeds", site / ".syndicator"])
    images = len(list((site / "feeds" / "media").rglob("*.png")))
    return [
        (f"cold build, {posts:,} posts, {images:,} images", f"{cold:.2f} s ({rss:.0f} MB)", "", "", ""),
        (f"one post edited, {posts:,} posts with images (reload)", f"{reload_ms(site):.0f} ms", "", "", "≤ 100 ms"),
    ]


def big_rows(work: Path) -> list[Row]:
    """100,000 posts (the equal-work corpus): the cold build, then a reload and a start on what it wrote."""
    rows = big_equal_rows(work)
    site = work / "equal-site100000"
    return [
        *rows,
        ("one post edited, 100,000 posts (reload)", f"{reload_ms(site, 3):.0f} ms", "", "", "≤ 500 ms"),
        *startup_rows(site, 100_000),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per build measurement (median)")
    parser.add_argument("--big", action="store_true", help="also measure 100,000 posts")
    parser.add_argument("--no-serve", action="store_true", help="skip the HTTP measurements")
    parser.add_argument("--pelican-runs", type=int, default=1, help="Pelican's cold builds (minutes each)")
    args = parser.parse_args()
    compiled()
    with tempfile.TemporaryDirectory(prefix="syndicator-bench-") as tmp:
        work = Path(tmp)
        rows = equal_rows(args.posts, work, args.runs, args.pelican_runs)
        more, site = build_rows(args.posts, work, args.runs)
        rows += more
        rows += media_rows(args.posts, work, args.runs)
        if not args.no_serve:
            rows += serve_rows(site, work)
            rows += startup_rows(site, args.posts)
        if args.big:
            rows += big_rows(work)
    print(f"Syndicator benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores\n")
    print_table(rows)


if __name__ == "__main__":
    main()
