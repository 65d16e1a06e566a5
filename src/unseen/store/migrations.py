"""Numbered schema migrations.

A new case gets the head schema from ``schema.metadata`` and is stamped with the
latest version; an existing case runs, in order, every migration newer than its
version. To change the schema: edit ``schema.py`` and append a migration here that
brings a database of the previous version to the new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.schema import CreateColumn

from unseen.core.errors import CaseError
from unseen.core.jobs import JOBS
from unseen.core.timeconv import utc_now
from unseen.store import schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[Connection], None]


def _initial(conn: Connection) -> None:
    """Version 1 is the first schema; new cases are created from head directly."""


def _create(conn: Connection, *tables: Table) -> None:
    """Create the given head-schema tables where they are missing (safe to rerun)."""
    for table in tables:
        table.create(conn, checkfirst=True)


def _add_column(conn: Connection, table: Table, name: str) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for a column of the head schema, if missing."""
    if name in {c["name"] for c in inspect(conn).get_columns(table.name)}:
        return
    spec = CreateColumn(table.c[name]).compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {spec}"))


def _sources(conn: Connection) -> None:
    """Evidence sources: deleted/carved items, source fingerprints, videos and frame hashes."""
    for name in ("deleted", "carved", "offset"):
        _add_column(conn, schema.items, name)
    for name in ("fingerprint", "acquisition"):
        _add_column(conn, schema.sources, name)
    _create(conn, schema.videos, schema.video_frames)


# The deep analysers' own ledger before the one ledger (``job_done``) replaced it.
_DEEP_DONE = Table(
    "deep_done",
    MetaData(),
    Column("item_id", Integer, primary_key=True),
    Column("analyser", String(64), primary_key=True),
    Column("version", String(16), nullable=False),
)


def _correlation(conn: Connection) -> None:
    _create(
        conn,
        schema.clusters,
        schema.cluster_members,
        schema.first_generation,
        schema.leads,
        _DEEP_DONE,
        schema.sensor_noise,
        schema.scene_features,
        schema.faces,
        schema.ocr_text,
    )


def _matching(conn: Connection) -> None:
    """Hash-set matches, automatic categories and the runs that made them."""
    _create(conn, schema.matches, schema.auto_categories, schema.match_runs)


def _internet(conn: Connection) -> None:
    """Internet artefacts, their signals, coverage, errors and file links."""
    _create(
        conn,
        schema.artefacts,
        schema.artefact_signals,
        schema.artefact_coverage,
        schema.artefact_errors,
        schema.item_ed2k,
        schema.artefact_links,
    )


def _review(conn: Connection) -> None:
    _create(
        conn,
        schema.users,
        schema.review_sessions,
        schema.reviews,
        schema.review_state,
        schema.audit_log,
        schema.exposure,
    )
    index = next(ix for ix in schema.items.indexes if ix.name == "ix_items_path")
    index.create(conn, checkfirst=True)


def _extension_mismatch(conn: Connection) -> None:
    _add_column(conn, schema.items, "extension_mismatch")


def _lead_views(conn: Connection) -> None:
    """Each reviewer's "looked at" marks on leads."""
    _create(conn, schema.lead_views)


def _lead_history(conn: Connection) -> None:
    """Leads learn from decisions: each ranking's weights and every score change."""
    _create(conn, schema.lead_runs, schema.lead_changes)


def _phones(conn: Connection) -> None:
    """Phones and messages: devices, contacts, conversations, messages, provenance."""
    _create(
        conn,
        schema.phone_devices,
        schema.msg_coverage,
        schema.msg_contacts,
        schema.msg_conversations,
        schema.msg_participants,
        schema.messages,
        schema.msg_attachments,
        schema.media_provenance,
        schema.media_assets,
        schema.phone_apps,
    )


def _expansion_budget(conn: Connection) -> None:
    """Evidence layer: one expansion budget per source, kept across runs; keys for
    encrypted volumes; the partition and shadow copy of each item (NULL in older cases,
    as their export always had them)."""
    for name in ("expanded_bytes", "expanded_items", "volume_keys"):
        _add_column(conn, schema.sources, name)
    for name in ("volume", "snapshot"):
        _add_column(conn, schema.items, name)


def _review_hardening(conn: Connection) -> None:
    """Login throttling and lockout; accounts can be removed (kept, marked)."""
    _create(conn, schema.login_throttle, schema.login_unknown)
    _add_column(conn, schema.users, "removed_at")


def _fidelity(conn: Connection) -> None:
    """Which tag each camera serial came from (EXIF or a maker note)."""
    _add_column(conn, schema.exif, "serial_source")


def _one_ledger(conn: Connection) -> None:
    """One ledger of work done, ``job_done``, filled from the three it replaces: the
    fast pass's analyser names per item (versions from their run), the deep analysers'
    ``deep_done`` (dropped) and the parsers' coverage rows (kept: they are the
    coverage report's record of how each parse went). Read a page of items at a time
    (a case may hold millions); the others are copied by the database itself."""
    _create(conn, schema.job_done)
    d = schema.job_done
    tables = set(inspect(conn).get_table_names())
    if "deep_done" in tables:
        conn.execute(insert(d).from_select(["item_id", "job", "version"], select(_DEEP_DONE)))
        _DEEP_DONE.drop(conn)
    for table in (schema.artefact_coverage, schema.msg_coverage):
        if table.name in tables:  # the phones tables come with a later migration
            whole = func.coalesce(table.c.item_id, 0)  # case-wide scans: item 0
            pairs = select(table.c.parser, whole, func.max(table.c.parser_version))
            pairs = pairs.group_by(table.c.parser, whole)
            conn.execute(insert(d).from_select(["job", "item_id", "version"], pairs))
    runs = {
        r.id: json.loads(r.analysers or "{}")
        for r in conn.execute(select(schema.runs.c.id, schema.runs.c.analysers))
    }
    i, after = schema.items, 0
    ran = and_(i.c.analysers.is_not(None), i.c.analysers != "")
    while page := conn.execute(
        select(i.c.id, i.c.run_id, i.c.analysers)
        .where(ran, i.c.id > after)
        .order_by(i.c.id)
        .limit(5000)
    ).all():
        rows = [
            {"job": name, "item_id": item_id, "version": runs.get(run_id, {}).get(name, "?")}
            for item_id, run_id, names in page
            for name in dict.fromkeys(names.split(","))
        ]
        conn.execute(insert(d), rows)
        after = page[-1].id


