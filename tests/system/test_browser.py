"""A real browser (Debian's headless Chromium) walks the site the way a reader would."""

from __future__ import annotations

import os
import shutil
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.mediafiles import write_png
from support.paths import DATA
from support.paths import SEED_POSTS
from syndicator.cli import cli

WORDPRESS = DATA / "wordpress"
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


def loaded_audio(page: Any) -> tuple[str, float, bool]:
    """The page's first player once the browser has read its file's length (asked to, if it preloads nothing):
    the file it chose, its duration in seconds, and whether it loaded without an error."""
    source, duration, ok = page.wait_for_function(
        "() => { const a = document.querySelector('audio'); if (!a) return false; a.preload = 'metadata'; "
        "return a.readyState >= 1 && a.duration > 0 && [a.currentSrc, a.duration, !a.error] }",
        timeout=20_000,
    ).json_value()
    return source, duration, ok


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for this file's tests (each test has contexts of its own: see ``browser``)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium on the CI machine: .ci/run must install Debian's chromium")
        pytest.skip("no chromium browser found (install Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Any]:
    """The browser, as a fresh one to the test: every page opens in a new context (its own cookies, storage and
    cache), and the contexts the test opened are closed after it."""
    assert chromium.contexts == []
    yield chromium
    for context in chromium.contexts:
        context.close()


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


def test_the_stats_page_shows_charts_in_a_browser(
    browser: object, start_server: Callable[..., object], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """/stats/ with the token: an SVG chart per feed and for partners, drawn under the CSP with no error."""
    from datetime import UTC
    from datetime import datetime
    from datetime import timedelta

    import requests

    from syndicator.store.audience import AudienceStore

    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    today = datetime.now(UTC).date()
    history = []  # four weeks counted before this run: Feedly and Inoreader grow, plain clients come and go
    for n in range(1, 29):
        day = (today - timedelta(days=n)).isoformat()
        history += [("all.atom", day, "feedly", 120 - 2 * n), ("all.atom", day, "inoreader", 40 - n)]
        history += [("all.atom", day, "clients", 25 + (n * 7) % 11), ("all.atom", day, "websub", 3)]
        history += [("category/justice.rss", day, "clients", 4 + n % 3), ("all.atom", day, "partner_fetches", n % 5)]
    store = AudienceStore(tmp_path / ".syndicator")
    store.write(latest=history)
    store.close()
    added = run_cli("partners", "add", "acme")
    token = added.stdout.strip()
    server: Any = start_server(tmp_path, SYNDICATOR_STATS_TOKEN="chart-token")  # noqa: S106 - a test's token
    feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 121 subscribers; feed-id=x)"
    requests.get(server.url + "/feeds/all.atom", headers={"User-Agent": feedly}, timeout=10)
    for n in range(30):
        requests.get(server.url + "/feeds/all.atom", headers={"X-Real-IP": f"192.0.2.{n}"}, timeout=10)
    requests.get(server.url + "/partners/feeds/all.atom", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    page = browser.new_page(  # type: ignore[attr-defined]
        viewport={"width": 900, "height": 900}, extra_http_headers={"Authorization": "Bearer chart-token"}
    )
    problems: list[str] = []  # CSP refusals are console errors; any asset the page loads must load
    page.on("console", lambda message: problems.append(message.text) if "Refused" in message.text else None)
    page.on(
        "response",
        lambda r: problems.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None,
    )
    page.goto(server.url + "/stats/")
    assert page.title().startswith("Readers")
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for n in range(3):
        box = charts.nth(n).bounding_box()
        assert box is not None and box["width"] > 500 and box["height"] > 150
    assert page.locator("svg.chart >> nth=1").locator("rect").count() > 50  # all.atom: three parts a day
    assert "acme" in page.text_content("section.partners")
    assert problems == [], problems  # nothing refused by the Content-Security-Policy
    shot = page.screenshot(full_page=True)
    (tmp_path / "stats.png").write_bytes(shot)
    assert distinct_pixel_bytes(shot) > 20
    phone = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        extra_http_headers={"Authorization": "Bearer chart-token"},
    ).new_page()
    phone.goto(server.url + "/stats/")
    label = phone.locator("svg.chart text").first
    drawn = label.bounding_box()["height"]  # the label as drawn, after the SVG is scaled to its box
    assert drawn >= 10, drawn  # readable without zooming (at 720 px shrunk to the phone, 11 px labels drew at 5.5)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # the chart scrolls in its box, not the page


def test_an_imported_wordpress_site_shows_its_images_and_plays_its_audio(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WordPress 6 export imported with --media, served: in Chromium the post pages show the old site's pictures
    at their size and the episode's audio loads and can play (issue: real WordPress sites move over intact)."""
    import json

    from click.testing import CliRunner

    from support.mediafiles import EPISODE_MP3
    from support.mediafiles import wordpress_uploads
    from syndicator.cli import cli

    uploads = tmp_path / "uploads"  # the old site's wp-content/uploads
    wordpress_uploads(uploads)
    site = tmp_path / "site"
    site.mkdir()
    (site / "syndicator.toml").write_text('posts_dir = "posts"\nstate_dir = ".syndicator"\n')
    monkeypatch.chdir(site)
    export = DATA / "wordpress" / "wp6-blocks.xml"
    imported = CliRunner().invoke(cli, ["import", "wordpress", str(export), "--media", str(uploads)])
    assert imported.exit_code == 0, imported.output
    server = start_server(site)
    items = {item["title"]: item for item in json.loads(server.get("/feeds/all.json").content)["items"]}
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(items["Caravan cities: Bukhara & Samarkand"]["url"], wait_until="load")
    sizes = page.eval_on_selector_all(
        ".content img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert sizes and all(done and width > 0 and height > 0 for done, width, height in sizes), sizes
    assert [1024, 683] in [size[1:] for size in sizes]  # the old site's photo, at its own size
    page.goto(items["Episode one: the road east"]["url"], wait_until="load")
    source, duration, ok = loaded_audio(page)
    assert ok and duration > 0.5 and source.endswith("/feeds/media/uploads/2023/04/episode-1.mp3")
    assert page.locator("audio").count() == 1  # the body's player: no second one for its enclosure
    assert server.get("/feeds/media/uploads/2023/04/episode-1.mp3").content == EPISODE_MP3.read_bytes()
    page.close()


def test_an_episode_page_plays_its_audio(browser: Any, start_server: Callable[..., Any], tmp_path: Path) -> None:
    """A podcast episode whose audio is named in `enclosures:` alone (the README's example: LAME's MP3, FFmpeg's M4A,
    a file on another host) has a player on its page, as a podcast's site shows one, and a link to the file."""
    from support.podcastsite import write_radio

    write_radio(tmp_path)
    server = start_server(tmp_path)
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(server.url + "/posts/khorog/", wait_until="load")
    assert page.locator("audio").count() == 1
    source, duration, ok = loaded_audio(page)
    assert ok and source == server.url + "/feeds/media/khorog/khorog.mp3" and 64 < duration < 66
    assert page.get_by_role("link", name="khorog.mp3").get_attribute("href") == source
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the player fits a phone
    page.goto(server.url + "/posts/ishkashim/", wait_until="load")
    assert page.locator("audio").get_attribute("src") == "https://cdn.example.net/ishkashim.mp3"
    page.close()


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
    assert page.get_by_role("link", name="Atom feed of Tajik-Russian relations").count() == 0  # behind "Subscribe"
    page.locator("summary", has_text="Subscribe to Tajik-Russian relations").click()
    assert page.get_by_role("link", name="Atom feed of Tajik-Russian relations").count() == 1
    page.goto(server.url + "/feeds/category/tajik-russian-relations.atom")
    words = page.evaluate("getComputedStyle(document.documentElement, '::before').content")
    assert "This is a web feed" in words
    assert page.evaluate("getComputedStyle(document.querySelector('entry > title')).display") == "block"
    page.goto(server.url + "/no/such/page/")
    assert page.text_content("h1") == "Page not found"
    assert distinct_pixel_bytes(page.screenshot(full_page=True)) > 20


def test_a_reader_subscribes_by_email_through_the_form(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    """On a category page, the form (allowed by the CSP) asks for a confirmation, whose link's page subscribes
    with one press of its Confirm button (a POST the CSP allows too)."""
    from support.mailserver import MailServer
    from support.mailserver import link_after
    from support.mailserver import parts

    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    mail = MailServer().start()
    try:
        env = {"SYNDICATOR_SMTP_URL": mail.url, "SYNDICATOR_EMAIL_FROM": "Syndicator <news@example.org>"}
        server = start_server(tmp_path, **env)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)
        page.goto(server.url + "/category/tajik-russian-relations/")
        form = page.locator("form.follow-email")
        assert form.locator("input[name=feed]").get_attribute("value") == "category/tajik-russian-relations"
        form.locator("input[name=email]").fill("reader@example.org")
        form.locator("select[name=pace]").select_option("weekly")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/subscribe")
        assert page.text_content("h1") == "Check your inbox"
        assert refused == [], refused
        (confirmation,) = mail.inbox.wait(1)
        assert confirmation.rcpt_tos == ("reader@example.org",)
        text, _html = parts(confirmation.message)
        assert "weekly digest" in text
        page.goto(link_after(text, "following this link:"))
        assert page.text_content("h1") == "Confirm your subscription"
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm").click()
        assert page.text_content("h1") == "Subscribed"
        assert refused == [], refused
        assert "weekly digest (on Mondays) of Syndicator — Tajik-Russian relations" in page.text_content("main")
    finally:
        mail.stop()


LAYOUT_EXPORT = WORDPRESS / "layout.xml"
BOX = "(element) => { const r = element.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
FIRST_LINE = "(p) => { const r = document.createRange(); r.selectNodeContents(p); return r.getClientRects()[0].left; }"


@pytest.fixture
def laid_out(tmp_path: Path, start_server: Callable[..., Any]) -> Any:
    """layout.xml imported with --media (PNGs standing in for its uploads) and served by `syndicator serve`."""
    for name, (width, height) in {"river": (900, 600), "hills": (1200, 800), "bridge": (800, 600)}.items():
        write_png(tmp_path / "old-uploads" / "2024" / "01" / f"{name}.png", width, height)
    (tmp_path / "syndicator.toml").write_text("")  # the posts go beside it, where `serve` looks for them
    args = ["import", "wordpress", str(LAYOUT_EXPORT), "--config", str(tmp_path / "syndicator.toml")]
    result = CliRunner().invoke(cli, [*args, "--media", str(tmp_path / "old-uploads")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return start_server(tmp_path)


def _boxes(page: Any, selector: str) -> list[list[float]]:
    return page.eval_on_selector_all(selector, f"elements => elements.map({BOX})")


def test_wordpress_layout_in_a_browser(browser: Any, laid_out: Any, tmp_path: Path) -> None:
    """Galleries in columns, an aligned image with the text beside it, a caption under its image, columns side by
    side on a desktop and stacked on a phone, a cover's image and text; no page wider than a phone's screen."""
    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    desktop.goto(laid_out.url + "/posts/laid-out/")
    gallery = _boxes(desktop, ".wp-block-gallery > figure.wp-block-image img")
    assert len(gallery) == 3 and len({round(top) for _l, top, _r, _b in gallery}) == 1  # one row of three
    assert gallery[0][2] <= gallery[1][0] and gallery[1][2] <= gallery[2][0]  # side by side, not overlapping
    image = _boxes(desktop, "figure.alignleft img")[0]
    beside = desktop.eval_on_selector("#user-content-beside", FIRST_LINE)
    assert image[2] - image[0] == 200 and beside >= image[2]  # the text starts right of the image, on its lines
    first, second = _boxes(desktop, ".wp-block-column")
    assert round(first[1]) == round(second[1]) and first[2] <= second[0]  # side by side
    cover_image, cover_text = _boxes(desktop, ".wp-block-cover > img")[0], _boxes(desktop, ".wp-block-cover p")[0]
    assert cover_image[3] - cover_image[1] > 100 and cover_image[1] <= cover_text[1] < cover_text[3] <= cover_image[3]
    desktop.screenshot(path=str(tmp_path / "layout-desktop.png"), full_page=True)
    desktop.goto(laid_out.url + "/posts/a-caption-on-the-right/")
    figure, caption = _boxes(desktop, "figure.wp-caption")[0], _boxes(desktop, "figure.wp-caption figcaption")[0]
    text = desktop.eval_on_selector(".content > p", "(p) => p.getBoundingClientRect().left")
    assert figure[2] - figure[0] == 240 and caption[2] - caption[0] <= 240 and caption[1] >= figure[1] + 160
    assert text < figure[0]  # the text runs down its left side
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    for path in ("/posts/laid-out/", "/posts/a-caption-on-the-right/", "/", "/category/pictures/"):
        phone.goto(laid_out.url + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
    phone.goto(laid_out.url + "/posts/laid-out/")
    first, second = _boxes(phone, ".wp-block-column")
    assert second[1] >= first[3]  # stacked
    gallery = _boxes(phone, ".wp-block-gallery > figure.wp-block-image img")
    assert round(gallery[0][1]) == round(gallery[1][1]) < gallery[2][1]  # two a row on a phone
    assert abs(gallery[2][0] - gallery[0][0]) < 2 and abs(gallery[2][2] - gallery[1][2]) < 2  # a last row filled
    phone.screenshot(path=str(tmp_path / "layout-phone.png"), full_page=True)
    assert distinct_pixel_bytes((tmp_path / "layout-phone.png").read_bytes()) > 20


LONG_WORDS = """---
title: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenherstellungsgenehmigungsverfahrensbeschleunigung
date: 2024-05-01T10:00:00Z
categories: [Averyveryverylongcategorynamethatneverendsandhasnospaceinitatallwhatsoeverokay]
---
A word that never breaks: Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogochllanfairpwllgwyngyllgogerych.

A bare address: https://example.org/a/very/long/path/that/goes/on/and/on/without/any/space/whatsoever/index.html

`a_long_inline_code_identifier_that_has_no_spaces_in_it_at_all_and_keeps_going_on_and_on()`

```
a code block line that is much wider than a phone's screen and must scroll inside its own box, not the page
```

| one | two | three | four | five | six | seven | eight | nine | ten |
|---|---|---|---|---|---|---|---|---|---|
| column | column | column | column | column | column | column | column | column | column |
"""


def test_no_page_is_wider_than_a_phone(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a 390 px phone, no page of imported WordPress sites (every post, page kind and archive) nor a post of
    unbreakable words is wider than the screen (SPEC: long words never make a page wider than the screen)."""
    from click.testing import CliRunner
    from lxml import etree

    from syndicator.cli import cli

    site = tmp_path / "site"
    site.mkdir()
    (site / "syndicator.toml").write_text('posts_dir = "posts"\nstate_dir = ".syndicator"\n')
    monkeypatch.chdir(site)
    for export in ("classic-site.xml", "wp6-blocks.xml"):
        imported = CliRunner().invoke(cli, ["import", "wordpress", str(WORDPRESS / export)])
        assert imported.exit_code == 0, imported.output
    (site / "posts" / "long-words.md").write_text(LONG_WORDS, encoding="utf-8")
    server = start_server(site)
    sitemap = etree.fromstring(server.get("/sitemap.xml").content)
    paths = [loc.text.removeprefix(server.url) for loc in sitemap.iter("{*}loc")]
    paths += ["/page/2/", "/no/such/page/"]
    assert "/posts/long-words/" in paths and len(paths) > 25
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = context.new_page()
    wide = {}
    for path in paths:
        page.goto(server.url + path)
        width = page.evaluate("Math.max(document.documentElement.scrollWidth, window.innerWidth)")
        if width > 390:
            wide[path] = width
    assert wide == {}
    context.close()


def test_a_feed_opened_on_a_phone_reads_at_the_pages_size(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    """A feed (no viewport possible in XML) on a 390 px phone: titles read at >= 16 CSS px once shrunk to the
    screen, nothing wider than the layout, and RSS shows no empty "The site:" line for its atom:link elements."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path)
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = context.new_page()
    for path in ("/feeds/all.rss", "/feeds/all.atom"):
        page.goto(server.url + path)
        size, scale, wide, layout = page.evaluate(
            "[parseFloat(getComputedStyle(document.querySelector('item > title, entry > title')).fontSize),"
            " window.visualViewport.scale, document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert size * scale >= 16, (path, size, scale)
        assert wide <= layout
        shown = page.evaluate(
            "[...document.querySelectorAll('channel > *, feed > *')].filter(e => getComputedStyle(e).display !="
            " 'none' && !['item', 'entry'].includes(e.localName)).map(e => e.textContent.trim() ||"
            " e.getAttribute('href') || '')"
        )
        assert shown and all(shown), (path, shown)  # the site's title, its address, its description: none empty
    context.close()


MENU_PAGES = {"/": "aside.directory li", "/posts/csto-agreement-on-foreign-bases/": ".post-terms li"}


@pytest.mark.parametrize("width", [1280, 390])
def test_opening_a_subscribe_menu_moves_nothing_before_it(
    browser: Any, start_server: Callable[..., Any], tmp_path: Path, width: int
) -> None:
    """On the home page's directory and a post's "More like this": a Subscribe toggle is a tap target of at least
    24 px; opening one shows its feeds under it, its toggle stays on its term's line, and no row before it moves."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    server = start_server(tmp_path)
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500, has_touch=True)
    page = context.new_page()
    placed = (  # each row's term and toggle: [x, y] in the document (not the viewport, which a click may scroll)
        "rows => [...document.querySelectorAll(rows)].map(li => [li.querySelector('a'), li.querySelector('summary')]"
        ".map(e => { const r = e.getBoundingClientRect(); return [Math.round(r.x), Math.round(r.y + scrollY)]; }))"
    )
    for path, rows in MENU_PAGES.items():
        page.goto(server.url + path)
        toggles = page.locator(f"{rows} details.subscribe-menu > summary")
        assert toggles.count() >= 3, path
        heights = [toggles.nth(n).bounding_box()["height"] for n in range(toggles.count())]
        assert min(heights) >= 24, (path, heights)
        before = page.evaluate(placed, rows)
        toggles.nth(1).click()
        links = page.locator(f"{rows} details[open] .subscribe a").all()
        assert [link.inner_text().split("\n")[0] for link in links][:3] == ["Atom", "RSS", "JSON Feed"], path
        toggle = toggles.nth(1).bounding_box()
        assert all(link.bounding_box()["y"] >= toggle["y"] + toggle["height"] - 1 for link in links), path
        after = page.evaluate(placed, rows)
        assert after[0] == before[0], (path, before[0], after[0])
        (term_x, term_y), (toggle_x, toggle_y) = after[1]
        assert abs(toggle_y - term_y) <= 6 and toggle_x > term_x, (path, after[1])  # beside its term
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_a_site_in_arabic_reads_right_to_left(browser: Any, start_server: Callable[..., Any], tmp_path: Path) -> None:
    """`language = "ar"`: the pages say `dir="rtl"`, so Chromium lays them out right to left: a quotation's rule is
    on its right, where its lines start (the stylesheet's sides are logical: start and end, not left and right)."""
    (tmp_path / "syndicator.toml").write_text('language = "ar"\nsite_title = "مدونة"\npage_size = 1\n')
    posts = tmp_path / "posts"
    posts.mkdir()
    for day in (1, 2):
        (posts / f"p{day}.md").write_text(
            f"---\ntitle: مقالة {day}\ndate: 2025-01-0{day}\ncategories: [أخبار]\n---\n\n> اقتباس\n\nنص.\n",
            encoding="utf-8",
        )
    server = start_server(tmp_path)
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(server.url + "/posts/p1/", wait_until="load")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    rule = page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('blockquote')); "
        "return [s.borderRightWidth, s.borderLeftWidth]; })()"
    )
    assert rule == ["3px", "0px"]
    page.close()
