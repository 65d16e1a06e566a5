"""``NTUSER.DAT``: TypedURLs, UserAssist (ROT13 program names, run counts, last run),
RecentDocs, per-user installed programs and keys that show a tool was installed."""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator

from unseen.internet import presence
from unseen.internet.base import ARTEFACT_PARSERS, ArtefactParser, ParseContext
from unseen.internet.parsers.hive import (
    EPOCH,
    UNINSTALL,
    Hive,
    Key,
    filetime,
    key_at,
    open_hive,
    presence_keys,
    section,
    uninstall,
    values_of,
)
from unseen.internet.records import Artefact, RecentDoc, ToolUsage, TypedUrl, UserAssistEntry
from unseen.internet.timestamps import stamp, utc_of

EXPLORER = r"\Software\Microsoft\Windows\CurrentVersion\Explorer"
START_MENU = "Microsoft\\Windows\\Start Menu\\Programs"
# Known-folder GUIDs that UserAssist uses in place of a folder (KNOWNFOLDERID).
KNOWN_FOLDERS = {
    "{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}": "%SYSTEM32%",
    "{6D809377-6AF0-444B-8957-A3773F02200E}": "%PROGRAMFILES%",
    "{7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E}": "%PROGRAMFILES(X86)%",
    "{F38BF404-1D43-42F2-9305-67DE0B28FC23}": "%WINDIR%",
    "{0139D44E-6AFE-49F2-8690-3DAFCAE6FFB8}": f"%PROGRAMDATA%\\{START_MENU}",
    "{A77F5D77-2E2B-44C3-A6A2-ABA601054A51}": f"%APPDATA%\\{START_MENU}",
    "{9E3995AB-1F9C-4F13-B827-48B24B6C7174}": (
        "%APPDATA%\\Microsoft\\Internet Explorer\\Quick Launch\\User Pinned"
    ),
    "{D65231B0-B2F1-4857-A4CE-A8E7C6EA7D27}": "%WINDIR%\\SysWOW64",
}


