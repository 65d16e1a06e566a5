"""The agency intelligence library: ``intel.db`` (SQLite, WAL) in the library home.

Home: ``--library PATH`` > ``$UNSEEN_HOME`` > ``$XDG_DATA_HOME/unseen`` >
``~/.local/share/unseen``, the same folder as the hash-set library and the agency
key. Schema: ``intel.schema``.

Every change (promotion, import, removal, expiry) is one transaction together with
its record in ``intel_audit``, so the library never holds an entry nobody can account
for, and never loses one without saying so. Retention is enforced whenever the
library is opened for writing and on every ``intel list``; readers (the seen-before
matcher) also skip expired entries, so an entry stops counting on its retention date
even if nobody has opened the library for writing since.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from unseen.core.errors import UserError
from unseen.core.home import library_home
from unseen.core.timeconv import utc_now
from unseen.intel.schema import (
    intel_audit,
    intel_contacts,
    intel_devices,
    intel_entries,
    intel_hashes,
    intel_metadata,
    intel_scenes,
)
from unseen.store.case import current_user, make_engine

DB_FILE = "intel.db"
# How long a promotion is kept unless the admin says otherwise. Agencies set their own
# policy; ten years covers the usual review periods of victim-identification records.
DEFAULT_RETENTION_DAYS = 3653
KINDS = ("reviewed", "series", "device", "contact", "group")
_PARTS = (intel_hashes, intel_scenes, intel_devices, intel_contacts)


@dataclass(frozen=True, slots=True)
class IntelEntry:
    """One promoted or imported entry (an ``intel_entries`` row)."""

    id: int
    name: str
    kind: str
    case_ref: str
    case_uuid: str
    cluster: str | None
    promoted_by: str
    promoted_at: str
    reviewers: tuple[str, ...]
    retain_until: str
    victim_ref: str | None
    origin: str
    details: dict[str, Any]

    @property
    def provenance(self) -> str:
        """How a reason cites this entry: name, case, who promoted it and when."""
        return (
            f"intelligence library entry {self.name!r} ({self.kind}) from case "
            f"{self.case_ref}, promoted by {self.promoted_by} on {self.promoted_at[:10]}"
            + ("" if self.origin == "promoted" else f"; {self.origin}")
        )

    def to_dict(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["reviewers"] = list(self.reviewers)
        return found


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What a promotion or an import adds: the entry row's values and its parts."""

    name: str
    kind: str
    case_ref: str
    case_uuid: str
    reviewers: tuple[str, ...]
    retain_until: str
    cluster: str | None = None
    victim_ref: str | None = None
    origin: str = "promoted"
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hashes: Sequence[Mapping[str, Any]] = ()
    scenes: Sequence[Mapping[str, Any]] = ()
    devices: Sequence[Mapping[str, Any]] = ()
    contacts: Sequence[Mapping[str, Any]] = ()
    promoted_at: str | None = None  # imports keep the original promotion time
    promoted_by: str | None = None

    def counts(self) -> dict[str, int]:
        return {
            "hashes": len(self.hashes),
            "scenes": len(self.scenes),
            "devices": len(self.devices),
            "contacts": len(self.contacts),
        }


def today() -> str:
    """Today's date (UTC) as retention dates are written: YYYY-MM-DD."""
    return datetime.now(UTC).date().isoformat()


def retention_date(until: str | None, days: int = DEFAULT_RETENTION_DAYS) -> str:
    """A checked retention date: ``until`` (YYYY-MM-DD, not in the past) or today + days."""
    if until is None:
        return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
    try:
        parsed = date.fromisoformat(until)
    except ValueError as exc:
        raise UserError(f"retention date {until!r} is not YYYY-MM-DD") from exc
    if parsed.isoformat() < today():
        raise UserError(f"retention date {until} is in the past")
    return parsed.isoformat()


def check_name(name: str) -> str:
    if not name.strip() or len(name) > 128 or any(ord(c) < 32 for c in name):
        raise UserError(f"bad intelligence entry name {name!r} (1-128 printable characters)")
    return name


