"""The command line, for tests: ``syndicator <args>`` as a process of its own, and the WordPress import in this one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner
from click.testing import Result

from syndicator.cli import cli

# root reads every file whatever its mode: without these capabilities it obeys a file's permissions as a user does
CAPS = "-dac_override,-dac_read_search"
AS_A_USER = ["setpriv", "--inh-caps", CAPS, "--bounding-set", CAPS]


def limited(command: list[str], *, obeying_modes: bool = False, file_size: int | None = None) -> list[str]:
    """``command`` run as ``run_syndicator`` documents ``obeying_modes`` and ``file_size``."""
    if obeying_modes and os.geteuid() == 0:
        command = [*AS_A_USER, *command]
    if file_size is not None:
        command = ["prlimit", f"--fsize={file_size}", "--", *command]
    return command


def run_syndicator(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    check: bool = False,
    obeying_modes: bool = False,
    file_size: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``syndicator <args>`` in ``cwd`` as a separate process, as a publisher runs it; its exit code and output.

    It sees this process's environment without any ``SYNDICATOR_*`` variable
    (as every test does), plus ``env``. It runs in a session of its own: at
    the timeout its whole group is killed and the test fails. ``check`` fails
    the test when it exits with another code than 0. ``obeying_modes``: run
    as root, it runs without the capabilities that let root read any file.
    ``file_size``: no file it writes grows past that many bytes (RLIMIT_FSIZE: a write past it fails, as on a
    full disk).
    """
    command = limited([sys.executable, "-m", "syndicator", *args], obeying_modes=obeying_modes, file_size=file_size)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")} | dict(env or {})
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(f"syndicator {' '.join(args)} still running after {timeout} s: {stderr}") from None
    if check:
        assert process.returncode == 0, f"syndicator {' '.join(args)} exited {process.returncode}: {stderr}"
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def run_import(export: Path, root: Path, *args: str, config: str = "") -> Result:
    """``syndicator import wordpress <export>`` into root/posts (with root/<config> as the config file when given)."""
    options = ["--posts-dir", str(root / "posts"), *(["--config", str(root / config)] if config else [])]
    return CliRunner().invoke(cli, ["import", "wordpress", str(export), *options, *args], catch_exceptions=False)