class NtuserParser(ArtefactParser):
    NAME = "registry_ntuser"
    VERSION = "1"
    DESCRIPTION = "NTUSER.DAT: TypedURLs, UserAssist, RecentDocs, installed programs, tool keys"
    PATH_GLOBS = ("**/NTUSER.DAT",)
    PRODUCES = (
        "registry.typed_url",
        "registry.userassist",
        "registry.recent_doc",
        "program.installed",
        "tool.usage",
        "tool.presence",
    )
    MAX_BYTES = 512 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        hive = open_hive(ctx, self.MAX_BYTES, "ntuser")
        yield from section(ctx, "TypedURLs", lambda: self._typed_urls(ctx, hive))
        yield from section(ctx, "UserAssist", lambda: self._user_assist(ctx, hive))
        yield from section(ctx, "RecentDocs", lambda: self._recent_docs(ctx, hive))
        yield from section(
            ctx, "Uninstall", lambda: uninstall(ctx, hive, (f"\\Software\\{UNINSTALL}",))
        )
        yield from section(ctx, "tool keys", lambda: presence_keys(ctx, hive, "ntuser"))

    def _typed_urls(self, ctx: ParseContext, hive: Hive) -> Iterator[Artefact]:
        path = r"\Software\Microsoft\Internet Explorer\TypedURLs"
        key = key_at(hive, path)
        if key is None:
            return
        times_key = key_at(hive, r"\Software\Microsoft\Internet Explorer\TypedURLsTime")
        times = values_of(times_key) if times_key is not None else {}
        last_write = utc_of(key.header.last_modified, EPOCH)
        for name, url in values_of(key).items():
            if isinstance(url, str) and url:
                yield TypedUrl(
                    ctx.prov(f"key {path} value {name}"),
                    stamp(filetime(times.get(name)), EPOCH),
                    url=url,
                    value_name=name,
                    key_last_write_utc=last_write,
                )

    def _user_assist(self, ctx: ParseContext, hive: Hive) -> Iterator[Artefact]:
        root = key_at(hive, f"{EXPLORER}\\UserAssist")
        if root is None:
            return
        for guid_key in root.iter_subkeys():
            count = guid_key.get_subkey("Count", raise_on_missing=False)
            if count is None:
                continue
            path = f"{EXPLORER}\\UserAssist\\{guid_key.name}\\Count"
            for value in count.iter_values(trim_values=False):
                yield from self._assist_entry(ctx, path, guid_key.name, value.name, value.value)

    def _assist_entry(
        self, ctx: ParseContext, path: str, guid: str, name: str, data: object
    ) -> Iterator[Artefact]:
        program = codecs.decode(name, "rot13")
        if program.startswith("UEME_") or not isinstance(data, bytes):
            return  # session and counter bookkeeping values, not programs
        for folder_guid, folder in KNOWN_FOLDERS.items():
            program = program.replace(folder_guid, folder)
        if len(data) >= 72:  # Windows 7 and later
            _, runs, focus, focus_ms = struct.unpack_from("<4I", data)
            when = struct.unpack_from("<Q", data, 60)[0]
        elif len(data) == 16:  # Windows XP: run count starts at 5
            _, runs, when = struct.unpack("<IIQ", data)
            runs, focus, focus_ms = max(runs - 5, 0), None, None
        else:
            ctx.error(f"{path} value {name}: unexpected {len(data)}-byte data")
            return
        ref = ctx.prov(f"key {path} value {name}")
        ts = stamp(when, EPOCH)
        yield UserAssistEntry(
            ref,
            ts,
            program=program,
            run_count=runs,
            focus_count=focus,
            focus_time_ms=focus_ms,
            guid=guid,
        )
        rule = presence.tool_for_executable(program)
        if rule is not None:
            yield ToolUsage(
                ref,
                ts,
                tool=rule.tool,
                category=rule.category,
                program=program,
                run_count=runs,
                evidence="UserAssist",
            )

    def _recent_docs(self, ctx: ParseContext, hive: Hive) -> Iterator[Artefact]:
        path = f"{EXPLORER}\\RecentDocs"
        root = key_at(hive, path)
        if root is None:
            return
        subkeys = [(f"{path}\\{k.name}", k) for k in root.iter_subkeys()]
        latest: dict[str, tuple[int, str]] = {}  # name -> (last write, key) where position 0
        entries = {key_path: _mru(key) for key_path, key in subkeys}
        for (key_path, key), docs in zip(subkeys, entries.values(), strict=True):
            if docs:
                latest.setdefault(docs[0][1], (key.header.last_modified, key_path))
        root_docs = _mru(root)
        seen = {doc[1] for doc in root_docs}
        for position, (value, name, lnk) in enumerate(root_docs):
            when, time_key = (
                (root.header.last_modified, path)
                if position == 0
                else latest.get(name, (None, None))
            )
            yield RecentDoc(
                ctx.prov(f"key {path} value {value}"),
                stamp(when, EPOCH),
                name=name,
                lnk_name=lnk,
                extension=None,
                position=position,
                time_key=time_key,
            )
        for (key_path, key), docs in zip(subkeys, entries.values(), strict=True):
            for position, (value, name, lnk) in enumerate(docs):
                if name in seen:
                    continue
                when = key.header.last_modified if position == 0 else None
                yield RecentDoc(
                    ctx.prov(f"key {key_path} value {value}"),
                    stamp(when, EPOCH),
                    name=name,
                    lnk_name=lnk,
                    extension=key.name,
                    position=position,
                    time_key=key_path if position == 0 else None,
                )


def _mru(key: Key) -> list[tuple[str, str, str | None]]:
    """(value name, document name, .lnk name) of a RecentDocs key, most recent first."""
    values = values_of(key)
    order = values.get("MRUListEx")
    indices: list[int] = []
    if isinstance(order, bytes):
        for (index,) in struct.iter_unpack("<i", order[: len(order) - len(order) % 4]):
            if index == -1:
                break
            indices.append(index)
    docs = []
    for index in indices:
        data = values.get(str(index))
        if isinstance(data, bytes):
            name, lnk = _recent_name(data)
            if name:
                docs.append((str(index), name, lnk))
    return docs


def _recent_name(data: bytes) -> tuple[str, str | None]:
    """The UTF-16LE name at the start of a RecentDocs value, and the shell item's .lnk name."""
    end = next(
        (i for i in range(0, len(data) - 1, 2) if data[i : i + 2] == b"\x00\x00"), len(data)
    )
    name = data[:end].decode("utf-16-le", "backslashreplace")
    # A shell item follows: uint16 size, type, padding, file size, DOS time, attributes
    # (14 bytes in all), then the ASCII short name of the .lnk file.
    start = end + 2 + 14
    stop = data.find(b"\x00", start)
    lnk = data[start:stop].decode("ascii", "backslashreplace") if stop > start else None
    return name, lnk if lnk and lnk.lower().endswith(".lnk") else None


ARTEFACT_PARSERS.register(NtuserParser)
