"""BitTorrent: ``.torrent`` files, uTorrent/BitTorrent ``resume.dat``, qBittorrent and
Deluge libtorrent ``.fastresume``, Transmission ``.resume``. All are bencoded.

Info-hash: SHA-1 of the ``info`` dictionary's bytes exactly as they are in the file
(BEP 3); for BitTorrent v2 (``meta version`` 2, BEP 52) also their SHA-256. Deluge's
``torrents.state`` is a Python pickle and is never read (presence rules note it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from unseen.core.errors import WrongFormat
from unseen.internet.base import ARTEFACT_PARSERS, ArtefactParser, ParseContext
from unseen.internet.bencode import Value, decode, integer, text
from unseen.internet.records import Artefact, Torrent
from unseen.internet.timestamps import stamp, utc_of

MAX_FILES_KEPT = 200  # file lists are kept up to this many entries (the count is exact)
MAX_TRACKERS = 20
MAX_RESUME_ENTRIES = 100_000
_HEX40 = re.compile(r"^[0-9a-f]{40}$", re.IGNORECASE)

CLIENT_HINTS = (
    ("qbittorrent", "qBittorrent"),
    ("utorrent", "uTorrent"),
    ("bittorrent", "BitTorrent"),
    ("transmission", "Transmission"),
    ("deluge", "Deluge"),
    ("vuze", "Vuze"),
    ("frostwire", "FrostWire"),
    ("tixati", "Tixati"),
)


def client_of(path: str, default: str) -> str:
    folded = path.casefold()
    return next((name for hint, name in CLIENT_HINTS if hint in folded), default)


def _dict(value: object) -> dict[bytes, Value]:
    return value if isinstance(value, dict) else {}


def _trackers(value: object) -> tuple[str, ...]:
    """Tracker URLs from a list, a list of tiers or a single string."""
    found: list[str] = []
    stack = [value]
    while stack and len(found) < MAX_TRACKERS:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[:0] = item[:MAX_TRACKERS]
        elif isinstance(item, bytes) and item:
            found.append(text(item) or "")
    return tuple(found)


@dataclass(frozen=True, slots=True)
class InfoFacts:
    """What a torrent's ``info`` dictionary says (files kept up to ``MAX_FILES_KEPT``)."""

    name: str | None
    info_hash: str | None
    info_hash_v2: str | None
    files: tuple[tuple[str, int], ...]
    file_count: int
    total_size: int
    piece_length: int | None
    first_piece_sha1: str | None


def _v1_files(info: dict[bytes, Value]) -> tuple[list[tuple[str, int]], int, int]:
    files = info.get(b"files")
    if not isinstance(files, list):
        length = integer(info.get(b"length")) or 0
        return [(text(info.get(b"name")) or "", length)], 1, length
    kept: list[tuple[str, int]] = []
    total = 0
    for entry in files:
        entry = _dict(entry)
        length = integer(entry.get(b"length")) or 0
        total += length
        if len(kept) < MAX_FILES_KEPT:
            parts = entry.get(b"path.utf-8") or entry.get(b"path")
            path = "/".join(text(p) or "" for p in parts) if isinstance(parts, list) else ""
            kept.append((path, length))
    return kept, len(files), total


def _v2_files(tree: dict[bytes, Value]) -> tuple[list[tuple[str, int]], int, int]:
    """Walk a BEP 52 ``file tree`` ({name: {name: ... {"": {"length": n}}}})."""
    kept: list[tuple[str, int]] = []
    count = total = 0
    stack: list[tuple[str, dict[bytes, Value]]] = [("", tree)]
    while stack:
        prefix, node = stack.pop()
        for name, child in node.items():
            child = _dict(child)
            if name == b"":
                count += 1
                length = integer(child.get(b"length")) or 0
                total += length
                if len(kept) < MAX_FILES_KEPT:
                    kept.append((prefix.rstrip("/"), length))
            else:
                stack.append((prefix + (text(name) or "") + "/", child))
    return kept, count, total


