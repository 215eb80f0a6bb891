"""The Hypothesis strategies of the tests, in one place (attrs' tests/strategies.py is the model)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from hypothesis import strategies as st

# Text as a post's title or category name may hold it: any character but a lone surrogate.
printable = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)

# Any value JSON (so YAML's flow style) can hold, nested a little: what a front matter field may be given.
front_matter_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

# The fields an importer writes into a post file: known names, values of text (no U+0085, see test_frontmatter),
# numbers, booleans and lists or mappings of them.
_written_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85"), max_size=30)
_written_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | _written_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "url", "length"]), inner),
    max_leaves=8,
)
post_fields = st.dictionaries(
    st.sampled_from(["title", "date", "updated", "categories", "tags", "author", "slug", "id", "summary", "image"]),
    _written_values,
    min_size=1,
)


def catalog_edits() -> st.SearchStrategy[tuple[int, dict[str, object]]]:
    """(which of twelve posts, one edit of it): a new title, summary, updated date, category, date, draft or slug."""
    moves = st.sampled_from(
        [
            {"title": "Retitled"},
            {"summary_html": "<p>New.</p>"},
            {"updated": datetime(2025, 12, 1, tzinfo=UTC)},
            {"categories": ("Beta",)},
            {"date": datetime(2024, 1, 1, tzinfo=UTC)},
            {"draft": True},
            {"slug": "moved"},
        ]
    )
    return st.tuples(st.integers(0, 11), moves)


# Adversarial front matter: YAML's every kind of value and tag, anchors and aliases, numbers and dates that
# overflow, merge keys, control characters and broken syntax, in any field (the known ones and near misses).
_FIELD_NAMES = [
    *("title", "date", "updated", "categories", "tags", "author", "slug", "id", "draft", "summary"),
    *("image", "enclosures", "license", "visibility", "Draft", "visiblity", "Visibility", "drafts"),
]
_KEYS = st.sampled_from(_FIELD_NAMES) | st.sampled_from(
    ["<<", "? [a, b]", "? {a: 1}", "1", "null", "true", "&k key", "*k", "'quoted'", '"\\ud800"', "x" * 300]
)
_SCALARS = st.sampled_from(
    [
        *("", "~", "null", "yes", "No", "on", "true", "0", "-0", "0o17", "0x1F", "0b101", "1_000", "190:20:30"),
        *("9" * 5000, "0x" + "f" * 5000, "1" + ":59" * 2000, "1e999", "-.inf", ".nan", "1.5e-400", "12e"),
        *("2025-13-45", "0000-01-01", "9999-12-31T23:59:59-23:59", "2025-01-01T25:00", "2001-12-14t21:59:43.10-05:00"),
        *("!!binary AAAA", "!!binary !!!", "!!python/object:os.system x", "!!set {a, b}", "!!omap [a: 1, b: 2]"),
        *("!!pairs [a, b]", "!!timestamp nope", "!!int abc", "!!float x", "!!bool maybe", "!!null x", "!!str 1"),
        *("!!map [1]", "!!seq {a: 1}", "!!omap {a: 1}", "!custom x", "!<tag:x> y", "&a [1, 2]", "*a", "*undefined"),
        *("&b {<<: *a}", "{<<: [*a, *a]}", "&s [*s]", "&m {x: *m}"),
        *('"\\x00"', '"\\ud800"', '"\\U0010FFFF"', '"\\e\\a"', "\x1b[0m", "\u2028", "\ufeff", "\t", "|", ">"),
        *("javascript:alert(1)", "http://", "x.png", "../../etc/passwd", "/etc/passwd", "[a, [b, [c, [d]]]]"),
        *("{name: [1], email: {a: b}, uri: [x]}", "{src: {a: 1}}", "{url: 1, length: -5}", "{url: x, length: 1e9}"),
        *("partners", "Partners", "public", "'true'", '"yes"', "[]", "{}"),
        "[" * 300 + "]" * 300,
        "{a: " * 200 + "1" + "}" * 200,
    ]
)
_UNREADABLE = st.sampled_from(  # values YAML reads, but that no constructor can make a value of
    [
        *("9" * 5000, "-" + "1" * 4400, "0x" + "f" * 5000, "1" + ":59" * 2000, "!!int abc", "!!float x"),
        *(
            "!!bool maybe",
            "!!map [1]",
            "!!seq {a: 1}",
            "!!set [a]",
            "!!omap {a: 1}",
            "!!binary \u00e9",
            "!!python/name:x",
        ),
    ]
)
_BROKEN = st.sampled_from(["[", "]", "{", "'open", '"open', "- a", ": b", "- - -", "? x", "*undefined", "@x", "`x"])
_VALUES = st.recursive(
    st.one_of(_SCALARS, _SCALARS, _SCALARS, _UNREADABLE, st.text(max_size=20).map(repr), _BROKEN),
    lambda inner: (
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
        | st.lists(st.tuples(st.sampled_from([*_FIELD_NAMES, "<<", "a"]), inner), max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        )
    ),
    max_leaves=8,
)
_FIELD_LINES = st.tuples(_KEYS, _VALUES).map(lambda pair: f"{pair[0]}: {pair[1]}")
front_matter_lines = st.one_of(
    _FIELD_LINES,
    _FIELD_LINES,
    _FIELD_LINES,
    _FIELD_LINES,
    st.tuples(st.sampled_from([" ", "  ", "\t", "- "]), _FIELD_LINES).map("".join),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
)
