"""A post file's front matter: where it ends, its YAML read safely and within bounds, its keys, values as shown.

Read with python-frontmatter's handler interface (``PostHandler``, a
``YAMLHandler`` with this module's loader). Pure text in, values out. No I/O.
"""

from __future__ import annotations

import difflib
import re
import reprlib
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler
from yaml.constructor import ConstructorError
from yaml.constructor import SafeConstructor

from syndicator.core.conflicts import CONFLICT
from syndicator.core.conflicts import conflict_line
from syndicator.problem import LoadProblem

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_OPENING = re.compile(r"---[ \t]*\r?\n")
# Values aliases (``*name``) may add to the front matter as written: a post's fields are a few dozen, while
# nine nested lists of nine aliases stand for 387 million values in 490 bytes.
MAX_VALUES = 10_000
MAX_DIGITS = 4300  # a longer integer is no number a post means (and Python will not turn it into text)
_TOO_LONG = 10**MAX_DIGITS


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
        for key_node, _value in node.value if isinstance(node, yaml.MappingNode) else ():  # ``!!map [1]``: refused
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    self.duplicates.append((str(key_node.value), key_node.start_mark.line))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


def _integer(loader: SafeConstructor, node: yaml.ScalarNode) -> int:
    """A YAML integer, refused (on its line) when it has more than MAX_DIGITS digits or is no integer."""
    try:
        value = loader.construct_yaml_int(node)
    except ValueError:  # ``!!int abc``, or Python's own limit on turning long digit strings into integers
        digits = sum(c.isdigit() for c in str(node.value))
        if digits <= MAX_DIGITS:
            raise _unreadable(node, "an integer") from None
        value = _TOO_LONG
    if abs(value) >= _TOO_LONG:
        message = f"a number of more than {MAX_DIGITS} digits cannot be read (quote it to keep it as text)"
        raise ConstructorError(None, None, message, node.start_mark)
    return int(value)


def _float(loader: SafeConstructor, node: yaml.ScalarNode) -> float:
    try:
        return loader.construct_yaml_float(node)
    except ValueError:  # ``!!float x``
        raise _unreadable(node, "a number") from None


def _bool(loader: SafeConstructor, node: yaml.ScalarNode) -> bool:
    try:
        return loader.construct_yaml_bool(node)
    except KeyError:  # ``!!bool maybe``
        raise _unreadable(node, "true or false") from None


def _unreadable(node: yaml.Node, what: str) -> ConstructorError:
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    return ConstructorError(None, None, f"{shown(node.value)} is tagged {tag} but is not {what}", node.start_mark)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_Loader.add_constructor("tag:yaml.org,2002:int", _integer)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)
_Loader.add_constructor("tag:yaml.org,2002:bool", _bool)


class _TooLarge(Exception):
    """Aliases add more than MAX_VALUES values to the front matter as written; ``line`` (from 0) is where."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """A post file's front matter: its text, its fields, where each field and the body start.

    ``lines``: the line (from 0 in the front matter) of each top-level key; ``duplicates``: (key, line) of
    each key given twice in one mapping; ``body_start``: the offset of the body in the file's text.
    """

    text: str
    fields: dict[str, Any]
    duplicates: tuple[tuple[str, int], ...]
    lines: dict[str, int]
    body_start: int

    def line_of(self, field: str) -> int:
        """The file line a top-level field is on (the front matter starts on line 2); 1 when it is not there."""
        line = self.lines.get(field)
        return line + 2 if line is not None else 1


class Fields(dict[str, Any]):
    """A front matter's fields, with the line (from 0) of each top-level key and the keys given twice (key, line)."""

    __slots__ = ("duplicates", "lines")

    def __init__(self, fields: dict[str, Any], duplicates: list[tuple[str, int]], lines: dict[str, int]) -> None:
        super().__init__(fields)
        self.duplicates = duplicates
        self.lines = lines


class _NotFields(Exception):
    """The front matter is no mapping of fields (empty, a list, a single value)."""


def _load_yaml(front: str) -> Fields:
    """The front matter's fields, with their lines and duplicate keys; _NotFields when it is no mapping.

    The node graph is composed first and measured before any value is built
    from it: _TooLarge when its aliases expand it past MAX_VALUES.
    """
    loader = _Loader(front)
    try:
        node = loader.get_single_node()
        if not isinstance(node, yaml.MappingNode):
            raise _NotFields
        if "&" in front and "*" in front:  # no alias without an anchor: most front matter is not walked again
            _check_size(node, len(front))
        lines: dict[str, int] = {}
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                lines[str(key_node.value)] = key_node.start_mark.line  # a key given twice: its last value counts
        fields = loader.construct_document(node)
        if not isinstance(fields, dict):  # a mapping node tagged as something else (``!!set``, ``!!omap``)
            raise _NotFields
        return Fields(fields, loader.duplicates, lines)
    finally:
        loader.dispose()