def info_facts(data: bytes, info: dict[bytes, Value], span: tuple[int, int]) -> InfoFacts:
    """Name, hashes, files and sizes of a torrent's ``info`` dictionary.

    The v1 info-hash exists when the dictionary has v1 ``pieces`` (v1 or hybrid
    torrents); the v2 one when ``meta version`` is 2.
    """
    v2 = integer(info.get(b"meta version")) == 2
    pieces = info.get(b"pieces")
    raw = data[span[0] : span[1]]
    tree = info.get(b"file tree")
    if v2 and isinstance(tree, dict):
        files, count, total = _v2_files(tree)
    else:
        files, count, total = _v1_files(info)
    has_pieces = isinstance(pieces, bytes) and len(pieces) >= 20
    return InfoFacts(
        name=text(info.get(b"name.utf-8")) or text(info.get(b"name")),
        info_hash=hashlib.sha1(raw).hexdigest() if isinstance(pieces, bytes) else None,
        info_hash_v2=hashlib.sha256(raw).hexdigest() if v2 else None,
        files=tuple(files),
        file_count=count,
        total_size=total,
        piece_length=integer(info.get(b"piece length")),
        first_piece_sha1=pieces[:20].hex() if has_pieces and isinstance(pieces, bytes) else None,
    )


class TorrentFileParser(ArtefactParser):
    NAME = "torrent_file"
    VERSION = "1"
    DESCRIPTION = ".torrent files: name, info-hash (v1 SHA-1, v2 SHA-256), files, trackers"
    PATH_GLOBS = ("**/*.torrent",)
    PRODUCES = ("p2p.torrent",)
    MAX_BYTES = 64 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        data = ctx.read_bytes(self.MAX_BYTES)
        decoded = decode(data)
        top = _dict(decoded.value)
        info = top.get(b"info")
        if not isinstance(info, dict) or decoded.info_span is None:
            raise WrongFormat("not a torrent file: no info dictionary")
        if decoded.end != len(data):
            ctx.error(f"{len(data) - decoded.end} bytes after the bencoded data")
        facts = info_facts(data, info, decoded.info_span)
        # No ts: a torrent file's creation date is the author's, not the user's activity.
        yield Torrent(
            ctx.prov("info"),
            None,
            client=client_of(ctx.task.path, "torrent file"),
            origin="torrent_file",
            name=facts.name,
            info_hash=facts.info_hash,
            info_hash_v2=facts.info_hash_v2,
            total_size=facts.total_size,
            file_count=facts.file_count,
            files=facts.files,
            piece_length=facts.piece_length,
            first_piece_sha1=facts.first_piece_sha1,
            trackers=_trackers([top.get(b"announce"), top.get(b"announce-list")]),
            comment=text(top.get(b"comment")),
            created_by=text(top.get(b"created by")),
            created_utc=utc_of(integer(top.get(b"creation date")), "unix_s"),
        )


class UtorrentResumeParser(ArtefactParser):
    NAME = "utorrent_resume"
    VERSION = "1"
    DESCRIPTION = "uTorrent/BitTorrent resume.dat: torrents with save paths, times and bytes"
    PATH_GLOBS = ("**/uTorrent*/resume.dat", "**/BitTorrent/resume.dat", "**/resume.dat.old")
    PRODUCES = ("p2p.torrent",)
    MAX_BYTES = 256 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        top = decode(ctx.read_bytes(self.MAX_BYTES)).value
        if not isinstance(top, dict):
            raise WrongFormat("resume.dat is not a bencoded dictionary")
        client = client_of(ctx.task.path, "uTorrent")
        entries = [
            (k, v) for k, v in top.items() if isinstance(v, dict) and k.endswith(b".torrent")
        ]
        if len(entries) > MAX_RESUME_ENTRIES:
            ctx.error(f"{len(entries)} torrents; only the first {MAX_RESUME_ENTRIES} are read")
        for key, entry in entries[:MAX_RESUME_ENTRIES]:
            name = text(key) or ""
            digest = entry.get(b"info")
            yield Torrent(
                ctx.prov(f"key {name}"),
                stamp(integer(entry.get(b"added_on")), "unix_s"),
                client=client,
                origin="resume.dat",
                name=text(entry.get(b"caption"))
                or name.rsplit("\\", 1)[-1].removesuffix(".torrent"),
                info_hash=digest.hex()
                if isinstance(digest, bytes) and len(digest) == 20
                else None,
                save_path=text(entry.get(b"path")),
                completed_utc=utc_of(integer(entry.get(b"completed_on")), "unix_s"),
                downloaded=integer(entry.get(b"downloaded")),
                uploaded=integer(entry.get(b"uploaded")),
                label=text(entry.get(b"label")),
                trackers=_trackers(entry.get(b"trackers")),
            )