class IntelLibrary:
    """An open intelligence library."""

    def __init__(self, home: Path, engine: Engine) -> None:
        self.home = home
        self.engine = engine

    @classmethod
    def open(cls, home: Path | None = None) -> IntelLibrary:
        """Open (creating if needed) the library in ``home`` or the default home."""
        home = library_home(home).expanduser().resolve()
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the intelligence library in {home}: {exc}") from exc
        engine = make_engine(f"sqlite:///{home / DB_FILE}")
        intel_metadata.create_all(engine)
        return cls(home, engine)

    @staticmethod
    def exists(home: Path | None = None) -> bool:
        return (library_home(home).expanduser() / DB_FILE).is_file()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> IntelLibrary:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def entries(self, include_expired: bool = False) -> list[IntelEntry]:
        """Every entry by name (expired ones only on request: they are due for deletion)."""
        query = select(intel_entries).order_by(intel_entries.c.name)
        if not include_expired:
            query = query.where(intel_entries.c.retain_until >= today())
        with self.engine.connect() as conn:
            return [entry_from_row(row._mapping) for row in conn.execute(query)]

    def get(self, name: str) -> IntelEntry:
        for entry in self.entries(include_expired=True):
            if entry.name == name:
                return entry
        raise UserError(f"no intelligence entry {name!r}")

    def counts(self, entry_id: int) -> dict[str, int]:
        """How many hashes, scene pictures, devices and contacts an entry holds."""
        with self.engine.connect() as conn:
            return {
                str(t.name).removeprefix("intel_"): int(
                    conn.scalar(select(func.count()).where(t.c.entry_id == entry_id)) or 0
                )
                for t in _PARTS
            }

    def add(self, new: NewEntry, action: str = "promote") -> IntelEntry:
        """Store ``new`` and its audit record in one transaction. Refuses a used name."""
        check_name(new.name)
        if new.kind not in KINDS:
            raise UserError(f"unknown intelligence kind {new.kind!r}")
        row = {
            "name": new.name,
            "kind": new.kind,
            "case_ref": new.case_ref,
            "case_uuid": new.case_uuid,
            "cluster": new.cluster,
            "promoted_by": new.promoted_by or current_user(),
            "promoted_at": new.promoted_at or utc_now(),
            "reviewers": json.dumps(sorted(set(new.reviewers))),
            "retain_until": new.retain_until,
            "victim_ref": new.victim_ref,
            "origin": new.origin,
            "details": json.dumps({**new.details, **new.counts()}, sort_keys=True),
        }
        try:
            with self.engine.begin() as conn:
                self._expire(conn)
                key = conn.execute(insert(intel_entries).values(**row)).inserted_primary_key
                entry_id = int(key[0]) if key else 0
                for table, rows in zip(
                    _PARTS, (new.hashes, new.scenes, new.devices, new.contacts), strict=True
                ):
                    if rows:
                        conn.execute(insert(table), _complete(table, rows, entry_id))
                _audit(conn, action, new.name, {**_summary(row), **new.counts()})
                found = conn.execute(select(intel_entries).where(intel_entries.c.id == entry_id))
                return entry_from_row(found.one()._mapping)
        except IntegrityError as exc:
            raise UserError(
                f"an intelligence entry named {new.name!r} exists; choose another --name"
            ) from exc
        except OperationalError as exc:
            raise UserError(f"the intelligence library is busy or unwritable: {exc.orig}") from exc

    def remove(self, name: str, reason: str = "removed by an administrator") -> IntelEntry:
        """Delete an entry and everything it holds, with an audit record."""
        entry = self.get(name)
        with self.engine.begin() as conn:
            _delete(conn, entry.id)
            _audit(conn, "remove", name, {**_summary(entry.to_dict()), "reason": reason})
        return entry

    def expire(self) -> list[str]:
        """Delete every entry past its retention date; returns their names."""
        try:
            with self.engine.begin() as conn:
                return self._expire(conn)
        except OperationalError as exc:
            raise UserError(f"the intelligence library is busy or unwritable: {exc.orig}") from exc

    def _expire(self, conn: Connection) -> list[str]:
        due = conn.execute(select(intel_entries).where(intel_entries.c.retain_until < today()))
        names = []
        for row in due.all():
            entry = entry_from_row(row._mapping)
            _delete(conn, entry.id)
            _audit(
                conn,
                "expire",
                entry.name,
                {**_summary(entry.to_dict()), "reason": f"retention date {entry.retain_until}"},
                user="unseen (retention)",
            )
            names.append(entry.name)
        return names

    def audit_log(self) -> list[dict[str, Any]]:
        """The library's audit records, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(intel_audit).order_by(intel_audit.c.id))
            return [{**r._mapping, "details": json.loads(r.details)} for r in rows]


def _complete(
    table: Any, rows: Sequence[Mapping[str, Any]], entry_id: int
) -> list[dict[str, Any]]:
    """Rows with every column (absent ones None): one INSERT for rows of mixed shapes."""
    columns = [c.name for c in table.columns if c.name not in ("id", "entry_id")]
    return [{**{c: r.get(c) for c in columns}, "entry_id": entry_id} for r in rows]


def _summary(row: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("kind", "case_ref", "case_uuid", "cluster", "retain_until", "victim_ref", "origin")
    return {k: row.get(k) for k in keep if row.get(k) is not None}


def _delete(conn: Connection, entry_id: int) -> None:
    for table in _PARTS:
        conn.execute(delete(table).where(table.c.entry_id == entry_id))
    conn.execute(delete(intel_entries).where(intel_entries.c.id == entry_id))


def _audit(
    conn: Connection, action: str, name: str, details: dict[str, Any], user: str | None = None
) -> None:
    conn.execute(
        insert(intel_audit).values(
            at=utc_now(),
            user=user or current_user(),
            action=action,
            name=name,
            details=json.dumps(details, sort_keys=True),
        )
    )


def entry_from_row(m: Any) -> IntelEntry:
    return IntelEntry(
        id=int(m["id"]),
        name=str(m["name"]),
        kind=str(m["kind"]),
        case_ref=str(m["case_ref"]),
        case_uuid=str(m["case_uuid"]),
        cluster=m["cluster"],
        promoted_by=str(m["promoted_by"]),
        promoted_at=str(m["promoted_at"]),
        reviewers=tuple(json.loads(m["reviewers"] or "[]")),
        retain_until=str(m["retain_until"]),
        victim_ref=m["victim_ref"],
        origin=str(m["origin"]),
        details=json.loads(m["details"] or "{}"),
    )
