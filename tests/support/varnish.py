"""Run Debian's Varnish (with varnish-modules' xkey) in front of a server, on a free loopback port.

The VCL is the README's ("Behind a CDN"), with only its backend's address
replaced: what the README tells an operator to run is what the tests run.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from support.paths import ROOT
from support.programs import program

README = ROOT / "README.md"
VARNISHD = shutil.which("varnishd") or ("/usr/sbin/varnishd" if Path("/usr/sbin/varnishd").exists() else None)


def readme_vcl() -> str:
    """The VCL of the README's "Behind a CDN" section (its one vcl code block)."""
    section = README.read_text(encoding="utf-8").split("## Behind a CDN", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```vcl\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the README's Behind a CDN section has one vcl block"
    return str(blocks[0])


def readme_ncsa(log: Path, instance: Path) -> list[str]:
    """The README's varnishncsa command (in the foreground, as a child) writing ``log`` for that instance."""
    section = README.read_text(encoding="utf-8").split("## Behind a CDN", 1)[1].split("\n## ", 1)[0]
    line = next(line for line in section.splitlines() if line.startswith("varnishncsa "))
    words = [w for w in shlex.split(line) if w != "-D"]
    words[words.index("-w") + 1] = str(log)
    return [program("varnishncsa", "varnish"), *words[1:], "-n", str(instance)]


@contextmanager
def running_varnish(port: int, backend_port: int, ncsa_log: Path | None = None) -> Iterator[str]:
    """varnishd -F on 127.0.0.1:port with the README's VCL in front of 127.0.0.1:backend_port; yields its URL.

    Its files are in a folder of their own that Varnish's users may read (it
    compiles the VCL as one of them), removed afterwards. With ``ncsa_log``,
    the README's varnishncsa writes its requests there.
    """
    if VARNISHD is None:
        pytest.fail("no varnishd: .ci/run installs Debian's varnish and varnish-modules (vmod xkey)")
    vcl = readme_vcl().replace('.port = "8000"', f'.port = "{backend_port}"')
    assert str(backend_port) in vcl, "the README's VCL names its backend as 127.0.0.1:8000"
    work = Path(tempfile.mkdtemp(prefix="syndicator-varnish-"))
    work.chmod(0o755)
    (work / "syndicator.vcl").write_text(vcl)
    (work / "syndicator.vcl").chmod(0o644)
    log = (work / "varnish.log").open("wb")
    command = [VARNISHD, "-F", "-a", f"127.0.0.1:{port}", "-f", str(work / "syndicator.vcl")]
    process = subprocess.Popen(
        [*command, "-n", str(work / "varnish"), "-s", "malloc,32m"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    logger: subprocess.Popen[bytes] | None = None
    try:
        _wait_until_up(url, process, work)
        if ncsa_log is not None:
            logger = subprocess.Popen(readme_ncsa(ncsa_log, work / "varnish"), stdout=log, stderr=subprocess.STDOUT)
        yield url
    finally:
        if logger is not None:
            logger.terminate()
            logger.wait(15)
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], work: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"varnishd exited: {(work / 'varnish.log').read_text()}")
        try:
            requests.request("PURGE", url + "/", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"varnishd did not answer: {(work / 'varnish.log').read_text()}")
