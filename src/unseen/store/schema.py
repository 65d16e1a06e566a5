"""The case database schema (head version), in SQLAlchemy Core so SQLite and
PostgreSQL both serve it. Change it only together with a numbered migration."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

case_info = Table(
    "case_info",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("applied_at", String(32), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(256), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("path", Text, nullable=False),
    Column("added_by", String(256), nullable=False),
    Column("added_at", String(32), nullable=False),
    # Set once enumeration has listed every entry; until then a rerun lists again.
    Column("enumerated", Boolean, nullable=False, default=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("tool_version", String(32), nullable=False),
    Column("examiner", String(256)),
    Column("workers", Integer, nullable=False),
    # JSON: {analyser name: version} and the Settings used.
    Column("analysers", Text, nullable=False),
    Column("settings", Text, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("parent_id", Integer, ForeignKey("items.id")),
    Column("path", Text, nullable=False),
    Column("locator", LargeBinary, nullable=False),
    Column("kind", String(16), nullable=False),
    # Sizes and claimed dimensions can pass 2**31 (PostgreSQL INTEGER is 32-bit).
    Column("size", BigInteger),
    Column("mtime", Float),
    Column("atime", Float),
    Column("ctime", Float),
    Column("link_target", Text),
    # pending -> done; done means a result (possibly only errors) was written.
    Column("status", String(16), nullable=False, default="pending"),
    Column("run_id", Integer, ForeignKey("runs.id")),
    # Comma-separated names of the analysers that ran on this item (versions in runs).
    Column("analysers", Text),
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64)),
    Column("mime", String(128)),
    UniqueConstraint("source_id", "locator", name="uq_items_source_locator"),
)
Index("ix_items_status", items.c.status, items.c.id)
Index("ix_items_sha256", items.c.sha256)
Index("ix_items_md5", items.c.md5)
Index("ix_items_sha1", items.c.sha1)

images = Table(
    "images",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("format", String(16)),
    Column("mode", String(16)),
    Column("width", BigInteger),
    Column("height", BigInteger),
    Column("frames", Integer),
    Column("pdq", String(64)),
    Column("pdq_quality", Integer),
    Column("pdq_dihedral", Text),
    Column("pdq_policy", String(32)),
    Column("jpeg_qtables", String(64)),
    Column("jpeg_quality", Integer),
    Column("thumbnail", String(128)),
)
Index("ix_images_pdq", images.c.pdq)

exif = Table(
    "exif",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("make", Text),
    Column("model", Text),
    Column("serial", Text),
    Column("lens", Text),
    Column("software", Text),
    Column("datetime_original", String(32)),
    Column("gps_lat", Float),
    Column("gps_lon", Float),
    Column("gps_alt", Float),
    Column("orientation", Integer),
    Column("thumbnail", Boolean, nullable=False, default=False),
)

item_errors = Table(
    "item_errors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("analyser", String(64), nullable=False),
    Column("message", Text, nullable=False),
)
Index("ix_item_errors_item", item_errors.c.item_id)

# --- correlation and leads (issue 5) -------------------------------------------------

clusters = Table(
    "clusters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # camera, place, session, scene, ...
    Column("key", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("size", Integer, nullable=False),
    Column("details", Text, nullable=False),  # JSON
)
Index("ix_clusters_kind", clusters.c.kind)

cluster_members = Table(
    "cluster_members",
    metadata,
    Column("cluster_id", Integer, ForeignKey("clusters.id"), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("score", Float, nullable=False),
)
Index("ix_cluster_members_item", cluster_members.c.item_id)

first_generation = Table(
    "first_generation",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON [{signal, weight, detail}]
)

leads = Table(
    "leads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target_kind", String(16), nullable=False),  # item or cluster
    Column("target_id", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("rank", Integer, nullable=False),  # 1 = look first, per target kind
    Column("reasons", Text, nullable=False),  # JSON [{signal, weight, detail}]
)
Index("ix_leads_target", leads.c.target_kind, leads.c.target_id)

# --- review (issue 6) ----------------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # admin, examiner, reviewer, read-only
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("blur_px", Integer, nullable=False, default=16),  # the reviewer's own blur
)

# Server-side sessions: the cookie holds a random token, the table only its SHA-256.
review_sessions = Table(
    "review_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_seen", Float, nullable=False),  # Unix seconds, for the idle timeout
    Column("ended_at", String(32)),  # logout, idle timeout or revocation
    Column("break_mark", Integer, nullable=False, default=0),  # exposure id at last break
)

# Append-only reviewer decisions; an undo is a row whose ``undoes`` names the reverted one.
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("scheme", String(64), nullable=False),
    Column("category", String(32)),  # code in the scheme; NULL on undo rows
    Column("user", String(128), nullable=False),
    Column("at", String(32), nullable=False),
    Column("batch_id", String(32), nullable=False),  # one per action (single or bulk)
    Column("undoes", Integer, ForeignKey("reviews.id")),
)
Index("ix_reviews_item", reviews.c.item_id, reviews.c.id)
Index("ix_reviews_batch", reviews.c.batch_id)

# Derived from ``reviews`` in the same transaction: each item's effective reviewer
# category (its latest review not undone), so filters and counts need no scan.
review_state = Table(
    "review_state",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("user", String(128), nullable=False),
    Column("at", String(32), nullable=False),
)
Index("ix_review_state_category", review_state.c.category, review_state.c.item_id)

# Hash chain: hash = SHA-256 of the canonical entry including prev_hash.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("user", String(256), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", Text, nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON object
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row per reveal (a held thumbnail or an opened full-size medium).
exposure = Table(
    "exposure",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("review_sessions.id"), nullable=False),
    Column("user", String(128), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id")),
    Column("kind", String(16), nullable=False),  # thumb, full
    Column("at", String(32), nullable=False),
    Column("duration_ms", Integer, nullable=False),
)
Index("ix_exposure_session", exposure.c.session_id, exposure.c.id)
Index("ix_items_path", items.c.path, items.c.id)

deep_done = Table(
    "deep_done",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("analyser", String(64), primary_key=True),
    Column("version", String(16), nullable=False),
)
