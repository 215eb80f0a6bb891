"""Print what every installed consumer shows of the corpus's feeds, field by field (a Markdown table).

Run from the repository: ``PYTHONPATH=src python tests/interop/table.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for support/
sys.path.insert(0, str(Path(__file__).resolve().parent))

from consumers import CONSUMERS
from consumers import missing
from truth import ENTRY_FIELDS
from truth import FEED_FIELDS
from truth import build
from truth import show
from truth import verdicts


def cell(found: dict[tuple[str, str], str], name: str) -> str:
    marks = {fmt: verdict for (fmt, field), verdict in found.items() if field == name}
    if not marks:
        return "—"
    wrong = [f"{fmt}: {verdict}" for fmt, verdict in marks.items() if verdict]
    if not wrong:
        return "ok"
    return "wrong (" + "; ".join(w.replace("|", "\\|")[:150] for w in wrong) + ")"


def main() -> None:
    fields = (*FEED_FIELDS, *ENTRY_FIELDS)
    with tempfile.TemporaryDirectory() as tmp:
        feeds = build(Path(tmp))
        out = sys.stdout
        out.write("| consumer | " + " | ".join(fields) + " |\n")
        out.write("|---" * (len(fields) + 1) + "|\n")
        for consumer in CONSUMERS:
            why = missing(consumer)
            if why:
                out.write(f"| {consumer.name} | absent: {why} |" + " |" * (len(fields) - 1) + "\n")
                continue
            found = verdicts(consumer, show(consumer, feeds, Path(tmp)), feeds)
            out.write(f"| {consumer.name} | " + " | ".join(cell(found, f) for f in fields) + " |\n")


if __name__ == "__main__":
    main()
