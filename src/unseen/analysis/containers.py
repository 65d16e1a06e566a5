"""Expand containers found in the evidence: archives, disk images, E01 files.

For an item whose content a container reader recognises, its members become new
items of the case (``FileRecord.children``) with nested locators and display paths
(``a.zip!photos/x.jpg``), processed in the same run. Expansion stops at the nesting
limit; zip-bomb, member-count and size limits apply as the members are listed; every
problem is recorded against the container or the member. Nothing is written to disk
under a member's name.
"""

from __future__ import annotations

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext
from unseen.core.errors import EvidenceError, WrongFormat
from unseen.core.locator import Locator
from unseen.sources.base import open_source
from unseen.sources.containers import Limits, find_reader, listed, located, nested_path
from unseen.sources.media import NOT_EXAMINED, not_examined
from unseen.sources.streams import random_access

# Names examiners expect to be opened: disk images, virtual disks, archives. An item so
# named that no reader opens is recorded as not examined. Not ".raw": camera raw
# pictures carry it too.
CONTAINER_SUFFIXES = (
    ".e01", ".ex01", ".l01", ".s01", ".aff", ".aff4", ".dd", ".img", ".001",
    ".iso", ".dmg", ".sparseimage", ".sparsebundle", ".vmdk", ".vhd", ".vhdx", ".vdi",
    ".qcow", ".qcow2", ".hdd", ".hds", ".zip", ".7z", ".rar", ".tar", ".tgz", ".tar.gz",
    ".tar.bz2", ".tar.xz", ".cab", ".arj", ".lzh", ".zipx",
)  # fmt: skip


def container_suffix(path: str) -> str | None:
    """The container-like name ending of a display path, if it has one."""
    name = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1].lower()
    found = [sfx for sfx in CONTAINER_SUFFIXES if name.endswith(sfx) and len(name) > len(sfx)]
    return max(found, key=len) if found else None


class ContainerAnalyser(FileAnalyser):
    NAME = "containers"
    VERSION = "1"
    DESCRIPTION = "lists the members of archives, disk images and E01 files as new items"
    DEPENDS_ON = ("hashes",)

    def applies_to(self, ctx: ItemContext) -> bool:
        return (
            find_reader(ctx.head, ctx.record.mime) is not None
            or container_suffix(ctx.task.path) is not None
        )

    def analyse(self, ctx: ItemContext) -> None:
        reader_cls = find_reader(ctx.head, ctx.record.mime)
        suffix = container_suffix(ctx.task.path)
        if reader_cls is None:
            # Named like a disk image or archive, read as none: say so, never stay silent.
            raise not_examined(f"named {suffix} but its content is no format unseen reads")
        limits = Limits.from_settings(ctx.settings)
        container = Locator.parse(ctx.task.locator)
        if container.depth >= limits.max_depth:
            raise not_examined(
                f"containers nested {limits.max_depth} deep (limit max_container_depth): "
                "members not listed"
            )
        try:
            beside = open_source(ctx.task.source).siblings(ctx.task.locator)
            keys = dict(ctx.task.source.keys)  # encrypted volumes inside are opened too
            reader = reader_cls.open_with(random_access(ctx.stream), beside, keys)
        except WrongFormat:
            if suffix is None:
                return  # looked like a container, is not one, nor named like one
            raise not_examined(
                f"named {suffix} but its content is no format unseen reads"
            ) from None
        except EvidenceError as exc:  # damaged, encrypted, parts missing: nothing listed
            message = str(exc)
            if message.startswith(f"{NOT_EXAMINED}:"):
                raise
            raise not_examined(message) from exc
        task = ctx.task
        children = ctx.record.children
        try:
            for entry in listed(reader, limits):
                shown = nested_path(task.path, entry.path)
                children.append(located(entry, reader.NAME, container, shown))
        finally:
            for problem in reader.errors:
                ctx.record.error(self.NAME, problem)


ANALYSERS.register(ContainerAnalyser)