def _check_size(root: yaml.Node, length: int) -> None:
    """Raise _TooLarge when aliases make the front matter (``length`` characters) hold MAX_VALUES more values
    than are written, on the line of the first top-level field past that bound.

    Without aliases every node is one written value; each alias adds the values of the node it repeats.
    """
    # At most two nodes a character (``a:`` is a key and an empty value): sizes stay small numbers.
    sizes = _expanded_sizes(root, MAX_VALUES + 2 * length + 2)
    bound = MAX_VALUES + len(sizes)
    if not isinstance(root, yaml.MappingNode):
        if sizes[id(root)] > bound:
            raise _TooLarge(root.start_mark.line)
        return
    total = 1
    for key_node, value_node in root.value:
        total += sizes[id(key_node)] + sizes[id(value_node)]
        if total > bound:
            raise _TooLarge(key_node.start_mark.line)


def _expanded_sizes(root: yaml.Node, cap: int) -> dict[int, int]:
    """How many values each node of a YAML graph stands for with its aliases expanded (at most ``cap``).

    One pass over the graph however often aliases repeat a node (each node is
    measured once); a node that contains itself is _TooLarge.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, measured = stack.pop()
        children = _children(node)
        if measured:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in children), cap)
        elif id(node) in open_nodes:
            raise _TooLarge(node.start_mark.line)
        elif id(node) not in sizes:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class PostHandler(YAMLHandler):
    """python-frontmatter's YAML handler, reading a post file as the SPEC says.

    The front matter opens with a ``---`` first line and closes at the next
    ``---`` line; ``load`` reads it with this module's loader (safe YAML with
    the C loader, dates left as text, duplicate keys noted, each top-level key's
    line, aliases bounded) instead of PyYAML's plain safe loader, so every
    problem keeps its line. ``frontmatter.parse`` itself is not used: it strips
    the text, and the body's lines must stay where the file has them.
    """

    FM_BOUNDARY = _FRONT_MATTER

    def detect(self, text: str) -> bool:
        return _OPENING.match(text) is not None

    def split(self, text: str) -> tuple[str, str]:
        """(front matter, body); ValueError when the front matter is never closed."""
        match = _FRONT_MATTER.match(text)
        if match is None:
            raise ValueError("the front matter is never closed")
        return match.group(1) or "", text[match.end() :]

    def load(self, fm: str, **kwargs: object) -> Fields:
        """The front matter's fields, with their lines and duplicate keys (``_load_yaml``)."""
        return _load_yaml(fm)


HANDLER = PostHandler()  # stateless: how every post file is read


def split_front_matter(text: str, path: str) -> FrontMatter | LoadProblem:
    """A post file's front matter, or what is wrong with it (on its line)."""
    if not text.strip():
        return LoadProblem(path, 1, "empty file")
    if not HANDLER.detect(text):
        return LoadProblem(path, 1, "no front matter: the file must start with a '---' line and a YAML block")
    conflict = conflict_line(text)
    if conflict is not None:
        return LoadProblem(path, conflict, CONFLICT)
    try:
        front, body = HANDLER.split(text)
    except ValueError:
        return LoadProblem(path, 1, "the front matter opened on line 1 is never closed: end it with a '---' line")
    try:
        fields = HANDLER.load(front)
    except yaml.YAMLError as exc:
        line, reason = _yaml_error(exc, front)
        return LoadProblem(path, line, f"invalid YAML front matter: {reason}")
    except RecursionError:
        return LoadProblem(path, 1, "invalid YAML front matter: nested too deeply")
    except _TooLarge as exc:
        message = f"aliases (*name) expand the front matter by more than {MAX_VALUES:,} values: not read"
        return LoadProblem(path, exc.line + 2, message)
    except _NotFields:
        return LoadProblem(path, 2, "front matter is not a mapping of fields")
    return FrontMatter(front, fields, tuple(fields.duplicates), fields.lines, len(text) - len(body))


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


def shown(value: object) -> str:
    """A value as a message shows it: its repr, cut short (so a value that aliases expand is never walked whole)."""
    cut = reprlib.Repr()
    cut.maxstring = cut.maxother = 80
    cut.maxlist = cut.maxtuple = cut.maxdict = cut.maxset = cut.maxfrozenset = 5
    cut.maxlevel, cut.maxlong = 3, 40
    return cut.repr(value)


def kind_of(value: object) -> str:
    """What a YAML value is, in the words of its front matter (``title: null`` is "null", not "NoneType")."""
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (yes or no)"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value)"
    return "a value of another kind"


def unknown_keys(keys: Iterable[object], known: Sequence[str], where: str) -> list[str]:
    """A warning for each key that is not one of ``known``, with the likely key for a near miss."""
    messages = []
    for key in keys:
        if key in known:
            continue
        name = shown(key)[:200] if not isinstance(key, str) else key[:200]
        likely = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {likely[0]!r}?)" if likely else f" (known: {', '.join(known)})"
        messages.append(f"unknown {where} {shown(name)} is ignored{hint}")
    return messages


def dump_post(meta: dict[str, Any], body: str) -> str:
    """The text of a post file: YAML front matter (fields in the given order), then the body."""
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
    return f"---\n{front}---\n\n{body.strip()}\n"
