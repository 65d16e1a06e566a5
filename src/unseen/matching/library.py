"""The hash-set library shared by all cases: ``library.db`` (SQLite, WAL) in its home.

Home: ``--library PATH`` > ``$UNSEEN_HOME`` > ``$XDG_DATA_HOME/unseen`` >
``~/.local/share/unseen``. Schema and versioning rules: ``library_schema``.

An import is one transaction: the set row (status ``importing``), its entries, the
removal of duplicates and the flip to ``ready`` commit together or not at all, so a
failure or a kill leaves no rows and readers never see a half-imported set.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from unseen.core.errors import UserError
from unseen.core.home import library_home
from unseen.core.timeconv import utc_now
from unseen.matching import formats
from unseen.matching.formats.base import BadFile, HashSetFormat
from unseen.matching.formats.categories import CategoryReader, category_reader
from unseen.matching.formats.loader import Loader, Problem
from unseen.matching.library_schema import entries, hashsets, library_metadata
from unseen.store.case import current_user, make_engine

DB_FILE = "library.db"
# SQLite page cache per library connection (KiB, negative = size): enough to keep the
# upper B-tree levels of the hash indexes resident during a bulk import.
CACHE_KIB = 64 * 1024


@dataclass(frozen=True, slots=True)
class HashSetInfo:
    """One version of a hash set (a ``hashsets`` row)."""

    id: int
    name: str
    version: int
    imported_at: str
    imported_by: str
    source_file: str
    file_sha256: str
    format: str
    scheme: str
    profile: str | None
    known_good: bool
    entries: int
    status: str
    removed_at: str | None

    @property
    def label(self) -> str:
        """``name vN``, as provenance shows it."""
        return f"{self.name} v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did. ``problems`` lists the first problems; the counts are exact."""

    info: HashSetInfo
    read: int  # records read from the file, usable or not
    imported: int
    duplicates: int
    rejected: int
    problems: tuple[Problem, ...]


class HashSetImportError(UserError):
    """An import failed; nothing of it is left in the library."""

    def __init__(self, path: Path, problem: Problem, read: int) -> None:
        super().__init__(f"{path.name}: {problem.ref}: {problem.reason}; nothing imported")
        self.problem = problem
        self.read = read


