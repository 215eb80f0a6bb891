"""The accounts' private keys, one PEM file per account under state_dir/fediverse-keys/ (mode 0600).

Made once per account and kept: a key that changed would make every server
that cached the old one refuse our deliveries. The store only keeps bytes;
making a key is the signer's job (service/httpsig.py).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path

KEYS_DIR = "fediverse-keys"
_HANDLE = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,254}")  # a handle is a file name of its own


class ActorKeys:
    """Private keys by handle; a key missing is made by ``make`` and written before it is used. A key once read is
    kept, and written back when its file goes (``git clean -fdx``, ``rm -rf`` of state_dir under serve): a new key
    would not be the one the actor documents already served show."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / KEYS_DIR
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self._known: dict[str, bytes] = {}

    def get(self, handle: str, make: Callable[[], bytes]) -> bytes:
        """The handle's private key (PEM), made and written on first use (a second writer's key is read instead)."""
        if not _HANDLE.fullmatch(handle) or ".." in handle:
            raise ValueError(f"not an account handle: {handle!r}")
        path = self.folder / f"{handle}.pem"
        known = self._known.get(handle)
        if known is None:
            with contextlib.suppress(FileNotFoundError):
                known = self._known[handle] = path.read_bytes()
                return known
        elif path.exists():
            return known
        key = self._known[handle] = self._write(handle, path, known or make())
        return key

    def _write(self, handle: str, path: Path, pem: bytes) -> bytes:
        """Write a key to its file, owner-only; the key a second writer wrote first when it was first."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.folder / f".{handle}.{os.getpid()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle_file:
                handle_file.write(pem)
                handle_file.flush()
                os.fsync(handle_file.fileno())
            os.link(temp, path)  # fails when another writer was first: its key is the one
        except FileExistsError:
            return path.read_bytes()
        finally:
            temp.unlink(missing_ok=True)
        return pem
