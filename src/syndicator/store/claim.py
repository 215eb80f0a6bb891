"""Which state_dir an output_dir belongs to: a small file in output_dir names it, and only that state_dir builds there.

A build writes into output_dir what its state_dir's ledger, records and
history say; another state_dir (a command typed in another folder, a lost one
restored elsewhere) would rebuild those files from what it knows, dropping
tombstones and moving entries back in time. So output_dir keeps
``.syndicator-state`` (a dot-file: neither ``serve`` nor the shipped nginx
serves it) naming the state_dir that builds it; a run with another refuses in
one line naming both, unless it adopts output_dir (``--adopt``), which reads
back what output_dir published before it writes anything. An output_dir
without the file (new, or built before there was one) is claimed by the first
run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from syndicator.config import Settings
from syndicator.store.files import write_atomic

CLAIM_FILE = ".syndicator-state"


class ClaimedError(Exception):
    """output_dir was built from another state_dir."""


def state_dir_of(settings: Settings) -> str:
    """The state_dir as output_dir records it: its absolute path, with no link or ``..`` in it."""
    return os.path.realpath(settings.state_dir)


def owner(output_dir: Path) -> str | None:
    """The state_dir output_dir was built from (None when it does not say, or the file cannot be read)."""
    try:
        document = json.loads((output_dir / CLAIM_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    state_dir = document.get("state_dir") if isinstance(document, dict) else None
    return state_dir if isinstance(state_dir, str) and state_dir else None


def claim(settings: Settings, *, adopt: bool = False) -> bool:
    """Make output_dir this state_dir's, before anything is written there; whether it was another's (adopted).

    ClaimedError when it is another's and ``adopt`` is not given.
    """
    ours, theirs = state_dir_of(settings), owner(settings.output_dir)
    if theirs == ours:
        return False
    if theirs is not None and not adopt:
        raise ClaimedError(
            f"output_dir {settings.output_dir} was built from state_dir {theirs}, not {ours}: "
            "set state_dir to that folder in the config file, or run with --adopt to take output_dir over"
        )
    document = json.dumps({"state_dir": ours}, ensure_ascii=False).encode("utf-8") + b"\n"
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(settings.output_dir / CLAIM_FILE, document)
    return theirs is not None
