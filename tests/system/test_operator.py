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

from support.nginx import MAIN
from support.nginx import NGINX
from support.nginx import server_block
from support.paths import ROOT
from support.paths import SEED_POSTS
from support.server import free_port

UNIT = ROOT / "deploy" / "syndicator.service"
PRODUCTION = (ROOT / "README.md").read_text().split("## Running it in production", 1)[1].split("\n## ", 1)[0]
TYPED_AS = "sudo -u syndicator venv/bin/syndicator "  # how the README has the operator type a command


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", PRODUCTION, re.DOTALL)


def operator_commands() -> list[list[str]]:
    """The commands the production section gives, as argument lists after ``syndicator``."""
    (script,) = [block for block in blocks("sh") if "cd /srv/syndicator" in block]
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
    assert len(blocks("sh")) == 2 and "cd /srv/syndicator" in blocks("sh")[0]


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
    built = site.syndicator(*by_name["build"])  # serve holds state_dir: it reloads, and had the edit already
    assert built.returncode == 0, built.stderr
    assert "handed over to the running builder" in built.stderr and ", 0 written, 0 removed" in built.stdout
    assert {p: p.read_bytes() for p in (site.folder / "feeds").rglob("*") if p.is_file()} == before


QUIET: dict[str, object] = {"capture_output": True, "text": True, "timeout": 60}


def install(line: str, etc: Path) -> None:
    """One command of the README's install block, with /etc as ``etc``: files copied and linked there, nginx -t
    run over them (Debian's main config including sites-enabled/), systemctl asked of units that are there."""
    command = shlex.split(line.removeprefix("sudo "))
    rooted = [part.replace("/etc/", f"{etc}/") for part in command]
    if command[0] == "cp":
        target = Path(rooted[2])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / command[1], target)
    elif command[:2] == ["rm", "-f"]:
        Path(rooted[2]).unlink(missing_ok=True)
    elif command[:2] == ["ln", "-s"]:
        Path(rooted[3]).parent.mkdir(parents=True, exist_ok=True)
        Path(rooted[3]).symlink_to(command[2])
    elif command == ["nginx", "-t"]:
        work = etc / "nginx"
        (work / "nginx.conf").write_text(MAIN.format(user="user root;\n" if os.geteuid() == 0 else "", work=work))
        checked = subprocess.run([NGINX or "nginx", "-t", "-p", str(work), "-c", str(work / "nginx.conf")], **QUIET)
        assert checked.returncode == 0 and "conflicting server name" not in checked.stderr, checked.stderr
    elif command[0] == "systemctl":
        for unit in [part for part in command[1:] if not part.startswith("-")][1:]:
            folder = "nginx" if unit == "nginx" else f"systemd/system/{unit}.service"
            assert (etc / folder).exists(), f"{line}: no {unit} installed"
    else:
        raise AssertionError(f"a command the README's install block should not need: {line}")


def test_the_readme_installs_the_shipped_files(tmp_path: Path) -> None:
    """The install block, run line by line with /etc in a folder of its own: the unit is the shipped one, and
    nginx -t accepts the server block linked from sites-enabled/ once the copy's listen line, site folder and
    address are changed as the README says."""
    (script,) = [block for block in blocks("sh") if "sites-available" in block]
    etc = tmp_path / "etc"
    site, port = tmp_path / "srv", free_port()
    site.mkdir()  # the site's folder, as the layout above has it
    default = etc / "nginx" / "sites-enabled" / "default"  # Debian's welcome page, on the port the site will take
    default.parent.mkdir(parents=True)
    default.write_text(f"server {{ listen 127.0.0.1:{port} default_server; server_name _; root /var/www/html; }}\n")
    for line in (line.split("#")[0].strip() for line in script.splitlines()):
        for part in filter(None, (piece.strip() for piece in line.split("&&"))):
            if part.startswith("sudo nginx -t"):  # the change the README asks for, made in the copy
                copy = etc / "nginx" / "sites-available" / "syndicator"
                copy.write_text(server_block(site, f"127.0.0.1:{free_port()}", port, copy.read_text()))
            install(part, etc)
    assert (etc / "systemd/system/syndicator.service").read_bytes() == UNIT.read_bytes()
    assert not default.exists()
    enabled = etc / "nginx" / "sites-enabled" / "syndicator"
    assert enabled.resolve() == (etc / "nginx" / "sites-available" / "syndicator").resolve()
    assert f"listen 127.0.0.1:{port};" in enabled.read_text() and "/srv/syndicator" not in enabled.read_text()
