"""Signed audit heads kept outside the case database, so its owner cannot rewrite history.

A hash chain alone proves nothing against whoever can write the database: they can
cut entries off the end, or rewrite every entry and re-hash the whole chain. So every
head (the hash of the newest entry) is also appended, as one signed JSON line, to two
append-only files outside the database:

- ``<case>/logs/audit-heads.log``: travels with the case folder, so a case handed over
  (to a court, to another unit) carries its own evidence of its history;
- ``<library>/audit-heads/<case uuid>.log``: beside the agency key, outside the case
  folder and possibly under another account, so rewriting the case folder alone is
  not enough; both copies are read and must agree with the chain.

Each line is signed with the agency's Ed25519 key (``unseen keys init``), which is
never stored in the case. A line is written only when the transaction that appended
the entry commits, so a rolled-back entry never leaves a head behind.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import weakref
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Connection, event

from unseen.core import keys
from unseen.core.errors import UnseenError
from unseen.core.home import library_home
from unseen.core.timeconv import utc_now
from unseen.store.case import case_root_for

log = logging.getLogger(__name__)

CASE_HEADS_FILE = "audit-heads.log"  # in the case's logs/ folder
LIBRARY_HEADS_DIR = "audit-heads"  # in the library home, one file per case uuid
# Domain separation: a head signature can never be replayed as another signed object
# (an exchange package, say) made with the same agency key.
SIGN_CONTEXT = b"unseen-audit-head:v1\n"
_FILE_MODE = 0o600
_DIR_MODE = 0o700


def _canonical(value: Any) -> str:
    """Sorted keys, no spaces, raw UTF-8: the same text on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class HeadRecord:
    """One recorded head: entry ``entry`` of case ``case`` had hash ``head`` at ``at``.

    ``genesis`` is the chain's secret starting point, committed in every line so a
    chain rebuilt from another genesis is caught. ``key`` is the signer's fingerprint
    and ``sig`` the base64 signature (both None when no agency key existed).
    """

    case: str
    entry: int
    head: str
    genesis: str
    at: str
    key: str | None = None
    sig: str | None = None

    def payload(self) -> bytes:
        """The bytes that are signed: every field but the signature, canonical JSON."""
        fields = {k: v for k, v in asdict(self).items() if k != "sig"}
        return SIGN_CONTEXT + _canonical(fields).encode("utf-8")

    def signed(self, key: Ed25519PrivateKey) -> HeadRecord:
        """This record signed with ``key``."""
        unsigned = replace(self, key=keys.fingerprint(key.public_key()), sig=None)
        sig = keys.sign(unsigned.payload(), key)
        return replace(unsigned, sig=base64.b64encode(sig).decode("ascii"))

    def signature_ok(self, pub: Ed25519PublicKey) -> bool:
        """Whether the record carries ``pub``'s valid signature."""
        if self.sig is None or self.key != keys.fingerprint(pub):
            return False
        try:
            sig = base64.b64decode(self.sig, validate=True)
        except ValueError:
            return False
        return keys.verify(pub, self.payload(), sig)

    def line(self) -> str:
        """The record as one line of its heads file."""
        return _canonical(asdict(self)) + "\n"

    @classmethod
    def parse(cls, text: str) -> HeadRecord:
        """A record from one line; ValueError when it is not one."""
        raw = json.loads(text)
        if not isinstance(raw, dict) or set(raw) != {f for f in cls.__dataclass_fields__}:
            raise ValueError("not a head record")
        str_fields = ("case", "head", "genesis", "at")
        if not all(isinstance(raw[f], str) for f in str_fields) or type(raw["entry"]) is not int:
            raise ValueError("not a head record")
        for f in ("key", "sig"):
            if raw[f] is not None and not isinstance(raw[f], str):
                raise ValueError("not a head record")
        return cls(**raw)


