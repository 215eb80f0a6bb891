"""Frozen dataclasses pickled as the tuple of their fields, restored without ``__init__``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from typing import TypeVar

T = TypeVar("T")


def restored(cls: type[T], values: tuple[object, ...]) -> T:
    """A frozen dataclass instance with its fields set as they were pickled (``by_fields``): not made again
    through ``__init__``, whose checks it passed when it was made (and which fields left out of it keep)."""
    instance = object.__new__(cls)
    for name, value in zip(_PICKLED[cls], values, strict=True):
        object.__setattr__(instance, name, value)
    return instance


def by_fields(cls: type[T]) -> type[T]:
    """Pickle a frozen dataclass as a tuple of its fields, restored by ``restored``.

    The post cache holds tens of thousands of them: dataclasses' own pickling
    lists a class's fields again for each one, which costs a fifth of reading the
    cache back.
    """
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    _PICKLED[cls] = names
    values = attrgetter(*names)

    def reduce(self: T) -> tuple[Callable[..., T], tuple[type[T], tuple[object, ...]]]:
        return restored, (cls, values(self))

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]
    return cls


_PICKLED: dict[type, tuple[str, ...]] = {}
