"""A case is a folder: ``case.json`` (what it is), ``case.db`` (SQLite in WAL mode,
unless ``case.json`` names another database), ``thumbs/`` and ``logs/``."""

from __future__ import annotations

import getpass
import json
import os
import uuid
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.engine import make_url

import unseen
from unseen.core.errors import CaseError, UserError
from unseen.core.schemes import install_scheme, load_scheme
from unseen.core.timeconv import utc_now
from unseen.store import migrations, privacy, schema

CASE_FILE = "case.json"
DB_FILE = "case.db"
# Case folders opened in this process, by database URL: code that holds only a
# connection (the audit log, writing its heads beside the case) finds the folder here,
# also for cases whose database is a PostgreSQL server.
_ROOTS: dict[str, Path] = {}


def case_root_for(url: str) -> Path | None:
    """The folder of the case whose database is ``url`` (None: not known here)."""
    if url in _ROOTS:
        return _ROOTS[url]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        folder = Path(parsed.database).parent
        if (folder / CASE_FILE).is_file():
            return folder
    return None


# How long a writer waits for another's transaction before giving up (SQLite): a
# correlation run at a million items writes for minutes, which the review server
# then answers as busy (503) rather than waiting with the reviewer's click.
BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers (review UI, status) never block the writer; a crash loses at most
    # the open transaction. synchronous=NORMAL is durable against process kills.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


# Every engine made here, so that a command leaving without tearing its interpreter
# down (the ``unseen`` program) can still close each database first.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_engine(url: str) -> Engine:
    """An engine for a case database URL, with SQLite tuned for one writer."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _ENGINES.add(engine)
    return engine


def close_all() -> None:
    """Close every database this process still has open: the last connection to a
    SQLite database checkpoints its write-ahead log and removes it, which otherwise
    happens only as the interpreter tears the connections down."""
    for engine in list(_ENGINES):
        engine.dispose()


# Writes that read before they write (the audit chain's "read the last hash, append
# the next entry") must not interleave with another writer: on SQLite they go through
# a second engine whose transactions start with BEGIN IMMEDIATE, taking the write lock
# before the first read. Readers keep their own engine (WAL: never blocked).


def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling would BEGIN DEFERRED; we emit BEGIN ourselves.
    dbapi_conn.isolation_level = None


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def begin_writing(conn: Connection) -> None:
    """Take the write lock now, as the first statement of ``conn``'s transaction (on
    SQLite; other engines lock rows as they write): a transaction that reads before
    its first write would otherwise be refused at that write, without waiting, when
    another writer committed in between."""
    if conn.dialect.name == "sqlite":
        _begin_immediate(conn)


def write_engine(url: str) -> Engine:
    """An engine for serialised writes (review server, account and audit commands):
    immediate transactions on SQLite, so a read-then-append is never interleaved."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _no_implicit_begin)
        event.listen(engine, "begin", _begin_immediate)
    return engine


class Case:
    """An open case folder and its database engine."""

    def __init__(self, root: Path, engine: Engine, info: dict[str, str]) -> None:
        self.root = root
        self.engine = engine
        self.info = info
        _ROOTS[engine.url.render_as_string(hide_password=False)] = root

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def db_path(self) -> Path | None:
        """The SQLite file, or None when the case lives in a database server."""
        url = make_url(self.engine.url)
        return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None

    @classmethod
    def create(
        cls,
        root: Path,
        name: str | None = None,
        examiner: str | None = None,
        database_url: str | None = None,
        scheme: str = "uk",
    ) -> Case:
        """Make a new case folder (it must be absent or empty) with a fresh schema."""
        root = root.resolve()
        if root.exists() and any(root.iterdir()):
            raise UserError(f"{root} exists and is not empty; choose a new case folder")
        info = {
            "uuid": str(uuid.uuid4()),
            "name": name or root.name,
            "examiner": examiner or _whoami(),
            "created_at": utc_now(),
            "tool_version": unseen.__version__,
            # The category scheme reviewers grade in; hash-set categories map onto it.
            "scheme": _scheme_name(scheme),
        }
        if database_url:  # checked before the folder is made: a refusal leaves nothing
            _refuse_used(database_url)
        url = database_url or f"sqlite:///{root / DB_FILE}"
        privacy.make_private_dir(root)  # before anything sensitive is written into it
        for sub in ("thumbs", "logs"):
            privacy.make_private_dir(root / sub)
        if not database_url:
            privacy.touch_private(root / DB_FILE)  # SQLite's -wal and -shm inherit its mode
        engine = make_engine(url)
        with engine.begin() as conn:
            migrations.upgrade(conn)
            conn.execute(
                insert(schema.case_info), [{"key": k, "value": v} for k, v in info.items()]
            )
        case_json = {"format": "unseen-case", "version": 1, "uuid": info["uuid"]}
        if database_url:
            case_json["database_url"] = database_url
        privacy.write_private(root / CASE_FILE, json.dumps(case_json, indent=2) + "\n")
        return cls(root, engine, info)

    @classmethod
    def open(cls, root: Path) -> Case:
        """Open an existing case, migrating its schema to this tool's head."""
        root = root.resolve()
        marker = root / CASE_FILE
        if not marker.is_file():
            raise CaseError(f"{root} is not an unseen case (no {CASE_FILE}); run 'unseen init'")
        try:
            case_json = json.loads(marker.read_text())
        except (OSError, ValueError) as exc:
            raise CaseError(f"{marker} is unreadable: {exc}") from exc
        url = case_json.get("database_url") or f"sqlite:///{root / DB_FILE}"
        engine = make_engine(url)
        with engine.begin() as conn:
            migrations.upgrade(conn)
            rows = conn.execute(select(schema.case_info.c.key, schema.case_info.c.value))
            info = {k: v for k, v in rows}
        if info.get("uuid") != case_json.get("uuid"):
            raise CaseError(f"{marker} and its database belong to different cases")
        return cls(root, engine, info)

    def close(self) -> None:
        self.engine.dispose()


def _refuse_used(url: str) -> None:
    """A new case needs an empty database: never write into another case's."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            used = migrations.current_version(conn) > 0
    finally:
        engine.dispose()
    if used:
        shown = make_url(url).render_as_string(hide_password=True)
        raise UserError(f"the database {shown} already holds a case; give an empty one")


def _scheme_name(scheme: str) -> str:
    """A built-in or installed scheme's name; a scheme file is installed first."""
    if Path(scheme).is_file():
        return install_scheme(Path(scheme))
    return load_scheme(scheme).name


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


current_user = _whoami
