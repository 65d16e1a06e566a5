"""Shared reading of Windows registry hives through regipy.

A hive is copied whole to private scratch (regipy reads a path) and opened there.
Each section of a parser is read on its own (``section``): a corrupt key loses that
section, a recorded error, not the hive. Key last-write times are FILETIME. A hive
whose two sequence numbers differ was not cleanly written: its transaction logs (not
applied here) may hold newer data, which is recorded against the item.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any, cast

from unseen.core.errors import ExternalDependencyError
from unseen.internet import presence
from unseen.internet.base import ParseContext
from unseen.internet.records import Artefact, InstalledProgram, ToolPresence
from unseen.internet.sqlite import COPY_NAME
from unseen.internet.timestamps import stamp

# regipy's classes carry no annotations; they are handled as ``Any`` behind these names.
Hive = Any
Key = Any

EPOCH = "filetime"
UNINSTALL = r"Microsoft\Windows\CurrentVersion\Uninstall"


def hive_errors() -> tuple[type[BaseException], ...]:
    """What a damaged hive can raise from regipy and construct while a section is read."""
    from construct import ConstructError  # type: ignore[import-untyped]
    from regipy.exceptions import RegipyException

    return (
        RegipyException,
        ConstructError,
        ValueError,
        IndexError,
        KeyError,
        struct.error,
        UnicodeDecodeError,
        OSError,
    )


def open_hive(ctx: ParseContext, limit: int, hive_type: str) -> Hive:
    """The item opened as a hive of ``hive_type`` (``ntuser``, ``system``, ``software``)."""
    try:
        from regipy.registry import RegistryHive
    except ImportError as exc:  # regipy is a core dependency; an old install may lack it
        raise ExternalDependencyError("regipy is not installed: pip install regipy") from exc
    target = ctx.temp_dir() / (COPY_NAME + ".hive")
    ctx.copy_to(target, limit)
    hive: Hive = cast(Any, RegistryHive)(str(target), hive_type=hive_type)
    if hive.header.primary_sequence_num != hive.header.secondary_sequence_num:
        ctx.error(
            "hive is dirty (sequence numbers differ): newer data may sit in its transaction "
            "logs (.LOG1/.LOG2), which are not applied"
        )
    return hive


def key_at(hive: Hive, path: str) -> Key | None:
    """The key at ``path`` (``\\Software\\...``), None when the hive has no such key."""
    from regipy.exceptions import RegistryKeyNotFoundException

    try:
        return hive.get_key(path)
    except RegistryKeyNotFoundException:
        return None


def values_of(key: Key) -> dict[str, Any]:
    """A key's values by name, untrimmed (binary values whole)."""
    return {v.name: v.value for v in key.iter_values(trim_values=False)}


def filetime(value: object) -> int | None:
    """A FILETIME stored as an integer or as 8 little-endian bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, bytes) and len(value) >= 8:
        return int.from_bytes(value[:8], "little")
    return None


def section(
    ctx: ParseContext, name: str, read: Callable[[], Iterator[Artefact]]
) -> Iterator[Artefact]:
    """The records of one section; a hive error ends the section, recorded, not the item."""
    try:
        yield from read()
    except hive_errors() as exc:
        ctx.error(f"{name}: cannot read ({exc.__class__.__name__}: {exc}); section skipped")


def presence_keys(ctx: ParseContext, hive: Hive, hive_type: str) -> Iterator[Artefact]:
    """``tool.presence`` for each presence-rule key this hive holds."""
    for rule, path in presence.registry_rules(hive_type):
        key = key_at(hive, path)
        if key is not None:
            yield ToolPresence(
                ctx.prov(f"key {path}"),
                stamp(key.header.last_modified, EPOCH),
                tool=rule.tool,
                category=rule.category,
                paths=(f"{ctx.task.path}:{path}",),
                path_count=1,
                note="registry key present",
            )


def uninstall(ctx: ParseContext, hive: Hive, roots: tuple[str, ...]) -> Iterator[Artefact]:
    """``program.installed`` for each ``Uninstall`` subkey with a display name."""
    for root in roots:
        parent = key_at(hive, root)
        if parent is None:
            continue
        for sub in parent.iter_subkeys():
            values = values_of(sub)
            name = values.get("DisplayName")
            if not isinstance(name, str) or not name:
                continue
            path = f"{root}\\{sub.name}"
            yield InstalledProgram(
                ctx.prov(f"key {path}"),
                stamp(sub.header.last_modified, EPOCH),
                name=name,
                version=nonempty(values.get("DisplayVersion")),
                publisher=nonempty(values.get("Publisher")),
                install_date=nonempty(values.get("InstallDate")),
                install_location=nonempty(values.get("InstallLocation")),
                key_path=path,
            )


def nonempty(value: object) -> str | None:
    """A registry string value, None when absent, empty or not a string."""
    return value if isinstance(value, str) and value else None
