"""digest.stable_hash: one digest of a model value, the same in every process, blind to fields left empty."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from typing import ClassVar

import pytest

from support.factories import make_post
from support.paths import TESTS
from syndicator.digest import hashed_fields
from syndicator.digest import stable_hash
from syndicator.model import Image
from syndicator.problem import LoadProblem


@dataclass(frozen=True)
class Old:
    name: str
    when: datetime


@dataclass(frozen=True)
class Grown:
    """Old with fields added since, each with a default."""

    name: str
    when: datetime
    count: int = 0
    flag: bool = False
    note: str = ""
    parts: tuple[str, ...] = ()
    extra: Old | None = None


@dataclass(frozen=True)
class Private:
    shown: str
    hidden: str = ""
    _hash_exclude_: ClassVar[frozenset[str]] = frozenset({"hidden"})


WHEN = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def test_adding_a_field_with_a_default_changes_no_digest() -> None:
    """A value whose new fields are at their defaults has the digest it had before they were added."""
    assert stable_hash(Grown("a", WHEN)) == stable_hash(Old("a", WHEN))


@pytest.mark.parametrize(
    "changed",
    [
        {"name": "b"},
        {"when": datetime(2025, 6, 1, 10, 0, 1, tzinfo=UTC)},
        {"count": 1},
        {"flag": True},
        {"note": "x"},
        {"parts": ("x",)},
        {"extra": Old("a", WHEN)},
    ],
)
def test_every_field_counts(changed: dict[str, object]) -> None:
    """A change of any field, nested ones too, changes the digest: no field needs listing."""
    base = Grown("a", WHEN)
    assert stable_hash(replace(base, **changed)) != stable_hash(base)  # type: ignore[arg-type]


def test_excluded_fields_do_not_count() -> None:
    """The fields ``_hash_exclude_`` names are left out, and hashed_fields says which fields count."""
    assert stable_hash(Private("a", "x")) == stable_hash(Private("a", "y"))
    assert hashed_fields(Private("a")) == ("shown",)


def test_a_post_digest_counts_what_feeds_show_not_its_problems_or_file() -> None:
    """A post's digest moves with its image, not with the warnings its file had or where the file is."""
    post = make_post("p")
    warned = replace(post, warnings=(LoadProblem(post.path, 2, "near miss", fatal=False),))
    assert stable_hash(warned) == stable_hash(post) == post.digest
    assert stable_hash(replace(post, path="posts/2025/p.md", source="2025/p.md")) == stable_hash(post)
    assert stable_hash(replace(post, image=Image("https://example.org/a.png"))) != stable_hash(post)


def test_the_digest_is_the_same_in_another_process() -> None:
    """Digests are recorded (feeds.json) and compared by the next process: no per-process string hash in them."""
    code = (
        f"import sys; sys.path.insert(0, {str(TESTS)!r}); from support.factories import make_post;"
        "from syndicator.digest import stable_hash; print(stable_hash(make_post('p', categories=('A', 'B'))))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed}
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert digests == {stable_hash(make_post("p", categories=("A", "B")))}
