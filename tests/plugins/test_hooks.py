"""The hook machinery itself: order of plugins, placing export keys, refusing a
plugin that would hide another's key or filter."""

from __future__ import annotations

from collections.abc import Iterator

import pluggy
import pytest

from unseen import plugins
from unseen.core import hooks
from unseen.core.hooks import ExportField, FactFilter, hookimpl
from unseen.reports.records import placed
from unseen.review.grid import GridFilter, fact_filters
from unseen.store import schema as s


def _field(name: str, after: str | None = None) -> ExportField:
    return ExportField(name, lambda conn, ids: {}, after=after)


def test_keys_go_after_their_anchor_or_at_the_end() -> None:
    record = {"path": "a", "mime": "image/png", "place": None}
    extra = [
        (_field("tail"), 1),
        (_field("flag", after="mime"), True),
        (_field("flag_reason", after="flag"), "renamed"),  # after another plugin's key
        (_field("lost", after="no such key"), 2),
    ]
    assert list(placed(record, extra).items()) == [
        ("path", "a"), ("mime", "image/png"), ("flag", True), ("flag_reason", "renamed"),
        ("place", None), ("tail", 1), ("lost", 2),
    ]  # fmt: skip


def test_keys_placed_after_each_other_in_a_circle_are_kept() -> None:
    extra = [(_field("a", after="b"), 1), (_field("b", after="a"), 2)]
    assert placed({"path": "p"}, extra) == {"path": "p", "a": 1, "b": 2}


def test_no_plugin_keys_leave_the_record_as_it_is() -> None:
    record = {"path": "a"}
    assert placed(record, []) is record


def test_a_plugin_cannot_replace_a_key_of_the_record() -> None:
    with pytest.raises(ValueError, match="export key 'mime' is the record's own"):
        placed({"mime": "image/png"}, [(_field("mime"), "text/plain")])


def test_plugins_answer_in_registration_order() -> None:
    manager = pluggy.PluginManager(hooks.PROJECT)
    manager.add_hookspecs(hooks.Specs)

    class First:
        @hookimpl
        def export_fields(self) -> list[ExportField]:
            return [_field("first")]

    class Second:
        @hookimpl
        def export_fields(self) -> list[ExportField] | None:
            return None  # nothing to add

    class Third:
        @hookimpl
        def export_fields(self) -> list[ExportField]:
            return [_field("third"), _field("fourth")]

    for plugin in (First(), Second(), Third()):
        manager.register(plugin)
    found = hooks.collect(manager.hook.export_fields())
    assert [f.name for f in found] == ["first", "third", "fourth"]


class _Shadowing:
    """A plugin whose key and filter are taken already."""

    @hookimpl
    def export_fields(self) -> list[ExportField]:
        return [_field("extension_mismatch")]

    @hookimpl
    def grid_filters(self) -> list[FactFilter]:
        return [FactFilter("carved", "carved again", lambda value: s.items.c.carved.is_(True))]


@pytest.fixture
def shadowing() -> Iterator[None]:
    plugins.load()
    plugin = _Shadowing()
    hooks.manager.register(plugin)
    try:
        yield
    finally:
        hooks.manager.unregister(plugin)


def test_the_built_ins_register_through_the_same_hooks() -> None:
    (field,) = [f for f in plugins.export_fields() if f.name == "extension_mismatch"]
    assert field.after == "mime"
    assert [f.name for f in fact_filters()][:1] == ["mismatch"]
    assert GridFilter.from_params({"mismatch": "yes", "carved": "no"}).params() == {
        "carved": "no", "mismatch": "yes",
    }  # fmt: skip
    assert GridFilter.from_params({"mismatch": "maybe"}).facts == ()


@pytest.mark.usefixtures("shadowing")
def test_a_key_or_filter_added_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="export key 'extension_mismatch' is added by more"):
        plugins.export_fields()
    with pytest.raises(ValueError, match="grid filter 'carved' is one of the grid's own"):
        fact_filters()
