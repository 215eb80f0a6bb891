"""SPEC "Pages at any size": however many page requests arrive, a real server answers feed requests promptly."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from support.factories import post_text
from support.server import Server

READERS = 12
FLOOD_SECONDS = 3.0


def test_feeds_stay_prompt_while_readers_flood_the_category_pages(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """12 readers paging through a 400-post category without pause; the feed's answers keep coming within 1 s."""
    posts = tmp_path / "posts"
    posts.mkdir()
    for n in range(400):
        day = f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:00:00Z"
        (posts / f"p{n}.md").write_text(post_text(title=f"Post {n}", date=day, categories="[Diplomacy]"))
    server = start_server(tmp_path)
    stop = time.monotonic() + FLOOD_SECONDS
    pages_read = [0] * READERS

    def read_pages(reader: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < stop:
                number = pages_read[reader] % 40 + 1
                path = "/category/diplomacy/" + (f"page/{number}/" if number > 1 else "")
                assert session.get(server.url + path, timeout=10).status_code == 200
                pages_read[reader] += 1

    readers = [threading.Thread(target=read_pages, args=(n,)) for n in range(READERS)]
    for thread in readers:
        thread.start()
    waits = []
    with requests.Session() as session:
        while time.monotonic() < stop:
            started = time.perf_counter()
            assert session.get(server.url + "/feeds/category/diplomacy.atom", timeout=10).status_code == 200
            waits.append(time.perf_counter() - started)
            time.sleep(0.02)
    for thread in readers:
        thread.join()
    assert sum(pages_read) > 100, pages_read  # the readers did flood it
    assert max(waits) < 1.0 and statistics.median(waits) < 0.1, (max(waits), statistics.median(waits))
