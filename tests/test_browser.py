"""A real browser (Debian's headless Chromium) walks the site the way a reader would."""

from __future__ import annotations

import os
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SEED_POSTS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def distinct_pixel_bytes(png: bytes) -> int:
    """How many different byte values the decoded image data holds (1-2 for a blank image)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data = 8, b""
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    return len(set(zlib.decompress(data)))


@pytest.fixture
def browser() -> object:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium on the CI machine: .ci/run must install Debian's chromium")
        pytest.skip("no chromium browser found (install Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_reader_finds_a_category_feed_and_reads_a_post(
    browser: object, start_server: Callable[..., object], tmp_path: Path
) -> None:
    """Home -> category -> autodiscovery link -> Continue reading -> the full post, on screen."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path)
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(server.url + "/")
    assert page.title() == "Syndicator"
    page.click("text=Tajik-Russian relations")
    page.wait_for_url("**/category/tajik-russian-relations/")
    assert page.text_content("h1") == "Category Archives: Tajik-Russian relations"
    feeds = page.eval_on_selector_all(
        'link[rel="alternate"][type="application/atom+xml"]', "links => links.map(l => l.href)"
    )
    assert feeds == [
        server.url + "/feeds/category/tajik-russian-relations.atom",
        server.url + "/feeds/all.atom",
    ]
    feed = page.request.get(feeds[0])
    assert feed.status == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    page.click("article >> nth=0 >> text=Continue reading")
    page.wait_for_url("**/posts/csto-agreement-on-foreign-bases/")
    assert page.text_content("h1").startswith("CSTO Agreement on Foreign Bases")
    assert "The rest of this analysis" in page.text_content(".content")
    shot = page.screenshot(full_page=True)
    (tmp_path / "post.png").write_bytes(shot)
    assert distinct_pixel_bytes(shot) > 20


def test_pages_feeds_and_dark_mode_as_a_reader_sees_them(
    browser: object, start_server: Callable[..., object], tmp_path: Path
) -> None:
    """Older posts -> page 2 and back; dark mode follows the system; a feed opened in the browser explains itself."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path, SYNDICATOR_PAGE_SIZE="2")
    page = browser.new_page(viewport={"width": 1000, "height": 800}, color_scheme="light")
    page.goto(server.url + "/category/tajik-russian-relations/")
    assert page.locator("article").count() == 2
    page.get_by_role("link", name="Older posts").click()
    page.wait_for_url("**/category/tajik-russian-relations/page/2/")
    assert page.text_content(".page-of") == "Page 2 of 3"
    assert page.locator('link[rel="prev"]').get_attribute("href") == server.url + "/category/tajik-russian-relations/"
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light
    page.get_by_role("link", name="Newer posts").click()
    page.wait_for_url("**/category/tajik-russian-relations/")
    page.goto(server.url + "/")
    assert page.get_by_role("link", name="Atom feed of Tajik-Russian relations").count() == 1
    page.goto(server.url + "/feeds/category/tajik-russian-relations.atom")
    words = page.evaluate("getComputedStyle(document.documentElement, '::before').content")
    assert "This is a web feed" in words
    assert page.evaluate("getComputedStyle(document.querySelector('entry > title')).display") == "block"
    page.goto(server.url + "/no/such/page/")
    assert page.text_content("h1") == "Page not found"
    assert distinct_pixel_bytes(page.screenshot(full_page=True)) > 20
