"""Facts derived from an immutable tuple, remembered per tuple object.

The grouping stage's book is frozen: a step keeps what it did not touch as the very same
tuples, and a part it rebuilt is a new tuple. What a step derives from a long tuple (the cases
of an incident's members, the orders of a route) is therefore the same for as long as that
tuple object lives, and deriving it again at every input was most of what the stage spent on
a busy route (issue #17). The reference kept with each fact keeps the tuple alive, so its id
cannot be reused by another tuple while the fact is remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

Fact = TypeVar("Fact")


class PerTuple(Generic[Fact]):
    """`derive(items)`, remembered for the last `kept` tuples asked about."""

    def __init__(self, derive: Callable[[tuple[Any, ...]], Fact], *, kept: int) -> None:
        self._derive = derive
        self._kept = kept
        self._known: dict[int, tuple[tuple[Any, ...], Fact]] = {}

    def __call__(self, items: tuple[Any, ...]) -> Fact:
        known = self._known.get(id(items))
        if known is not None and known[0] is items:
            return known[1]
        fact = self._derive(items)
        self.remember(items, fact)
        return fact

    def remember(self, items: tuple[Any, ...], fact: Fact) -> None:
        """Record a fact the caller derived more cheaply than `derive` would (from the tuple
        it built `items` from); it must equal `derive(items)`."""
        if id(items) not in self._known and len(self._known) >= self._kept:
            del self._known[next(iter(self._known))]  # the oldest goes
        self._known[id(items)] = (items, fact)
