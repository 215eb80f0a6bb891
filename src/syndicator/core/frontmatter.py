"""A post file's front matter: where it ends, its YAML read safely (line by line when it is wrong), its keys.

Pure text in, values out. No I/O.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

import yaml

from syndicator.model import LoadProblem

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_OPENING = re.compile(r"---[ \t]*\r?\n")
Found = tuple[str, dict[str, Any], list[tuple[str, int]], int]  # (front matter, fields, duplicate keys, body start)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML (with PyYAML's C loader when present) that leaves timestamps as text and notes duplicate keys.

    Dates are then parsed by ``_datetime``, so an impossible date is a problem on
    the line of its field rather than an exception inside PyYAML. A key given twice
    in one mapping keeps its last value, as YAML loaders do, and is reported.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []  # (key, line from 0 in the front matter)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    self.duplicates.append((str(key_node.value), key_node.start_mark.line))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _load_yaml(front: str) -> tuple[Any, list[tuple[str, int]]]:
    """The front matter's value and its duplicate keys (key, line from 0)."""
    loader = _Loader(front)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def split_front_matter(text: str, path: str) -> tuple[str, dict[str, Any], list[tuple[str, int]], int] | LoadProblem:
    """(front matter text, its fields, duplicate keys, offset of the body), or what is wrong with it."""
    if not text.strip():
        return LoadProblem(path, 1, "empty file")
    match = _FRONT_MATTER.match(text)
    if match is None:
        if _OPENING.match(text):
            return LoadProblem(path, 1, "the front matter opened on line 1 is never closed: end it with a '---' line")
        return LoadProblem(path, 1, "no front matter: the file must start with a '---' line and a YAML block")
    front = match.group(1) or ""
    try:
        meta, duplicates = _load_yaml(front)
    except yaml.YAMLError as exc:
        line, reason = _yaml_error(exc, front)
        return LoadProblem(path, line, f"invalid YAML front matter: {reason}")
    except RecursionError:
        return LoadProblem(path, 1, "invalid YAML front matter: nested too deeply")
    if not isinstance(meta, dict):
        return LoadProblem(path, 2, "front matter is not a mapping of fields")
    return front, meta, duplicates, match.end()


def _yaml_error(exc: yaml.YAMLError, front: str) -> tuple[int, str]:
    """The file line a YAML error is on, and what is wrong, said plainly.

    PyYAML's marks count from 0 inside the front matter, which starts on file
    line 2. A value left open (a quote, a bracket) is reported where it opens,
    not where the text ran out; YAML may point just past the block, so the
    line is kept inside it.
    """
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None) or ""
    mark = getattr(exc, "problem_mark", None)
    opened = getattr(exc, "context_mark", None)
    if opened is not None and context.startswith(("while scanning a quoted scalar", "while parsing a flow")):
        what = "quoted value" if "quoted" in context else "list or mapping in brackets"
        return opened.line + 2, f"the {what} that starts on this line is never closed ({problem})"
    last_line = front.count("\n") + 1
    return (min(mark.line + 2, last_line) if mark is not None else 1), problem


def unknown_keys(keys: Iterable[object], known: Sequence[str], where: str) -> list[str]:
    """A warning for each key that is not one of ``known``, with the likely key for a near miss."""
    messages = []
    for key in keys:
        if key in known:
            continue
        likely = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f" (did you mean {likely[0]!r}?)" if likely else f" (known: {', '.join(known)})"
        messages.append(f"unknown {where} {str(key)!r} is ignored{hint}")
    return messages


def dump_post(meta: dict[str, Any], body: str) -> str:
    """The text of a post file: YAML front matter (fields in the given order), then the body."""
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
    return f"---\n{front}---\n\n{body.strip()}\n"
