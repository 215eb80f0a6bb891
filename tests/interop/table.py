"""Print what every installed consumer shows of the corpus's feeds, field by field (a Markdown table).

Run from the repository: ``PYTHONPATH=src python tests/interop/table.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from consumers import CONSUMERS  # noqa: E402
from consumers import missing  # noqa: E402
from truth import ENTRY_FIELDS  # noqa: E402
from truth import FEED_FIELDS  # noqa: E402
from truth import build  # noqa: E402
from truth import show  # noqa: E402
from truth import verdicts  # noqa: E402


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
        print("| consumer | " + " | ".join(fields) + " |")
        print("|---" * (len(fields) + 1) + "|")
        for consumer in CONSUMERS:
            why = missing(consumer)
            if why:
                print(f"| {consumer.name} | " + " | ".join(["absent: " + why] + [""] * (len(fields) - 1)) + " |")
                continue
            found = verdicts(consumer, show(consumer, feeds, Path(tmp)), feeds)
            print(f"| {consumer.name} | " + " | ".join(cell(found, f) for f in fields) + " |")


if __name__ == "__main__":
    main()
