"""theme_dir: a publisher's templates and static files replace the bundled ones of the same name (SPEC "Themes")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.config import load_settings
from syndicator.service.audience import Audience
from syndicator.service.build import Builder
from syndicator.service.following import Following
from syndicator.service.http.app import create_app
from syndicator.store.audience import AudienceStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
# Each template, and a page drawn with it (the stats page and the email pages are drawn per request).
PAGE_KINDS = [
    ("index.html", "/"),
    ("index.html", "/page/2/"),
    ("category.html", "/category/alpha/"),
    ("category.html", "/tag/green/"),
    ("category.html", "/author/ann/"),
    ("post.html", "/posts/first/"),
    ("page.html", "/about/"),
    ("404.html", "/no/such/page/"),
    ("stats.html", "/stats/"),
    ("email.html", "/confirm/not-a-token"),
]


@pytest.fixture
def themed_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path], tmp_path: Path) -> Any:
    """A site of two posts, with a theme that overrides one given template (returns a test client)."""
    write_post("2025-06-01-first.md", title="First", categories="[Alpha]", tags="[Green]", author="Ann")
    write_post("2025-06-02-second.md", title="Second", date="2025-06-02T10:00:00Z", categories="[Alpha]")
    write_post("pages/about.md", title="About", type="page")

    def make(name: str, text: str) -> Any:
        theme = tmp_path / "theme"
        (theme / "templates").mkdir(parents=True, exist_ok=True)
        (theme / "templates" / name).write_text(text, encoding="utf-8")
        settings = make_settings(
            theme_dir=theme,
            page_size=1,
            smtp_url="smtp://127.0.0.1:9",
            email_from="a@example.org",
            stats_token="tok",  # noqa: S106 - a test token
        )
        builder = Builder(settings)
        builder.reload(NOW)
        audience = Audience(AudienceStore(settings.state_dir))
        following = Following(settings, lambda: builder.snapshot.catalog if builder.snapshot else None, lambda: NOW)
        return create_app(settings, builder, audience=audience, following=following).test_client()

    return make


@pytest.mark.parametrize(("template", "path"), PAGE_KINDS)
def test_every_page_kind_is_drawn_with_the_themes_template(
    themed_site: Callable[..., Any], template: str, path: str
) -> None:
    """A theme's template of a page kind's name replaces the bundled one; the others stay the bundled ones."""
    entries = "{{ entries | safe }}" if template in ("index.html", "category.html") else ""  # archives list posts
    mark = f'<p class="theme-mark">the theme\'s {template}</p>{entries}'
    client = themed_site(template, '{% extends "base.html" %}{% block main %}' + mark + "{% endblock %}")
    page = client.get(path, headers={"Authorization": "Bearer tok"})
    assert page.status_code in (200, 400, 404), page.status_code
    text = page.get_data(as_text=True)
    assert f'<p class="theme-mark">the theme\'s {template}</p>' in text
    assert '<link rel="stylesheet" href="/static/style.css">' in text  # base.html: still the bundled one
    assert client.get("/healthz").json["status"] == "ok"


def test_a_theme_may_override_the_shared_base_template(themed_site: Callable[..., Any]) -> None:
    """base.html in the theme frames every page: the home page, a post and the 404 page show it."""
    client = themed_site(
        "base.html", '<!doctype html><title>Mine</title><main id="mine">{% block main %}{% endblock %}</main>'
    )
    for path in ("/", "/posts/first/", "/no/such/page/"):
        text = client.get(path).get_data(as_text=True)
        assert text.startswith('<!doctype html><title>Mine</title><main id="mine">'), path


def test_a_themes_static_files_are_found_first(themed_site: Callable[..., Any], tmp_path: Path) -> None:
    """/static/style.css from theme_dir/static/; a file the theme lacks from the package; nothing outside it."""
    client = themed_site("post.html", '{% extends "base.html" %}')
    (tmp_path / "theme" / "static").mkdir()
    (tmp_path / "theme" / "static" / "style.css").write_text("body { color: rebeccapurple; }\n")
    (tmp_path / "theme" / "secret.txt").write_text("not public\n")
    package = resources.files("syndicator") / "static" / "feed.css"
    for path, expected in (("/static/style.css", b"body { color: rebeccapurple; }\n"), ("/static/feed.css", None)):
        with client.get(path) as answer:
            assert answer.status_code == 200
            assert answer.data == (expected or package.read_bytes())
    for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt"):
        with client.get(path) as answer:
            assert answer.status_code == 404 and b"not public" not in answer.data


BROKEN = [
    ("{% if %}", "post.html", 2),  # a syntax error
    ("{{ post.title | shout }}", "post.html", 2),  # an unknown filter
    ("{{ post.no_such_field }}", "post.html", 2),  # an unknown value: would fail when a page is drawn
    ("{{ post.no_such_field }}", "page.html", 2),  # likewise on a page (type: page)
    ("{% for x in settings.site_title | int %}{% endfor %}", "category.html", 2),  # fails when rendered
]


@pytest.mark.parametrize(("line", "name", "lineno"), BROKEN)
@pytest.mark.parametrize("command", ["build", "check-theme-on-serve"])
def test_a_broken_theme_template_stops_build_and_serve_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, name: str, lineno: int, command: str
) -> None:
    """build and serve refuse to start on a broken theme template, in one line naming its file and line."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\ncategories: [X]\n---\nHi.\n")
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / name).write_text('{% extends "base.html" %}{% block main %}\n' + line + "\n{% endblock %}\n")
    (tmp_path / "syndicator.toml").write_text('theme_dir = "theme"\n')
    monkeypatch.chdir(tmp_path)
    args = ["build"] if command == "build" else ["serve", "--port", "1"]  # refused before it listens
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message, message
    assert message.startswith(f"Error: theme: {templates / name}:{lineno}: "), message
    assert not (tmp_path / "feeds").exists()  # nothing built


