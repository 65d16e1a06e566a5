"""Expand containers found in the evidence: archives, disk images, E01 files.

For an item whose content a container reader recognises, its members become new
items of the case (``FileRecord.children``) with nested locators and display paths
(``a.zip!photos/x.jpg``), processed in the same run. Expansion stops at the nesting
limit; zip-bomb, member-count and size limits apply as the members are listed; every
problem is recorded against the container or the member. Nothing is written to disk
under a member's name.
"""

from __future__ import annotations

from dataclasses import replace

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext
from unseen.core.errors import EvidenceError, WrongFormat
from unseen.sources.containers import (
    Limits,
    depth,
    find_reader,
    listed,
    nest,
    nested_path,
)
from unseen.sources.streams import random_access


class ContainerAnalyser(FileAnalyser):
    NAME = "containers"
    VERSION = "1"
    DESCRIPTION = "lists the members of archives, disk images and E01 files as new items"
    DEPENDS_ON = ("hashes",)

    def applies_to(self, ctx: ItemContext) -> bool:
        return find_reader(ctx.head, ctx.record.mime) is not None

    def analyse(self, ctx: ItemContext) -> None:
        reader_cls = find_reader(ctx.head, ctx.record.mime)
        assert reader_cls is not None
        limits = Limits.from_settings(ctx.settings)
        if depth(ctx.task.locator) >= limits.max_depth:
            raise EvidenceError(
                f"containers nested {limits.max_depth} deep (limit max_container_depth): "
                "members not listed"
            )
        try:
            reader = reader_cls(random_access(ctx.stream))
        except WrongFormat:
            return  # looked like a container, is not one: nothing to list
        task = ctx.task
        children = ctx.record.children
        try:
            for entry in listed(reader, limits):
                children.append(
                    replace(
                        entry,
                        path=nested_path(task.path, entry.path),
                        locator=nest(task.locator, reader.NAME, entry.locator),
                    )
                )
        finally:
            for problem in reader.errors:
                ctx.record.error(self.NAME, problem)


ANALYSERS.register(ContainerAnalyser)