def _cache_pragma(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cur.close()


class Library:
    """An open hash-set library."""

    def __init__(self, home: Path, engine: Engine) -> None:
        self.home = home
        self.engine = engine

    @classmethod
    def open(cls, home: Path | None = None) -> Library:
        """Open (creating if needed) the library in ``home`` or the default home."""
        home = library_home(home).expanduser().resolve()
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the hash-set library in {home}: {exc}") from exc
        engine = make_engine(f"sqlite:///{home / DB_FILE}")
        event.listen(engine, "connect", _cache_pragma)
        library_metadata.create_all(engine)
        return cls(home, engine)

    def close(self) -> None:
        self.engine.dispose()

    def sets(self, include_removed: bool = False) -> list[HashSetInfo]:
        """Every ready set version, by name then version (removed ones on request)."""
        query = select(hashsets).where(hashsets.c.status == "ready")
        if not include_removed:
            query = query.where(hashsets.c.removed_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(hashsets.c.name, hashsets.c.version))
            return [_info(row._mapping) for row in rows]

    def get(self, name: str, version: int | None = None) -> HashSetInfo:
        """A set version (default: the newest one not removed). Raises UserError."""
        found = [s for s in self.sets(include_removed=version is not None) if s.name == name]
        if version is not None:
            found = [s for s in found if s.version == version]
        if not found:
            raise UserError(f"no hash set {name!r}" + (f" v{version}" if version else ""))
        return found[-1]

    def remove(self, name: str) -> int:
        """Mark every version of ``name`` removed and delete its entries.

        Returns the number of versions removed. Raises UserError for an unknown name.
        """
        try:
            return self._remove(name)
        except OperationalError as exc:
            raise UserError(f"the hash-set library is busy or unwritable: {exc.orig}") from exc

    def _remove(self, name: str) -> int:
        with self.engine.begin() as conn:
            ids = conn.scalars(
                select(hashsets.c.id).where(
                    hashsets.c.name == name, hashsets.c.removed_at.is_(None)
                )
            ).all()
            if not ids:
                raise UserError(f"no hash set {name!r} to remove")
            conn.execute(entries.delete().where(entries.c.set_id.in_(ids)))
            conn.execute(
                update(hashsets).where(hashsets.c.id.in_(ids)).values(removed_at=utc_now())
            )
        return len(ids)

    def import_file(
        self,
        path: Path,
        name: str,
        fmt: str = "auto",
        scheme: str | None = None,
        strict: bool = False,
        known_good: bool | None = None,
        category: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Import ``path`` as the next version of set ``name``.

        Args:
            path: The hash-set file (read only).
            name: The set name; each import makes version 1, 2, ... of it.
            fmt: A format name or ``auto`` (sniffed from the first bytes).
            scheme: The category scheme of its categories; required where the file
                does not fix it (VICS Default/CUSTOM profiles, CSV category columns).
            strict: Fail on the first rejected record or duplicate instead of
                skipping it.
            known_good: Mark the set known-good (default: the format's, NSRL only).
            category: A category code for entries that carry none (ICSE, lists).
            progress: Called with the number of records read, every batch.

        Raises:
            HashSetImportError: the file broke off, or a problem under ``strict``.
            UserError: bad arguments (unknown format, scheme needed, missing file).
        """
        path = Path(path)
        _check_name(name)
        if not path.is_file():
            raise UserError(f"{path} is not a file")
        kind = formats.detect(path) if fmt == "auto" else formats.get(fmt)
        reader = kind(path)
        try:
            header = reader.header()
        except BadFile as exc:
            raise HashSetImportError(path, Problem(exc.ref, exc.reason), 0) from exc
        categories = category_reader(kind, header, scheme, category)
        row = {
            "name": name,
            "imported_at": utc_now(),
            "imported_by": current_user(),
            "source_file": str(path),
            "file_sha256": _sha256(path),
            "format": kind.NAME,
            "scheme": categories.scheme,
            "profile": categories.profile,
            "known_good": kind.KNOWN_GOOD if known_good is None else known_good,
            "entries": 0,
            "status": "importing",
        }
        try:
            return self._import(path, reader, kind, row, categories, strict, progress)
        except IntegrityError as exc:
            raise UserError(f"another import of {name!r} ran at the same time; retry") from exc
        except OperationalError as exc:
            raise UserError(f"the hash-set library is busy or unwritable: {exc.orig}") from exc

    def _import(
        self,
        path: Path,
        reader: HashSetFormat,
        kind: type[HashSetFormat],
        row: dict[str, Any],
        categories: CategoryReader,
        strict: bool,
        progress: Callable[[int], None] | None,
    ) -> ImportResult:
        with self.engine.begin() as conn:
            latest = conn.scalar(
                select(func.max(hashsets.c.version)).where(hashsets.c.name == row["name"])
            )
            row["version"] = (latest or 0) + 1
            key = conn.execute(insert(hashsets).values(**row)).inserted_primary_key
            set_id = int(key[0]) if key else 0
            loader = Loader(conn, set_id, categories, strict, kind.DUPLICATES_EXPECTED)
            loader.prepare(path.stat().st_size)
            failure = loader.load(reader.records(), progress)
            if failure is not None:  # leaving the block rolls everything back
                raise HashSetImportError(path, failure, loader.read)
            conn.execute(
                update(hashsets)
                .where(hashsets.c.id == set_id)
                .values(entries=loader.imported, status="ready")
            )
            info = _info(
                conn.execute(select(hashsets).where(hashsets.c.id == set_id)).one()._mapping
            )
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # best effort
        return ImportResult(
            info, loader.read, loader.imported, loader.duplicates, loader.rejected,
            tuple(loader.problems),
        )  # fmt: skip


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > 128 or any(ord(c) < 32 for c in name):
        raise UserError(f"bad hash-set name {name!r} (1-128 printable characters)")


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _info(m: Any) -> HashSetInfo:
    return HashSetInfo(**{f.name: m[f.name] for f in dataclasses.fields(HashSetInfo)})
