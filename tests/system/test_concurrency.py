"""Serving during reloads: every answer is one whole snapshot, never a 5xx or a torn body."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from support.factories import post_text
from support.feedcheck import check_atom
from support.feedcheck import check_rss

RUN_SECONDS = 20


def _rewrite(posts: Path, deadline: float) -> None:
    """Rewrite a tenth of the posts every few hundredths of a second, with new titles and categories."""
    version = 0
    while time.monotonic() < deadline:
        version += 1
        for i in range(0, 30, 3):
            (posts / f"p{(i + version) % 30}.md").write_text(
                post_text(title=f"Post {(i + version) % 30} v{version}", categories=f"[Cat {version % 3}]")
            )
        time.sleep(0.03)


def _unparsed(path: str, body: bytes) -> list[str]:
    """What is wrong with a feed's body (nothing when it parses)."""
    try:
        if path.endswith(".atom"):
            check_atom(body)
        elif path.endswith(".rss"):
            check_rss(body)
        elif path.endswith(".json"):
            json.loads(body)
    except (AssertionError, ValueError) as exc:
        return [f"{path}: body does not parse: {exc}"]
    return []


@pytest.mark.slow
def test_concurrent_gets_while_posts_are_rewritten(start_server: Callable[..., object], tmp_path: Path) -> None:
    """20 s of concurrent GETs while posts change every few hundredths of a second: no 5xx, every body parses."""
    posts = tmp_path / "posts"
    posts.mkdir()
    for i in range(30):
        (posts / f"p{i}.md").write_text(post_text(title=f"Post {i} v0", categories=f"[Cat {i % 3}]"))
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1")
    deadline = time.monotonic() + RUN_SECONDS
    failures: list[str] = []
    counts = {"requests": 0, "versions": set()}
    lock = threading.Lock()

    def reader(paths: list[str]) -> None:
        session = requests.Session()
        n = 0
        while time.monotonic() < deadline:
            path = paths[n % len(paths)]
            n += 1
            try:
                response = session.get(server.url + path, timeout=10)
            except requests.RequestException as exc:
                failures.append(f"{path}: {exc}")
                continue
            if response.status_code >= 500:
                failures.append(f"{path}: {response.status_code}")
            elif response.status_code == 200:
                failures.extend(_unparsed(path, response.content))
                with lock:
                    counts["versions"].add(response.headers.get("ETag"))
            with lock:
                counts["requests"] += 1

    feeds = ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/feeds/category/cat-0.atom", "/healthz"]
    pages = ["/", "/category/cat-1/", "/posts/p1/", "/feeds/category/cat-2.rss", "/feeds/index.opml"]
    threads = [threading.Thread(target=_rewrite, args=(posts, deadline))] + [
        threading.Thread(target=reader, args=(paths,)) for paths in (feeds, pages, feeds, pages)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RUN_SECONDS + 30)
    assert failures == []
    assert counts["requests"] > 100
    assert len(counts["versions"]) > 5, "the feeds really changed during the run"