class LibtorrentResumeParser(ArtefactParser):
    NAME = "libtorrent_fastresume"
    VERSION = "1"
    DESCRIPTION = "qBittorrent and Deluge .fastresume (libtorrent resume data)"
    PATH_GLOBS = ("**/BT_backup/*.fastresume", "**/deluge/state/*.fastresume")
    PRODUCES = ("p2p.torrent",)
    MAX_BYTES = 256 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        top = decode(ctx.read_bytes(self.MAX_BYTES)).value
        if not isinstance(top, dict):
            raise WrongFormat("not a bencoded dictionary")
        client = client_of(ctx.task.path, "libtorrent client")
        if b"file-format" in top or b"info-hash" in top:
            yield self._record(ctx, client, top, "resume")
            return
        # Deluge keeps one file: {info-hash hex: bencoded resume data}.
        for key, blob in list(top.items())[:MAX_RESUME_ENTRIES]:
            if isinstance(blob, bytes):
                inner = decode(blob).value
                if isinstance(inner, dict):
                    yield self._record(ctx, client, inner, f"key {text(key)}")

    def _record(
        self, ctx: ParseContext, client: str, resume: dict[bytes, Value], ref: str
    ) -> Torrent:
        digest, digest2 = resume.get(b"info-hash"), resume.get(b"info-hash2")
        return Torrent(
            ctx.prov(ref),
            stamp(integer(resume.get(b"added_time")), "unix_s"),
            client=client,
            origin="fastresume",
            name=text(resume.get(b"qBt-name")) or text(resume.get(b"name")),
            info_hash=digest.hex() if isinstance(digest, bytes) and len(digest) == 20 else None,
            info_hash_v2=digest2.hex()
            if isinstance(digest2, bytes) and len(digest2) == 32
            else None,
            save_path=text(resume.get(b"qBt-savePath")) or text(resume.get(b"save_path")),
            completed_utc=utc_of(integer(resume.get(b"completed_time")), "unix_s"),
            downloaded=integer(resume.get(b"total_downloaded")),
            uploaded=integer(resume.get(b"total_uploaded")),
            label=text(resume.get(b"qBt-category")) or None,
            trackers=_trackers(resume.get(b"trackers")),
        )


class TransmissionResumeParser(ArtefactParser):
    NAME = "transmission_resume"
    VERSION = "1"
    DESCRIPTION = "Transmission .resume: torrents with destination, times and bytes"
    PATH_GLOBS = ("**/transmission*/resume/*.resume",)
    PRODUCES = ("p2p.torrent",)
    MAX_BYTES = 64 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        resume = decode(ctx.read_bytes(self.MAX_BYTES)).value
        if not isinstance(resume, dict):
            raise WrongFormat("not a bencoded dictionary")
        stem = ctx.task.path.rsplit("/", 1)[-1].removesuffix(".resume")
        # Transmission 4 names the file by the info-hash; older ones by name.hash16.
        info_hash = stem.lower() if _HEX40.match(stem) else None
        yield Torrent(
            ctx.prov("resume"),
            stamp(integer(resume.get(b"added-date")), "unix_s"),
            client="Transmission",
            origin="transmission_resume",
            name=text(resume.get(b"name")),
            info_hash=info_hash,
            save_path=text(resume.get(b"destination")),
            completed_utc=utc_of(integer(resume.get(b"done-date")), "unix_s"),
            downloaded=integer(resume.get(b"downloaded")),
            uploaded=integer(resume.get(b"uploaded")),
        )


ARTEFACT_PARSERS.register(TorrentFileParser)
ARTEFACT_PARSERS.register(UtorrentResumeParser)
ARTEFACT_PARSERS.register(LibtorrentResumeParser)
ARTEFACT_PARSERS.register(TransmissionResumeParser)
