"""LVM2 physical volumes: their logical volumes, through libvslvm (dfvfs's reader).

A volume that holds no file system TSK reads and starts with an LVM2 label is opened
here; each logical volume of its volume group is then read as a disk of its own
(``sources.tsk``), its files shown under ``<logical volume>/`` and its name recorded
as their ``volume``. Only logical volumes wholly on this physical volume can be read:
a volume group spread over several disks is opened with the one given, and what lies
on the others reads as missing (recorded).

Member addresses: ``m<offset>:<k>/<address>`` is the member ``address`` of the k-th
logical volume (0-based, volume-group order) of the physical volume at ``offset``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, BinaryIO

from unseen.sources.media import MediaStream, libyal, libyal_cause, not_examined

ADDRESS = re.compile(rb"m(\d+):(\d+)/(.+)", re.DOTALL)
_NAME = re.compile(r"[A-Za-z0-9+_.-]{1,128}")


def sniff_lvm(head: bytes) -> bool:
    """An LVM2 label in one of the first four sectors, as lvm2 looks for it."""
    return any(
        head[at : at + 8] == b"LABELONE" and head[at + 24 : at + 32] == b"LVM2 001"
        for at in range(0, min(len(head), 2048), 512)
    )


@dataclass(frozen=True, slots=True)
class LogicalVolume:
    """One logical volume: its shown name and its bytes (``None`` if not readable)."""

    name: str
    media: MediaStream | None
    problem: str | None = None


def logical_volumes(stream: BinaryIO) -> tuple[str, list[LogicalVolume]]:
    """The volume group's name and its logical volumes, in metadata order.

    Raises:
        EvidenceError: the label or metadata is damaged (not examined).
    """
    handle = libyal("pyvslvm").handle()
    try:
        handle.open_file_object(stream)
        handle.open_physical_volume_files_as_file_objects([stream])
        group = handle.get_volume_group()
        found = [_one(group, k) for k in range(int(group.number_of_logical_volumes))]
        return _shown(group.name, "vg"), found
    except OSError as exc:
        raise not_examined(f"LVM2 metadata damaged ({libyal_cause(exc)})") from None


def _one(group: Any, k: int) -> LogicalVolume:
    try:
        lv = group.get_logical_volume(k)
        name = _shown(lv.name, f"lv{k + 1}")
        return LogicalVolume(name, MediaStream(lv, int(lv.size)))
    except OSError as exc:
        problem = f"not examined: LVM2 logical volume {k + 1} not readable ({libyal_cause(exc)})"
        return LogicalVolume(f"lv{k + 1}", None, problem)


def _shown(name: Any, fallback: str) -> str:
    """A name from the metadata as a folder: LVM's own character set, else a stand-in
    (the metadata is evidence and may hold anything)."""
    text = name if isinstance(name, str) else ""
    return text if _NAME.fullmatch(text) and text not in (".", "..") else fallback
