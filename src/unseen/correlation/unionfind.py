"""Union-find over item ids, for groupings built from pairwise links."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


class UnionFind:
    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, key: int) -> int:
        parent = self._parent
        parent.setdefault(key, key)
        root = key
        while parent[root] != root:
            root = parent[root]
        while parent[key] != root:  # path compression keeps later finds short
            parent[key], key = root, parent[key]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def groups(self, keys: Iterable[int] | None = None) -> list[list[int]]:
        """Connected groups (each sorted), singletons included, by smallest member."""
        found: dict[int, list[int]] = defaultdict(list)
        for key in list(self._parent) if keys is None else keys:
            found[self.find(key)].append(key)
        return sorted((sorted(g) for g in found.values()), key=lambda g: g[0])
