"""The programs the tests run beside the package: found on PATH (or in /usr/sbin), or the test cannot go on.

Where ``.ci/run`` runs the suite (``CI`` set) a missing one is a failure
naming the Debian package that brings it (``.ci/packages``); elsewhere the
test is skipped, saying what to install.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def program(name: str, package: str) -> str:
    """The path of ``name``; missing: fail under CI, skip elsewhere."""
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is not None:
        return found
    why = f"{name} is not installed (Debian's {package}; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)
