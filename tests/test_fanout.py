"""A build's fan-out (README "Fan-out"): feeds per post past the bound are a warning in `check` and /healthz."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from support.factories import NOW
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app


def write_wide_posts(posts_dir: Path, count: int) -> None:
    """``count`` posts with 100 categories and tags each, none shared: 300 feeds a post."""
    for n in range(count):
        categories = ", ".join(f"C{n}x{i}" for i in range(50))
        tags = ", ".join(f"T{n}x{i}" for i in range(50))
        (posts_dir / f"p{n}.md").write_text(
            f"---\ntitle: P{n}\ndate: 2025-01-{n + 1:02d}\ncategories: [{categories}]\ntags: [{tags}]\n---\nBody\n"
        )


def test_check_warns_when_the_fan_out_passes_its_bound(
    make_settings: Callable[..., Settings], posts_dir: Path, tmp_path: Path
) -> None:
    """Ten posts of 100 unique names make 3,006 feeds, past the bound (30 a post, at least 3,000): `check` warns,
    naming a post with the most names; nine make 2,706 feeds, within it."""
    write_wide_posts(posts_dir, 9)
    config = tmp_path / "s.toml"
    config.write_text(f'posts_dir = "{posts_dir}"\nstate_dir = "{tmp_path / "state"}"\n')
    assert CliRunner().invoke(cli, ["check", "--config", str(config)]).exit_code == 0
    write_wide_posts(posts_dir, 10)
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if "feeds" in line]
    assert line.endswith(  # on the line of the post's tags
        ":5: warning: 10 posts make 3,006 feeds, past the bound of 3,000 (30 a post, at least 3,000): every category"
        ' and tag is 3 feeds and a page, and posts like this one name 100 (see the README, "Fan-out")'
    )


def test_healthz_warns_when_the_fan_out_passes_its_bound(
    make_settings: Callable[..., Settings], posts_dir: Path
) -> None:
    """The same warning is in /healthz (degraded), and the feeds are still written."""
    write_wide_posts(posts_dir, 10)
    settings = make_settings()
    builder = Builder(settings)
    report = builder.reload(NOW)
    assert report.posts == 10 and (settings.output_dir / "category" / "c0x0.atom").is_file()
    health = create_app(settings, builder).test_client().get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert [p["message"].split(",")[0] for p in health["problems"]] == ["10 posts make 3"]
