"""Hooks: how a plugin's facts reach the user (the export, the review grid, the item
page and the summary report), with pluggy as datasette uses it.

A fact a job stores in its own table is invisible until something shows it. A plugin
shows it by implementing these hooks; the exporters, the grid, the item page and the
summary report call them and never name the fact themselves.

How a plugin registers (built-in and third-party alike):

- A plugin is a **module**. Its hook implementations are module-level functions named
  as the hooks below and decorated with ``@hookimpl`` (``from unseen.core.hooks import
  hookimpl``); importing the module also registers its jobs, sources or analysers in
  their registries, as before.
- ``unseen.plugins.load()`` imports every built-in module (``BUILTIN_MODULES``), then
  every module named by an entry point of the group ``unseen.plugins``, and registers
  each with the one plugin manager, ``manager`` (a module without hook
  implementations adds none). The entry point names the module::

      [project.entry-points."unseen.plugins"]
      mine = "unseen_mine"

- Each hook returns a list (or None for nothing); the callers take the lists of all
  plugins in registration order: built-ins first, then entry points.

Hooks return declarations rather than values so that the callers stay in charge of
batching and order: an export field says its key, its default and where it goes,
and is asked for a whole page of items at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy
from markupsafe import Markup

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Connection

PROJECT = "unseen"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True, slots=True)
class ExportField:
    """One key every export record gets.

    ``values(conn, item_ids)`` returns ``{item_id: value}`` for a page of items (ids
    ascending); an item it leaves out gets ``default``. The key goes right after the
    key ``after`` (one of the record's or another plugin's), else at the end; keys
    are an interface, so a field's name and place never change once released.
    """

    name: str
    values: Callable[[Connection, Sequence[int]], Mapping[int, Any]]
    default: Any = None
    after: str | None = None


@dataclass(frozen=True, slots=True)
class FactFilter:
    """A filter of the review grid, on its query parameter ``name``.

    ``where(value)`` is the condition on ``schema.items`` for the items shown. A
    yes/no filter (``text`` false) is called with ``"yes"`` and the grid negates it
    for "no"; a text filter is called with what the reviewer typed (at most 128
    characters, never empty). It combines with every other filter and bulk actions
    apply to what it shows, as with the built-in filters.
    """

    name: str
    label: str
    where: Callable[[str], ColumnElement[bool]]
    text: bool = False


@dataclass(frozen=True, slots=True)
class Panel:
    """A titled block of HTML. ``html`` is ``Markup``: the plugin escapes what it
    shows (``markupsafe.escape`` or ``Markup.format``), since evidence is hostile."""

    title: str
    html: Markup


class Specs:
    """The hooks (pluggy reads these signatures; implementations leave out ``self``
    and may take fewer arguments)."""

    @hookspec
    def export_fields(self) -> Sequence[ExportField] | None:
        """Keys added to every item record of every items export (JSON Lines, CSV)."""

    @hookspec
    def grid_filters(self) -> Sequence[FactFilter] | None:
        """Filters added to the review grid's filter list."""

    @hookspec
    def item_panels(self, conn: Connection, item_id: int) -> Sequence[Panel] | None:
        """Blocks shown on the item page of ``item_id`` (read on the item page's own
        connection, so they are seen, and audited, as the rest of the page)."""

    @hookspec
    def report_sections(self, conn: Connection) -> Sequence[Panel] | None:
        """Sections added at the end of the summary report."""


manager = pluggy.PluginManager(PROJECT)
manager.add_hookspecs(Specs)

T = TypeVar("T")


def collect(results: Iterable[Sequence[T] | None]) -> list[T]:
    """One list from every plugin's list, in registration order.

    pluggy calls the most recently registered implementation first; built-ins are
    registered first and should come first, so the order is turned round."""
    return [x for found in reversed(list(results)) if found for x in found]


def unique(found: list[T], name: Callable[[T], str], what: str) -> list[T]:
    """``found``, refused when two plugins use one name (one would hide the other)."""
    names = [name(x) for x in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{what} {twice[0]!r} is added by more than one plugin")
    return found
