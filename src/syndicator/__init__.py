"""Syndicator: feeds for every category of a Markdown blog."""

import hashlib
from pathlib import Path

__version__ = "0.1.0"


def _code_fingerprint() -> str:
    """The version plus the size and mtime of every file of the package as installed.

    Caches and stamps under state_dir carry it, so that new code (an upgrade, or
    an edit of an editable install) never reuses what old code parsed or rendered.
    """
    digest = hashlib.sha1(__version__.encode(), usedforsecurity=False)
    package = Path(__file__).resolve().parent
    for file in sorted(package.rglob("*")):
        if file.is_file() and file.suffix != ".pyc":
            st = file.stat()
            digest.update(f"{file.relative_to(package)} {st.st_size} {st.st_mtime_ns}\n".encode())
    return f"{__version__}+{digest.hexdigest()[:12]}"


CODE_FINGERPRINT = _code_fingerprint()
