"""What an output_dir publishes, for tests that compare two of them."""

from __future__ import annotations

from pathlib import Path

from syndicator.store.claim import CLAIM_FILE


def published_tree(root: Path) -> dict[str, bytes]:
    """Every file of an output_dir by its path (with '/'), but the claim, which names the state_dir building it."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != CLAIM_FILE
    }
