"""A tiny explicit plugin registry: names are unique, stable keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar


class Named(Protocol):
    NAME: str


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    """Holds plugins by their ``NAME``; registering a name twice is an error.

    Example:
        >>> r: Registry[type] = Registry("analysers")
    """

    def __init__(self, kind: str, also: Registry[Any] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        # A wider registry every plugin of this one also belongs to (a family of jobs
        # in the registry of all jobs), so its names are unique across families.
        self.also = also

    def register(self, plugin: T) -> T:
        name = plugin.NAME
        if name in self._items:
            raise KeyError(f"{self.kind}: {name!r} is registered twice")
        if self.also is not None:
            self.also.register(plugin)
        self._items[name] = plugin
        return plugin

    def unregister(self, name: str) -> None:
        """Remove a plugin (tests register their own for a while)."""
        self._items.pop(name)
        if self.also is not None:
            self.also.unregister(name)

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