def _ledger_times(conn: Connection) -> None:
    """When each ledger entry was made: the rate of a running job, and its time left."""
    _add_column(conn, schema.job_done, "at")


def _review_indexes(conn: Connection) -> None:
    """Indexes of items by container and by type, so a container's page lists its
    members and the grid counts its pictures without reading every item's row."""
    schema.ix_items_parent.create(conn, checkfirst=True)
    schema.ix_items_mime.create(conn, checkfirst=True)


def _run_workers(conn: Connection) -> None:
    """Per-worker progress of each run (items, bytes, last delivery)."""
    _create(conn, schema.run_workers)


def _lead_order(conn: Connection) -> None:
    """An index of leads in rank order, so the queue and its strips read the best
    leads first instead of sorting every lead of the case."""
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_leads_rank ON leads (target_kind, rank)"))


def _lead_scores_by_target(conn: Connection) -> None:
    """The index of leads by target also holds the score (it replaces the one without),
    so the leads page ranks a group's members without reading each lead's row."""
    conn.execute(text("DROP INDEX IF EXISTS ix_leads_target"))
    schema.ix_leads_target.create(conn, checkfirst=True)


def _lead_order_by_score(conn: Connection) -> None:
    """Leads best first by score, then target (replaces the index by stored rank): a
    decision no longer renumbers every lead of the case, readers order by score."""
    conn.execute(text("DROP INDEX IF EXISTS ix_leads_rank"))
    schema.ix_leads_score.create(conn, checkfirst=True)


def _rescore_queue(conn: Connection) -> None:
    """Decisions on big groups re-scored in the background, in turn."""
    _create(conn, schema.rescore_queue)


def _reveal_meter(conn: Connection) -> None:
    """The thumbnail reveal meter in the database: one count over every server process."""
    _create(conn, schema.reveal_meter)


def _strip_candidates(conn: Connection) -> None:
    """Each big group's best undecided pictures, for the leads page's strips. An
    upgraded case has none until correlation runs or the page ranks a group."""
    _create(conn, schema.strip_candidates, schema.strip_floors)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", _initial),
    Migration(2, "sources", _sources),
    Migration(3, "matching", _matching),
    Migration(4, "internet", _internet),
    Migration(5, "review", _review),
    Migration(6, "correlation", _correlation),
    Migration(7, "extension mismatch", _extension_mismatch),
    Migration(8, "lead history", _lead_history),
    Migration(15, "lead views", _lead_views),
    Migration(9, "review hardening", _review_hardening),
    Migration(14, "phones and messages", _phones),
    Migration(11, "expansion budget", _expansion_budget),
    Migration(10, "fidelity", _fidelity),
    Migration(12, "one ledger", _one_ledger),
    Migration(13, "ledger times", _ledger_times),
    Migration(16, "review indexes", _review_indexes),
    Migration(17, "run workers", _run_workers),
    Migration(19, "reveal meter", _reveal_meter),
    Migration(20, "lead order", _lead_order),
    Migration(21, "lead scores by target", _lead_scores_by_target),
    Migration(22, "rescore queue", _rescore_queue),
    Migration(23, "lead order by score", _lead_order_by_score),
    Migration(24, "strip candidates", _strip_candidates),
)
HEAD = max(m.version for m in MIGRATIONS)


def applied(conn: Connection) -> set[int]:
    """The migration versions a case database has had applied (empty when new)."""
    if not inspect(conn).has_table("schema_migrations"):
        return set()
    return set(conn.execute(select(schema.schema_migrations.c.version)).scalars())


def current_version(conn: Connection) -> int:
    """The schema version of a case database, 0 when it is empty."""
    return max(applied(conn), default=0)


def upgrade(conn: Connection) -> int:
    """Create or migrate the schema to head inside the caller's transaction, and the
    tables of every registered job that owns some (a plugin's, installed after the
    case was made)."""
    version = _upgrade(conn)
    for job in JOBS:
        _create(conn, *job.TABLES)
    return version


def _upgrade(conn: Connection) -> int:
    version = current_version(conn)
    if version > HEAD:
        raise CaseError(
            f"the case database has schema version {version}, newer than this tool's {HEAD}"
        )
    if version == 0:
        schema.metadata.create_all(conn)
        _stamp(conn, MIGRATIONS)
        return HEAD
    # Every migration not yet applied, in version order (not only those above the
    # highest applied: migrations written on parallel branches may land out of order).
    done = applied(conn)
    pending = sorted((m for m in MIGRATIONS if m.version not in done), key=lambda m: m.version)
    for migration in pending:
        migration.upgrade(conn)
    _stamp(conn, pending)
    return HEAD


def _stamp(conn: Connection, done: list[Migration] | tuple[Migration, ...]) -> None:
    now = utc_now()
    for m in done:
        conn.execute(
            insert(schema.schema_migrations).values(version=m.version, name=m.name, applied_at=now)
        )
