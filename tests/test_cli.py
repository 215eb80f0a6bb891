"""The command line in this process (click's runner): build, check, config handling, stamps and exit codes. The
command as a process of its own: system/test_commands.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner

from syndicator.cli import cli


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_build_writes_feeds_and_is_repeatable(
    run: Callable[..., object], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """`syndicator build` writes feeds/ and exits 0; a second build changes nothing."""
    write_post("a.md", title="A", categories="[One]")
    first = run("build")
    assert first.exit_code == 0, first.output
    assert "10 feed files" in first.output and "13 written" in first.output  # and sitemap, robots.txt, favicon
    second = run("build")
    assert "0 written" in second.output
    assert (tmp_path / "feeds/category/one.atom").is_file()


def test_build_strict_exits_1_on_a_failed_post(run: Callable[..., object], write_post: Callable[..., Path]) -> None:
    """--strict turns a failed post into exit 1; without it the build succeeds."""
    write_post("a.md", title="A")
    write_post("b.md", text="---\ntitle: B\n---\n")
    assert run("build").exit_code == 0
    result = run("build", "--strict")
    assert result.exit_code == 1
    assert "posts/b.md:1: date is missing" in result.output


def test_check_lists_problems_and_exits_1(
    run: Callable[..., object], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """`check` prints path:line: message per problem, exits 1, writes nothing; stderr counts the problems."""
    write_post("good.md", title="Good")
    write_post("bad.md", text="---\ntitle: T\ndate: someday\n---\n")
    write_post("worse.md", text="---\n: [\n---\n")
    result = run("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        "posts/bad.md:3: date 'someday' is not an ISO 8601 date or date-time",
        lines[1],
    ]
    assert lines[1].startswith("posts/worse.md:2: invalid YAML front matter")
    assert not Path("feeds").exists()
    assert result.stderr == f"2 problem(s) in {tmp_path / 'posts'}\n"  # no partner asked about: none named


def checked(run: Callable[..., object], write_post: Callable[..., Path], fields: dict[str, str]) -> list[str]:
    """`check`'s lines (sorted; it exits 1) over posts dated a day apart in this order, each with a title and a date
    (lines 2 and 3) and then these fields."""
    for day, (name, more) in enumerate(fields.items(), 1):
        write_post(name, text=f"---\ntitle: {name}\ndate: 2025-01-{day:02d}\n{more}\n---\nBody\n")
    result = run("check")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    return sorted(result.stdout.splitlines())  # type: ignore[attr-defined]


def test_a_taken_slug_id_or_path_is_said_on_its_line(
    run: Callable[..., object], write_post: Callable[..., Path]
) -> None:
    """The second post to use a slug, an id or a page's path is named at the line giving it, where the reader of
    the message would change it (a slug from the file's name has no line: line 1)."""
    fields = {
        "a.md": "slug: same\nid: urn:x:one",
        "b.md": "categories: [C]\n\nslug: same",
        "c.md": "tags: [T]\nid: urn:x:one",
        "same.md": "",
        "e.md": "type: page\npath: /about/",
        "f.md": "type: page\n\n\npath: about",
    }
    assert checked(run, write_post, fields) == [
        "posts/b.md:6: slug 'same' is already used by posts/a.md",
        "posts/c.md:5: id 'urn:x:one' is already used by posts/a.md",
        "posts/f.md:7: path '/about/' is already used by posts/e.md",
        "posts/same.md:1: slug 'same' is already used by posts/a.md",
    ]


def test_check_says_where_its_problems_are(
    run: Callable[..., object], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """A problem in the config file is counted there, not in posts_dir; problems in both places, each counted."""
    write_post("a.md", text="---\ntitle: A\ndate: 2025-01-01\ncategories: [Old]\n---\nA\n")
    (tmp_path / "syndicator.toml").write_text('[redirects.category]\nold = "new"\n')
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.startswith("syndicator.toml:2: warning: redirects.category: 'old' is a live category's")
    assert result.stderr == "1 problem(s) in syndicator.toml\n"
    write_post("b.md", text="---\ntitle: B\n---\n")
    result = run("check")
    assert result.stderr == f"2 problem(s): 1 in {tmp_path / 'posts'}, 1 in syndicator.toml\n"


def test_names_only_their_slug_makes_one_are_a_warning(
    run: Callable[..., object], write_post: Callable[..., Path]
) -> None:
    """Arabic علم ("science") and عالم ("world") both make python-slugify's `lm`, so SPEC makes them one category:
    still so, but each spelling not shown is a warning on the newest post naming it (its categories' line); a
    spelling that differs only by case, spaces or punctuation is the same name and says nothing."""
    fields = {
        "a.md": "categories: [علم]",
        "b.md": "\ncategories: [عالم]",
        "c.md": "categories: [عالم]",
        "d.md": "tags: [Foreign Affairs, 中文]",
        "e.md": "tags: [foreign-affairs, 忠文]",
    }
    assert checked(run, write_post, fields) == [
        "posts/a.md:4: warning: category 'علم' is one category with 'عالم', shown so: both make the slug 'lm'"
        " (python-slugify's Latin letters); rename one to keep them apart",
        "posts/d.md:4: warning: tag '中文' is one tag with '忠文', shown so: both make the slug 'zhong-wen'"
        " (python-slugify's Latin letters); rename one to keep them apart",
    ]


def test_check_clean_posts_exits_0(run: Callable[..., object], write_post: Callable[..., Path]) -> None:
    """No problem: exit 0."""
    write_post("good.md", title="Good")
    result = run("check")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_config_option_and_errors(run: Callable[..., object], tmp_path: Path, write_post: Callable[..., Path]) -> None:
    """--config reads the named file; an unknown key is a one-line error with exit 1."""
    write_post("a.md", title="A")
    (tmp_path / "site.toml").write_text('output_dir = "public"\n')
    assert run("build", "--config", "site.toml").exit_code == 0
    assert (tmp_path / "public/all.atom").is_file()
    (tmp_path / "bad.toml").write_text("colour = 1\n")
    result = run("check", "--config", "bad.toml")
    assert result.exit_code == 1
    assert "unknown setting 'colour'" in result.output
    assert run("build", "--config", "missing.toml").exit_code == 1
    (tmp_path / "elsewhere.toml").write_text('posts_dir = "nope"\n')
    missing = run("check", "--config", "elsewhere.toml")
    assert (missing.exit_code, missing.output) == (1, f"Error: posts_dir: {tmp_path / 'nope'}: no such folder\n")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _up_to_date(caplog: pytest.LogCaptureFixture) -> bool:
    found = any("up to date" in r.getMessage() for r in caplog.records)
    caplog.clear()
    return found


def test_a_build_that_finds_nothing_changed_stops_early(
    run: Callable[..., object], write_post: Callable[..., Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A second build with nothing changed answers from the stamp; any change to an input builds again."""
    caplog.set_level("INFO")
    write_post("a.md", title="A", categories="[One]")
    post = write_post("b.md", title="B", date="2025-06-02T10:00:00Z", categories="[Two]")
    write_post("bad.md", text="---\ntitle: Bad\n---\n")
    first = run("build")
    assert first.exit_code == 0 and not _up_to_date(caplog)
    feeds = _tree(tmp_path / "feeds")
    second = run("build", "--strict")
    assert _up_to_date(caplog)
    assert second.exit_code == 1 and "posts/bad.md:1: date is missing" in second.output
    assert first.output.split("(")[1].split(",")[:2] == second.output.split("(")[1].split(",")[:2]
    assert "0 written, 0 removed" in second.output and _tree(tmp_path / "feeds") == feeds

    post.write_text(post.read_text().replace("title: 'B'", "title: 'B, edited'"))
    third = run("build")
    assert not _up_to_date(caplog) and "B, edited" in (tmp_path / "feeds/all.atom").read_text()
    assert "categories, 0 written" not in third.output
    run("build")
    assert _up_to_date(caplog)

    (tmp_path / "feeds/category/two.rss").unlink()
    run("build")
    assert not _up_to_date(caplog) and (tmp_path / "feeds/category/two.rss").is_file()
    (tmp_path / "feeds/all.json").write_bytes(b"{}")
    run("build")
    assert not _up_to_date(caplog) and (tmp_path / "feeds/all.json").read_bytes() != b"{}"

    (tmp_path / "syndicator.toml").write_text('site_title = "Renamed"\n')
    run("build")
    assert not _up_to_date(caplog) and "Renamed" in (tmp_path / "feeds/all.atom").read_text()
    (post.parent / "c.md").write_text(post.read_text().replace("B, edited", "C"))
    run("build")
    assert not _up_to_date(caplog) and "<title>C</title>" in (tmp_path / "feeds/all.atom").read_text()


def test_a_build_stamp_expires_when_a_scheduled_post_comes_due(
    run: Callable[..., object], write_post: Callable[..., Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing on disk changes when a scheduled post's time comes, but the build must publish it."""
    caplog.set_level("INFO")
    write_post("a.md", title="A")
    write_post("later.md", title="Later", date="2031-01-01T00:00:00Z")
    with time_machine.travel(datetime(2030, 6, 1, tzinfo=UTC)):
        run("build")
        run("build")
        assert _up_to_date(caplog)
        assert "Later" not in (tmp_path / "feeds/all.atom").read_text()
    with time_machine.travel(datetime(2031, 1, 2, tzinfo=UTC)):
        run("build")
        assert not _up_to_date(caplog)
        assert "<title>Later</title>" in (tmp_path / "feeds/all.atom").read_text()


def test_check_lists_what_a_build_reports(
    run: Callable[..., object], write_post: Callable[..., Path], tmp_path: Path
) -> None:
    """`check` publishes as a build does, writing nothing: a file that fails keeps its last good version published
    (SPEC: Loading on a schedule), so a new post that takes its slug is a problem for both."""
    write_post("2025-01-01-hello.md", title="Hello")
    assert run("build").exit_code == 0
    write_post("2025-01-01-hello.md", text="---\ntitle: Hello\ndate: someday\n---\n")  # fails from now on
    write_post("2025-02-01-hello.md", title="Hello again")  # the same slug, "hello"
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if "posts" not in path.parts}
    checked = run("check")
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if "posts" not in path.parts} == before
    built = run("build")
    assert checked.exit_code == 1
    assert checked.stdout.splitlines() == built.stderr.splitlines()
    assert any("slug 'hello' is already used" in line for line in checked.stdout.splitlines())
