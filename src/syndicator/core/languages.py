"""What a language tag (BCP 47, the site's ``language``) says of how its text is laid out.

No I/O.
"""

from __future__ import annotations

# Languages written right to left in their usual script (a tag naming another script, ``ku-Latn``, says so).
_RIGHT_TO_LEFT = frozenset(
    {"ar", "arc", "azb", "ckb", "dv", "fa", "he", "iw", "ks", "ps", "sd", "syr", "ug", "ur", "yi"}
)
_RIGHT_TO_LEFT_SCRIPTS = frozenset({"arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg", "samr", "mand"})


def direction(language: str) -> str:
    """``rtl`` for a language tag whose text runs right to left (``ar``, ``he-IL``, ``pa-Arab``), else ``ltr``."""
    primary, *subtags = language.lower().replace("_", "-").split("-")
    scripts = [tag for tag in subtags if len(tag) == 4 and tag.isalpha()]
    if scripts:
        return "rtl" if scripts[0] in _RIGHT_TO_LEFT_SCRIPTS else "ltr"
    return "rtl" if primary in _RIGHT_TO_LEFT else "ltr"
