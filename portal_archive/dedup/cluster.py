"""Clusters as connected components of verified pairs (union-find).

A component only says that members are linked by a chain of copies; ``canonical.choose_canonical``
then checks every member against the chosen original itself. The index keeps clusters incrementally
(a ``cluster`` column holding the smallest member id); this module rebuilds them from the stored
pairs and serves the bench.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

__all__ = ["UnionFind", "connected_components"]

T = TypeVar("T", bound=Hashable)


class UnionFind(Generic[T]):
    """Disjoint sets with path halving and union by size."""

    def __init__(self) -> None:
        self._parent: dict[T, T] = {}
        self._size: dict[T, int] = {}

    def find(self, item: T) -> T:
        """The representative of ``item``'s set (``item`` joins as a singleton if unseen)."""
        parent = self._parent.setdefault(item, item)
        if parent == item:
            self._size.setdefault(item, 1)
            return item
        while parent != self._parent[parent]:
            grandparent = self._parent[self._parent[parent]]
            self._parent[parent] = grandparent
            parent = grandparent
        self._parent[item] = parent
        return parent

    def union(self, first: T, second: T) -> T:
        """Merge the sets of ``first`` and ``second``; return the new representative."""
        a, b = self.find(first), self.find(second)
        if a == b:
            return a
        if self._size[a] < self._size[b]:
            a, b = b, a
        self._parent[b] = a
        self._size[a] += self._size.pop(b)
        return a

    def groups(self) -> list[list[T]]:
        """Every set with more than one member."""
        members: defaultdict[T, list[T]] = defaultdict(list)
        for item in self._parent:
            members[self.find(item)].append(item)
        return [group for group in members.values() if len(group) > 1]


def connected_components(pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components of an undirected graph given by its edges, each sorted, largest first."""
    sets: UnionFind[int] = UnionFind()
    for first, second in pairs:
        sets.union(first, second)
    return sorted((sorted(group) for group in sets.groups()), key=lambda g: (-len(g), g[0]))
