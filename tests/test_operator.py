"""One configuration: the unit's ExecStart and the README's operator commands, run as an operator would, in the
site's folder with no SYNDICATOR_* variable, all see the server's state (its state_dir, from the config file)."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from conftest import SEED_POSTS
from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "syndicator.service"
PRODUCTION = (ROOT / "README.md").read_text().split("## Running it in production", 1)[1].split("\n## ", 1)[0]
TYPED_AS = "sudo -u syndicator venv/bin/syndicator "  # how the README has the operator type a command


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", PRODUCTION, re.DOTALL)


def operator_commands() -> list[list[str]]:
    """The commands the production section gives, as argument lists after ``syndicator``."""
    (script,) = blocks("sh")
    lines = [line.split("#")[0].strip() for line in script.splitlines()]
    return [shlex.split(line.removeprefix(TYPED_AS)) for line in lines if line.startswith(TYPED_AS)]


def environment() -> dict[str, str]:
    """The operator's shell: no SYNDICATOR_* variable."""
    return {key: value for key, value in os.environ.items() if not key.startswith("SYNDICATOR_")}


@dataclass
class Site:
    folder: Path
    state: Path
    url: str
    process: subprocess.Popen[bytes]

    def syndicator(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command typed in the site's folder (the installed console script is ``python -m syndicator``)."""
        command = [sys.executable, "-m", "syndicator", *args]
        return subprocess.run(command, cwd=self.folder, env=environment(), capture_output=True, text=True, timeout=120)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The README's syndicator.toml in a site folder, and serve started by the unit's ExecStart, in its
    WorkingDirectory, with only the paths and the port replaced."""
    folder, state, port = tmp_path / "srv", tmp_path / "var-lib-syndicator", free_port()
    shutil.copytree(SEED_POSTS, folder / "posts")
    (toml,) = blocks("toml")
    assert 'state_dir = "/var/lib/syndicator"' in toml, "the README names state_dir in the config file"
    (folder / "syndicator.toml").write_text(toml.replace("/var/lib/syndicator", str(state)))
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(UNIT)
    service = unit["Service"]
    assert "Environment" not in service and "EnvironmentFile" not in service
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/srv/syndicator/venv/bin/syndicator" and command.count("8000") == 1
    command = [
        sys.executable,
        "-m",
        "syndicator",
        *(part.replace("/srv/syndicator", str(folder)) for part in command[1:]),
    ]
    command[command.index("8000")] = str(port)
    cwd = service["WorkingDirectory"].replace("/srv/syndicator", str(folder))
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=cwd, env=environment(), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: requests.get(url + "/healthz", timeout=5).json()["status"] == "ok", "serve's first load", process)
        yield Site(folder, state, url, process)
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def wait(condition: object, what: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited while waiting for {what}"
        try:
            if condition():  # type: ignore[operator]
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_readme_gives_the_operator_these_commands() -> None:
    """partners, stats, check and build, typed in the site's folder as the service's user."""
    assert [c[0] for c in operator_commands()] == ["partners", "partners", "stats", "check", "build"]
    assert "cd /srv/syndicator" in blocks("sh")[0]


def test_every_operator_command_sees_the_servers_state(site: Site) -> None:
    """A partner added is answered at once; stats shows the readers serve counted; check knows what serve
    published; build refuses while serve builds, naming its pid, and writes nothing. All from the state_dir the
    config file names, which serve uses too."""
    by_name = {
        " ".join(command[:2]) if command[0] == "partners" else command[0]: command for command in operator_commands()
    }
    added = site.syndicator(*by_name["partners add"])
    assert added.returncode == 0, added.stderr
    token = added.stdout.split()[-1]
    feed = requests.get(site.url + "/partners/feeds/all.atom", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert feed.status_code == 200
    assert "acme" in site.syndicator(*by_name["partners list"]).stdout
    assert (site.state / "partners.sqlite3").is_file() and not (site.folder / ".syndicator").exists()

    for n in range(3):
        reader = {"User-Agent": f"reader-{n}/1.0", "X-Forwarded-For": f"198.51.100.{n}"}
        assert requests.get(site.url + "/feeds/all.atom", headers=reader, timeout=5).status_code == 200

    def counted() -> bool:
        table = site.syndicator(*by_name["stats"]).stdout.splitlines()
        return "/feeds/all.atom" in table and any(line.split()[1:2] == ["3"] for line in table[1:])

    wait(counted, "stats to show the three readers serve counted", site.process)

    post = site.folder / "posts" / "2011-11-23-tajikistan-frees-jailed-pilots.md"
    post.write_text(post.read_text() + "\nA correction.\n")
    wait(lambda: "correction" in requests.get(site.url + "/feeds/all.atom", timeout=5).text, "the edit", site.process)
    checked = site.syndicator(*by_name["check"])
    assert checked.returncode == 0, checked.stderr
    assert (
        "posts/2011-11-23-tajikistan-frees-jailed-pilots.md: edited since published" in checked.stdout
    )  # serve's ledger

    before = {p: p.read_bytes() for p in (site.folder / "feeds").rglob("*") if p.is_file()}
    built = site.syndicator(*by_name["build"])
    assert built.returncode == 1
    assert f"another syndicator (pid {site.process.pid}) is building with state_dir {site.state}" in built.stderr
    assert {p: p.read_bytes() for p in (site.folder / "feeds").rglob("*") if p.is_file()} == before
