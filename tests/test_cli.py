"""The command line: build, check, config handling and exit codes."""

from __future__ import annotations

import os
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


def test_progress_bars_only_on_a_terminal(tmp_path: Path) -> None:
    """A long build draws one bar on a terminal (reading, then writing), never on a pipe; no log line crosses it."""
    import os
    import pty
    import subprocess
    import sys

    posts = tmp_path / "posts"
    posts.mkdir()
    for i in range(600):
        (posts / f"p{i}.md").write_text(f"---\ntitle: P{i}\ndate: 2025-01-01\n---\nBody {i}.\n")
    command = [sys.executable, "-m", "syndicator", "build"]
    piped = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "reading posts" not in piped.stderr + piped.stdout
    (tmp_path / "feeds").rename(tmp_path / "feeds-piped")
    (tmp_path / ".syndicator").rename(tmp_path / "state-piped")
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, cwd=tmp_path, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(60) == 0
    os.close(leader)
    assert b"reading posts" in output and b"writing feeds" in output
    last_draw = max(output.rfind(b"reading posts"), output.rfind(b"writing feeds"))
    assert output.find(b" INFO ") > last_draw  # the log lines wait until the bar is done


def test_build_watch_keeps_feeds_current_without_serving(tmp_path: Path) -> None:
    """`build --watch` reloads on the schedule and rewrites feeds/; SIGTERM stops it cleanly."""
    import os
    import subprocess
    import sys
    import time

    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("---\ntitle: First\ndate: 2025-01-01\n---\nBody.\n")
    env = {**os.environ, "SYNDICATOR_RELOAD_INTERVAL": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "build", "--watch"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        feed = tmp_path / "feeds" / "all.atom"
        deadline = time.monotonic() + 30
        while not (feed.exists() and b"First" in feed.read_bytes()) and time.monotonic() < deadline:
            time.sleep(0.1)
        (posts / "b.md").write_text("---\ntitle: Second\ndate: 2025-01-02\n---\nBody.\n")
        while b"Second" not in feed.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"Second" in feed.read_bytes()
    finally:
        process.terminate()
        assert process.wait(30) == 0


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


def test_new_code_reuses_no_stamp_and_no_cache(write_post: Callable[..., Path], tmp_path: Path) -> None:
    """An upgrade (or an edited install) parses and renders again, even when no post changed."""
    import shutil
    import subprocess
    import sys

    import syndicator

    package = tmp_path / "install"
    shutil.copytree(Path(syndicator.__file__).parent, package / "syndicator", ignore=shutil.ignore_patterns("*.pyc"))
    write_post("a.md", title="A")
    env = {**os.environ, "PYTHONPATH": str(package)}

    def build() -> str:
        command = [sys.executable, "-m", "syndicator", "build"]
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True, timeout=120)
        return done.stderr

    build()
    assert "up to date" in build()
    with (package / "syndicator" / "core" / "render.py").open("a") as module:
        module.write("# an edit of the installed code\n")
    again = build()
    assert "up to date" not in again and "parsed=1" in again


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
