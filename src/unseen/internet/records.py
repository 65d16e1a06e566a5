"""Typed artefact records: one frozen type per fact, each with its provenance.

Field sets are shared across applications (a Chrome, Firefox and Safari visit have the
same shape). Records carry raw facts only; wording lives in the report. Every record
becomes one row of the ``artefacts`` table: its ``TYPE``, its timestamp (raw, epoch,
UTC), its ``record_ref`` and the remaining fields as JSON.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from unseen.internet.timestamps import Stamp


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from.

    Attributes:
        source: the evidence source's label.
        item_path: display path of the item that was read.
        record_ref: where in the item: a row id (``visits.id=12``), a byte offset
            (``entry 3 @ 0x1a2``), a dictionary key or a registry key path.
        parser: the parser's ``NAME``; parser_version: its ``VERSION``.
    """

    source: str
    item_path: str
    record_ref: str
    parser: str
    parser_version: str


@dataclass(frozen=True, slots=True)
class Artefact:
    """Base of every record: provenance and the record's main timestamp (or None)."""

    TYPE: ClassVar[str] = ""
    prov: Provenance
    ts: Stamp | None

    def signals(self) -> tuple[tuple[str, str], ...]:
        """Hash signals (kind, lowercase hex) to match against hash sets; none by default."""
        return ()


# -- browsers -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrowserVisit(Artefact):
    """One visit to a URL. ``transition`` is the browser's navigation type (``typed``,
    ``link``, ...); ``typed`` is true when the user typed or pasted the address;
    ``visit_count`` is the URL's total as the browser counted it (not this visit's)."""

    TYPE: ClassVar[str] = "browser.visit"
    browser: str
    profile: str
    url: str
    title: str | None
    transition: str
    typed: bool
    visit_count: int | None = None
    duration_s: float | None = None
    from_visit: int | None = None


@dataclass(frozen=True, slots=True)
class BrowserDownload(Artefact):
    """A download the browser recorded, with the chain of URLs that led to the file."""

    TYPE: ClassVar[str] = "browser.download"
    browser: str
    profile: str
    url: str
    url_chain: tuple[str, ...]
    target_path: str
    received_bytes: int | None
    total_bytes: int | None
    state: str | None
    referrer: str | None = None
    mime_type: str | None = None
    end_utc: str | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery(Artefact):
    """Terms searched for, verbatim. ``origin`` says how we know: ``keyword_search_terms``
    (the browser's own table), ``url`` (decoded from a search-engine URL), ``formhistory``
    (the search box) or ``p2p`` (a P2P client's search history)."""

    TYPE: ClassVar[str] = "search.query"
    application: str
    terms: str
    engine: str | None
    origin: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class FormEntry(Artefact):
    """A value the browser remembered for a web-form field (not a search box)."""

    TYPE: ClassVar[str] = "browser.form_entry"
    browser: str
    profile: str
    field: str
    value: str
    times_used: int | None
    first_used_utc: str | None = None


@dataclass(frozen=True, slots=True)
class BrowserSetting(Artefact):
    """A browser preference worth knowing (e.g. private browsing always on)."""

    TYPE: ClassVar[str] = "browser.setting"
    browser: str
    profile: str
    name: str
    value: str


# -- P2P ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class P2PSharedFile(Artefact):
    """A file an eDonkey client knew (shared or completed): ``known.met``. ``ts`` is the
    file date the client stored; ``transferred`` is bytes uploaded to others."""

    TYPE: ClassVar[str] = "p2p.shared_file"
    client: str
    name: str | None
    size: int | None
    ed2k: str
    transferred: int | None = None
    requests: int | None = None
    accepted: int | None = None
    last_shared_utc: str | None = None
    part_hashes: int = 0

    def signals(self) -> tuple[tuple[str, str], ...]:
        return (("ed2k", self.ed2k),)


@dataclass(frozen=True, slots=True)
class P2PPartial(Artefact):
    """An incomplete eDonkey download (``*.part.met``): what was being fetched."""

    TYPE: ClassVar[str] = "p2p.partial_download"
    client: str
    name: str | None
    size: int | None
    ed2k: str
    part_file: str | None = None
    downloaded: int | None = None

    def signals(self) -> tuple[tuple[str, str], ...]:
        return (("ed2k", self.ed2k),)


@dataclass(frozen=True, slots=True)
class P2PSearch(Artefact):
    """Terms typed into a P2P client's search box, verbatim."""

    TYPE: ClassVar[str] = "p2p.search"
    client: str
    terms: str


@dataclass(frozen=True, slots=True)
class Torrent(Artefact):
    """A BitTorrent download or torrent file. ``ts`` is when it was added (or created,
    for a bare ``.torrent``); ``info_hash`` is SHA-1 of the bencoded ``info`` dictionary
    (v1), ``info_hash_v2`` its SHA-256 (BitTorrent v2)."""

    TYPE: ClassVar[str] = "p2p.torrent"
    client: str
    origin: str
    name: str | None
    info_hash: str | None
    info_hash_v2: str | None = None
    save_path: str | None = None
    completed_utc: str | None = None
    downloaded: int | None = None
    uploaded: int | None = None
    total_size: int | None = None
    file_count: int | None = None
    files: tuple[tuple[str, int], ...] = ()
    piece_length: int | None = None
    first_piece_sha1: str | None = None
    label: str | None = None
    trackers: tuple[str, ...] = ()
    comment: str | None = None
    created_by: str | None = None
    created_utc: str | None = None

    def signals(self) -> tuple[tuple[str, str], ...]:
        found = [("btih", self.info_hash)] if self.info_hash else []
        if self.info_hash_v2:
            found.append(("btih_v2", self.info_hash_v2))
        return tuple(found)