def test_a_theme_failing_on_one_posts_values_draws_that_page_with_the_packages_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A theme's post.html that only one post's values break (its first tag: the sample posts all have one, this post
    none) passes the start-up try; that post's page is drawn with the package's post.html, every other page with
    the theme's, the feeds hold every post, and the failure is a problem naming the template's file and line, in
    ``check`` (with the post) and on /healthz (as a server-side problem: the file is not under posts_dir)."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "tagged.md").write_text("---\ntitle: Tagged\ndate: 2025-01-01\ntags: [Green]\n---\nHi.\n")
    (posts / "untagged.md").write_text("---\ntitle: Untagged\ndate: 2025-01-02\n---\nNo tag here.\n")
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "post.html").write_text(
        '{% extends "base.html" %}{% block main %}\n<p class="theme-mark">{{ post.tags[0].name }}</p>\n'
        "<h1>{{ post.title }}</h1>{% endblock %}\n"
    )
    config = tmp_path / "syndicator.toml"
    config.write_text('site_url = "https://example.org"\ntheme_dir = "theme"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(config, {})
    builder = Builder(settings)
    builder.reload(NOW)
    assert builder.last_error is None
    client = create_app(settings, builder).test_client()
    tagged, untagged = client.get("/posts/tagged/"), client.get("/posts/untagged/")
    assert tagged.status_code == untagged.status_code == 200
    assert '<p class="theme-mark">Green</p>' in tagged.get_data(as_text=True)
    assert "theme-mark" not in untagged.get_data(as_text=True) and "No tag here." in untagged.get_data(as_text=True)
    assert b"Untagged" in client.get("/feeds/all.atom").data and client.get("/").status_code == 200
    health = client.get("/healthz").json
    assert health["status"] == "degraded" and len(health["problems"]) == 1, health
    assert health["problems"][0]["path"] is None and "untagged" not in str(health), health
    checked = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert checked.exit_code == 1
    said = checked.output.splitlines()
    assert said[0].startswith(f"{templates / 'post.html'}:2: warning: "), said
    assert "the page of posts/untagged.md" in said[0] and "package's templates" in said[0], said
    (posts / "untagged.md").write_text("---\ntitle: Untagged\ndate: 2025-01-02\ntags: [Blue]\n---\nA tag now.\n")
    builder.reload(NOW)
    assert '<p class="theme-mark">Blue</p>' in client.get("/posts/untagged/").get_data(as_text=True)
    assert client.get("/healthz").json["status"] == "ok"


def test_a_theme_template_that_is_not_utf8_is_named_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template saved in another encoding stops build in one line naming the file, the line and the byte."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\n---\nHi.\n")
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "post.html").write_bytes(b'{% extends "base.html" %}\n<p>Caf\xe9</p>\n')
    (tmp_path / "syndicator.toml").write_text('theme_dir = "theme"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: theme: {templates / 'post.html'}:2: not UTF-8 text (byte 0xe9)"


def test_theme_dir_is_a_setting_relative_to_the_config_file(tmp_path: Path) -> None:
    """theme_dir from the file is under the file's folder; unset (or empty) it is None: the bundled theme."""
    (tmp_path / "syndicator.toml").write_text('theme_dir = "look"\n')
    assert load_settings(tmp_path / "syndicator.toml", {}).theme_dir == tmp_path / "look"
    assert load_settings(None, {}).theme_dir is None
    assert load_settings(None, {"SYNDICATOR_THEME_DIR": ""}).theme_dir is None
    (tmp_path / "empty.toml").write_text('theme_dir = ""\n')
    assert load_settings(tmp_path / "empty.toml", {}).theme_dir is None


def test_a_missing_theme_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A theme_dir that is no folder stops build in one line (a typo must not silently give the bundled look)."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "syndicator.toml").write_text('theme_dir = "nothere"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: theme_dir: {tmp_path / 'nothere'}: no such folder"
