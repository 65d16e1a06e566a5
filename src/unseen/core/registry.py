"""A tiny explicit plugin registry: names are unique, stable keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    NAME: str


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    """Holds plugins by their ``NAME``; registering a name twice is an error.

    Example:
        >>> r: Registry[type] = Registry("analysers")
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, plugin: T) -> T:
        name = plugin.NAME
        if name in self._items:
            raise KeyError(f"{self.kind}: {name!r} is registered twice")
        self._items[name] = plugin
        return plugin

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"{self.kind}: no plugin named {name!r}") from None

    def names(self) -> list[str]:
        """Registered names, sorted: the same order in every process, whatever order
        the plugin modules happened to be imported in."""
        return sorted(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter([self._items[name] for name in self.names()])

    def __len__(self) -> int:
        return len(self._items)