# -- presence, accounts -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolPresence(Artefact):
    """A tool's files were found: ``paths`` (up to a bound) match its known locations."""

    TYPE: ClassVar[str] = "tool.presence"
    tool: str
    category: str
    paths: tuple[str, ...]
    path_count: int
    # File-system modification times of the matched files (earliest, latest): a hint
    # of when the tool was installed or last changed, not of its use.
    files_mtime_first: str | None = None
    files_mtime_last: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ToolUsage(Artefact):
    """Evidence that a tool was run (e.g. a UserAssist entry naming its executable)."""

    TYPE: ClassVar[str] = "tool.usage"
    tool: str
    category: str
    program: str
    run_count: int | None
    evidence: str


@dataclass(frozen=True, slots=True)
class CloudAccount(Artefact):
    """A cloud-sync client's account or sync folder, from its configuration."""

    TYPE: ClassVar[str] = "account.cloud"
    service: str
    account: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ChatAccount(Artefact):
    """A chat or social application's account name (never message content)."""

    TYPE: ClassVar[str] = "account.chat"
    service: str
    account: str
    detail: str | None = None


# -- Windows registry ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TypedUrl(Artefact):
    """An address typed into Internet Explorer / Explorer (``TypedURLs``)."""

    TYPE: ClassVar[str] = "registry.typed_url"
    url: str
    value_name: str
    key_last_write_utc: str | None


@dataclass(frozen=True, slots=True)
class UserAssistEntry(Artefact):
    """A program the user launched from the shell, with counts (``UserAssist``, ROT13)."""

    TYPE: ClassVar[str] = "registry.userassist"
    program: str
    run_count: int | None
    focus_count: int | None
    focus_time_ms: int | None
    guid: str


@dataclass(frozen=True, slots=True)
class RecentDoc(Artefact):
    """A recently opened file or folder (``RecentDocs``); ``position`` 0 is the latest,
    and only that one takes the key's last-write time as ``ts``."""

    TYPE: ClassVar[str] = "registry.recent_doc"
    name: str
    lnk_name: str | None
    extension: str | None
    position: int | None
    # The key whose last-write time is ``ts`` (the entry was position 0 there).
    time_key: str | None = None


@dataclass(frozen=True, slots=True)
class UsbDevice(Artefact):
    """A USB storage device the system saw (``SYSTEM\\...\\Enum\\USBSTOR``)."""

    TYPE: ClassVar[str] = "device.usb"
    vendor: str | None
    product: str | None
    revision: str | None
    serial: str
    friendly_name: str | None
    disk_id: str | None
    key_path: str
    first_installed_utc: str | None = None
    last_installed_utc: str | None = None
    last_connected_utc: str | None = None
    last_removed_utc: str | None = None


@dataclass(frozen=True, slots=True)
class InstalledProgram(Artefact):
    """A program registered for uninstall (``...\\CurrentVersion\\Uninstall``)."""

    TYPE: ClassVar[str] = "program.installed"
    name: str
    version: str | None
    publisher: str | None
    install_date: str | None
    install_location: str | None
    key_path: str


RECORD_TYPES: tuple[type[Artefact], ...] = (
    BrowserVisit,
    BrowserDownload,
    SearchQuery,
    FormEntry,
    BrowserSetting,
    P2PSharedFile,
    P2PPartial,
    P2PSearch,
    Torrent,
    ToolPresence,
    ToolUsage,
    CloudAccount,
    ChatAccount,
    TypedUrl,
    UserAssistEntry,
    RecentDoc,
    UsbDevice,
    InstalledProgram,
)


@dataclass(frozen=True, slots=True)
class ArtefactRow:
    """A record flattened for storage: plain data that crosses process boundaries."""

    parser: str
    parser_version: str
    type: str
    ts_utc: str | None
    ts_raw: str | None
    ts_epoch: str | None
    record_ref: str
    data: str
    signals: tuple[tuple[str, str], ...]


def record_data(record: Artefact) -> dict[str, Any]:
    """The type-specific fields of a record (everything but provenance and timestamp)."""
    return {
        f.name: _plain(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.name not in ("prov", "ts")
    }


def to_row(record: Artefact) -> ArtefactRow:
    """Flatten a record into its stored form."""
    ts = record.ts
    return ArtefactRow(
        parser=record.prov.parser,
        parser_version=record.prov.parser_version,
        type=record.TYPE,
        ts_utc=ts.utc if ts else None,
        ts_raw=repr(ts.raw) if ts else None,
        ts_epoch=ts.epoch if ts else None,
        record_ref=record.prov.record_ref,
        data=json.dumps(record_data(record), ensure_ascii=False, sort_keys=True),
        signals=record.signals(),
    )


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