def head_files(case_uuid: str, url: str, library: Path | None = None) -> list[Path]:
    """Where the heads of a case are kept: the case copy (when known) and the library's."""
    files = []
    root = case_root_for(url)
    if root is not None:
        files.append(root / "logs" / CASE_HEADS_FILE)
    home = library_home(library, root)  # the case's own library, when it names one
    files.append(home.expanduser() / LIBRARY_HEADS_DIR / f"{case_uuid}.log")
    return files


# The private key, read once per process (and again if the file changes).
_key_cache: dict[Path, tuple[tuple[int, int], Ed25519PrivateKey]] = {}


def agency_key(library: Path | None = None) -> Ed25519PrivateKey | None:
    """The agency key when the library has a usable one; None otherwise (heads unsigned).

    A key that exists but cannot be used (readable by others, damaged) is logged as an
    error rather than raised: refusing every audited action (logins included) would
    stop the review; the unsigned heads it leaves are flagged by ``unseen audit verify``.
    """
    path = keys.private_path(library)
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_mode)
    cached = _key_cache.get(path)
    if cached is None or cached[0] != stamp:
        try:
            _key_cache[path] = (stamp, keys.load_private(library))
        except UnseenError as exc:
            log.error("audit heads are written unsigned: %s", exc)
            return None
    return _key_cache[path][1]


def make_record(case_uuid: str, entry: int, head: str, genesis: str) -> HeadRecord:
    """A head record for now, signed when an agency key exists."""
    record = HeadRecord(case_uuid, entry, head, genesis, utc_now())
    key = agency_key()
    return record.signed(key) if key is not None else record


# Heads appended in a transaction that has not committed yet, per connection.
_pending: weakref.WeakKeyDictionary[Connection, list[tuple[list[Path], HeadRecord]]] = (
    weakref.WeakKeyDictionary()
)


def record_on_commit(conn: Connection, files: list[Path], record: HeadRecord) -> None:
    """Write ``record`` to ``files`` when (and only if) ``conn``'s transaction commits."""
    if conn not in _pending:
        _pending[conn] = []
        event.listen(conn, "commit", _flush)
        event.listen(conn, "rollback", _discard)
    _pending[conn].append((files, record))


def _flush(conn: Connection) -> None:
    for files, record in _pending.get(conn, []):
        write_record(files, record)
    _pending[conn] = []


def _discard(conn: Connection) -> None:
    _pending[conn] = []


def write_record(files: list[Path], record: HeadRecord) -> None:
    """Append the record's line to each file (created private, never followed if a link).

    A file that cannot be written is logged, not raised: the entry is already in the
    chain, and ``unseen audit verify`` reports how far the recorded heads reach.
    """
    data = record.line().encode("utf-8")
    for path in files:
        try:
            append_line(path, data)
        except OSError as exc:
            log.error("audit head of entry %d not recorded in %s: %s", record.entry, path, exc)


def append_line(path: Path, data: bytes) -> None:
    """One ``write`` with O_APPEND: concurrent writers never interleave within a line."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, _FILE_MODE)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Recorded:
    """Every head record found for a case, and the lines that were not records."""

    records: list[tuple[Path, HeadRecord]]
    bad_lines: list[tuple[Path, int]]
    missing_files: list[Path]


def read_records(files: list[Path]) -> Recorded:
    """Read the heads files (absent files are listed, not errors)."""
    records: list[tuple[Path, HeadRecord]] = []
    bad: list[tuple[Path, int]] = []
    missing: list[Path] = []
    for path in files:
        if not path.is_file():
            missing.append(path)
            continue
        for number, text in _lines(path):
            try:
                records.append((path, HeadRecord.parse(text)))
            except (ValueError, TypeError):
                bad.append((path, number))
    return Recorded(records, bad, missing)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, start=1):
            if text.strip():
                yield number, text


def record_dict(record: HeadRecord) -> dict[str, Any]:
    """The record as plain data (reports and exports embed it)."""
    return asdict(record)
