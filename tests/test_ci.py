""".ci/run installs every program the tests run (.ci/packages) and stops, naming it, when one is still missing:
the deployment's nginx and Varnish (with vmod xkey) included; a test never skips for want of one there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".ci" / "run"
PACKAGES = ROOT / ".ci" / "packages"
BASH = shutil.which("bash") or "/bin/bash"
ALIASES = {"chromium-browser": "chromium"}  # another name a test looks a program up by


def listed() -> dict[str, str]:
    """.ci/packages as program (or file) -> Debian package."""
    rows = [line.split() for line in PACKAGES.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {row[0]: row[1] for row in rows}


def looked_up() -> set[str]:
    """Every program a test looks up: shutil.which("x") and program("x", ...) in tests/, and the interop
    consumers' commands."""
    found: set[str] = {"npm"}  # .ci/run itself installs the JavaScript consumers with it
    for path in ROOT.joinpath("tests").rglob("*.py"):
        if path == Path(__file__).resolve() or "node_modules" in path.parts:
            continue  # this file names programs as examples
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'shutil\.which\("([^"]+)"\)', text))
        found |= set(re.findall(r'\bprogram\("([^"]+)", "[^"]+"\)', text))
        found |= set(re.findall(r'"command:([^"]+)"', text))
    return {ALIASES.get(name, name) for name in found}


def test_every_program_a_test_runs_is_installed_by_ci() -> None:
    """Each program a test looks up has its Debian package in .ci/packages; the deployment's are there."""
    programs = listed()
    assert looked_up() - set(programs) == set()
    assert programs["nginx"] == "nginx" and programs["varnishd"] == "varnish"
    assert programs["/usr/lib/*/varnish/vmods/libvmod_xkey.so"] == "varnish-modules"


def test_ci_stops_naming_a_program_still_missing(tmp_path: Path) -> None:
    """The check .ci/run makes after installing: a program (or file) not there is named with its package; those
    that are there are not."""
    text = RUN.read_text()
    functions = text[text.index("have() {") : text.index("packages=(")]
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "packages").write_text(
        "# program package\nsh dash\nno-such-program-here some-package\n/no/such/lib_*.so some-modules\n"
    )
    script = functions + "missing '{program}({package})'\n"
    found = subprocess.run([BASH, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["no-such-program-here(some-package)", "/no/such/lib_*.so(some-modules)"]
    assert 'echo ".ci/run: not installed: ${still[*]}" >&2\n  exit 1' in text
    assert text.index("still=(") > text.index("apt-get install")
    assert "export CI=1" in text  # tests/support/programs.py: missing under CI is a failure
