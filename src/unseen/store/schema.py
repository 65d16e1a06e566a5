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
    false,
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
    # Evidence integrity: how the evidence looked when added (see
    # sources/verify.py) and, for E01, the acquisition metadata as JSON.
    Column("fingerprint", Text),
    Column("acquisition", Text),
    # The source's one expansion budget (sources/budget.py): archive members added so
    # far across all nesting, and their declared bytes.
    Column("expanded_bytes", BigInteger, nullable=False, default=0, server_default="0"),
    Column("expanded_items", BigInteger, nullable=False, default=0, server_default="0"),
    # Keys for its encrypted volumes as JSON {volume: key}; never logged or audited in
    # clear (the audit log holds their SHA-256). The case store's protection covers it.
    Column("volume_keys", Text),
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
    # The name's extension says another type than the content (a picture named .txt).
    Column("extension_mismatch", Boolean),
    # Disk images: a deleted file whose name survives; a carved item and
    # its byte offset in the disk image that holds it.
    Column("deleted", Boolean, nullable=False, default=False, server_default=false()),
    Column("carved", Boolean, nullable=False, default=False, server_default=false()),
    Column("offset", BigInteger),
    # Where in a disk image the item lies: its partition (``p2``) and shadow copy.
    Column("volume", String(64)),
    Column("snapshot", Integer),
    UniqueConstraint("source_id", "locator", name="uq_items_source_locator"),
)
Index("ix_items_status", items.c.status, items.c.id)
Index("ix_items_sha256", items.c.sha256)
Index("ix_items_md5", items.c.md5)
Index("ix_items_sha1", items.c.sha1)
# What a container holds (the item page lists a container's members).
ix_items_parent = Index("ix_items_parent", items.c.parent_id)
# Counts by type (the grid's "N items match" of pictures and videos, the dashboard).
ix_items_mime = Index("ix_items_mime", items.c.mime)

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
    # Which tag the serial came from (EXIF BodySerialNumber or a maker-note tag).
    Column("serial_source", Text),
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

# --- correlation and leads -----------------------------------------------------------

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
    # Not kept (0): the order is computed where it is read (``ix_leads_score``);
    # older cases hold a full run's ranks here, which nothing reads.
    Column("rank", Integer, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON [{signal, weight, detail}]
)
# A lead by its target, with its score: the leads page ranks each group's members by
# score from this index alone, never reading the leads' rows (their reasons text).
ix_leads_target = Index(
    "ix_leads_target_score", leads.c.target_kind, leads.c.target_id, leads.c.score
)
# The queue and the leads page's strips read leads best first (score, then target):
# in index order, never a sort of every lead of the case. The order is read from here,
# not from ``rank`` (which nothing keeps): renumbering every lead after each decision
# cost 7 s at a million items.
ix_leads_score = Index(
    "ix_leads_score", leads.c.target_kind, leads.c.score.desc(), leads.c.target_id
)

# Each ranking of the case (a correlation run, or a reviewer decision re-scoring its
# neighbourhood) with the weights it used: the provenance that makes a rank reproducible.
lead_runs = Table(
    "lead_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("cause", Text, nullable=False),  # "correlation" or "review batch ... by ..."
    Column("weights", Text, nullable=False),  # JSON, the whole weights file as used
    Column("changed", Integer, nullable=False),  # leads whose score changed
)

# Every change of a lead's score, with the reasons it gained and lost.
lead_changes = Table(
    "lead_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("lead_runs.id"), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", Integer, nullable=False),
    Column("old_score", Float),  # NULL: the lead is new
    Column("new_score", Float),  # NULL: the lead is gone
    Column("gained", Text, nullable=False),  # JSON reasons
    Column("lost", Text, nullable=False),  # JSON reasons
)
Index("ix_lead_changes_target", lead_changes.c.target_kind, lead_changes.c.target_id)

# Decisions whose groups are too big to re-score within the decision: re-scored in
# turn by a background job of the review server (``correlation.feedback.drain``).
rescore_queue = Table(
    "rescore_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("items", Text, nullable=False),  # JSON [decided item ids]
    Column("cause", Text, nullable=False),  # as the lead run will record it
    Column("settled", Integer, nullable=False),  # 1: no item entered or left "decided"
    Column("members", Integer, nullable=False),  # members of the decided items' groups
    Column("at", String(32), nullable=False),
)

# Each big group's best undecided pictures (``correlation.candidates``): the leads
# page's strips read these few rows a group instead of ranking every member.
strip_candidates = Table(
    "strip_candidates",
    metadata,
    Column("cluster_id", Integer, ForeignKey("clusters.id"), primary_key=True),
    Column("item_id", Integer, primary_key=True),  # always one of the cluster's members
)
# The groups keeping an item: what a decision or a moved lead may unsettle.
Index("ix_strip_candidates_item", strip_candidates.c.item_id)
# A kept group's floor: every undecided member with a lead that ranks at or above
# it (score, then item id) is a candidate; NULL: every such member is.
strip_floors = Table(
    "strip_floors",
    metadata,
    Column("cluster_id", Integer, ForeignKey("clusters.id"), primary_key=True),
    Column("score", Float, nullable=True),
    Column("item_id", Integer, nullable=True),
)

# Which leads each reviewer has looked at (and the score then), so the queue shows
# what is new since their last visit. Groups are keyed by kind and key, which survive
# a re-correlation; items by id.
lead_views = Table(
    "lead_views",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user", String(128), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_key", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("at", String(32), nullable=False),
)
Index("ix_lead_views_user", lead_views.c.user, lead_views.c.target_kind, lead_views.c.target_key)

# --- review --------------------------------------------------------------------------

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
    # A removed account keeps its row (and name) so audit entries stay unambiguous.
    Column("removed_at", String(32)),
)

# Failed logins per account ("user:NAME") and per client address ("addr:IP"): exponential
# back-off after a few, and an account past the limit stays locked until an admin
# unlocks it.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", Float, nullable=False),  # Unix seconds
    Column("locked_at", String(32)),  # account lockout; NULL: not locked
)

# Failed logins for names no account has: one counter row per hour, not one audit entry
# each (they would flood the log and push real entries off its page).
login_unknown = Table(
    "login_unknown",
    metadata,
    Column("window", String(32), primary_key=True),  # the hour, ISO 8601 UTC
    Column("failures", Integer, nullable=False),
    Column("names", Text, nullable=False),  # JSON: a few distinct names, truncated, escaped
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

# How far each worker of a run has got: the fast pass's items and bytes per worker,
# and when it last delivered (a distributed run shows a silent machine).
# Thumbnail reveals per review session, for the per-minute meter that every server
# process of the case shares (rows older than a few minutes are dropped).
reveal_meter = Table(
    "reveal_meter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, nullable=False),
    Column("at", Float, nullable=False),  # Unix seconds
    Column("count", Integer, nullable=False),
)
Index("ix_reveal_meter_session", reveal_meter.c.session_id, reveal_meter.c.at)

run_workers = Table(
    "run_workers",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("worker", String(256), primary_key=True),  # host:pid
    Column("items", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("first_at", Float, nullable=False),  # Unix seconds
    Column("last_at", Float, nullable=False),
)

# The one ledger of work done: which job ran on which item in which version (item 0:
# a whole-case job). A job re-runs the items whose entry carries another version.
job_done = Table(
    "job_done",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("item_id", BigInteger, primary_key=True),
    Column("version", String(64), nullable=False),
    # When (Unix seconds): how fast a job is going, for the time it has left.
    Column("at", Float),
)
Index("ix_job_done_item", job_done.c.item_id)

# Sensor noise (PRNU) of one picture: the signs of its noise residual over a square
# centre crop (``side`` px, stored orientation), packed 8 per byte; width and height
# are the picture's stored size (fingerprints only compare pictures of one size).
sensor_noise = Table(
    "sensor_noise",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("side", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bits", LargeBinary, nullable=False),
)

# Scene features of one picture (upright): a unit-length image embedding (float16),
# ORB key points (float32 x, y in a working image of long side <= 640 px) with their
# 32-byte descriptors, and a small grey copy (working size / 4, uint8) to check that
# two aligned pictures really show the same background.
scene_features = Table(
    "scene_features",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("embedding", LargeBinary, nullable=False),
    Column("turned", LargeBinary),  # portrait pictures: embeddings turned 90 and 270
    Column("points", LargeBinary, nullable=False),
    Column("descriptors", LargeBinary, nullable=False),
    Column("grey", LargeBinary, nullable=False),
    Column("grey_width", Integer, nullable=False),
    Column("grey_height", Integer, nullable=False),
)

# Faces the ``faces`` deep analyser found: box in pixels of the upright picture (EXIF
# orientation applied), detector score (dlib HOG margin, kept above 0.5), and the
# 128-d dlib ResNet embedding as little-endian float32 (512 bytes).
faces = Table(
    "faces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("x", Integer, nullable=False),
    Column("y", Integer, nullable=False),
    Column("w", Integer, nullable=False),
    Column("h", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("embedding", LargeBinary, nullable=False),
    Column("model", String(64), nullable=False),
)
Index("ix_faces_item", faces.c.item_id)

# Text the ``ocr`` deep analyser read in a picture (only pictures with readable words):
# the words as lines (newline-separated), their mean confidence (0-100), the words as
# JSON [{text, conf, box: [x, y, w, h]}] in upright-picture pixels, and the language.
ocr_text = Table(
    "ocr_text",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("words", Text, nullable=False),
    Column("lang", String(32), nullable=False),
)


# --- evidence sources: videos --------------------------------------------------------

videos = Table(
    "videos",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("duration", Float),  # seconds
    Column("video_codec", String(32)),
    Column("audio_codec", String(32)),
    Column("width", Integer),
    Column("height", Integer),
    Column("fps", Float),
    Column("frames", Integer),  # frames decoded
    Column("creation_time", String(32)),
    Column("make", Text),
    Column("model", Text),
    Column("gps_lat", Float),
    Column("gps_lon", Float),
    Column("gps_alt", Float),
    Column("contact_sheet", String(128)),  # relative to the case's thumbs/
)

# vPDQ-compatible frame hashes: one row per sampled frame.
video_frames = Table(
    "video_frames",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("frame_index", Integer, primary_key=True),
    Column("timestamp", Float, nullable=False),  # seconds: frame_index / fps
    Column("pdq", String(64), nullable=False),
    Column("quality", Integer, nullable=False),
)
Index("ix_video_frames_pdq", video_frames.c.pdq)


# --- internet artefacts ---------------------------------------------------------------

# One row per fact a parser found in an item (a visit, a download, a torrent, ...):
# the record's type, its timestamp as stored (raw + epoch name) and in UTC (sortable
# ISO text with microseconds), where in the item (record_ref) and its fields as JSON.
artefacts = Table(
    "artefacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("parser", String(64), nullable=False),
    Column("parser_version", String(16), nullable=False),
    Column("type", String(64), nullable=False),
    Column("ts_utc", String(32)),
    Column("ts_raw", String(64)),
    Column("ts_epoch", String(32)),
    Column("record_ref", Text, nullable=False),
    Column("data", Text, nullable=False),
)
Index("ix_artefacts_item", artefacts.c.item_id)
Index("ix_artefacts_type_ts", artefacts.c.type, artefacts.c.ts_utc)

# Hash signals an artefact carries (ed2k, btih, btih_v2), to match hash sets even when
# the file itself is gone.
artefact_signals = Table(
    "artefact_signals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("artefact_id", Integer, ForeignKey("artefacts.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(64), nullable=False),
)
Index("ix_artefact_signals_value", artefact_signals.c.kind, artefact_signals.c.value)
Index("ix_artefact_signals_artefact", artefact_signals.c.artefact_id)

# Which parser ran on which item and how it went: ok (records found), empty (ran,
# found nothing) or failed; item_id is null for case-wide scans (presence rules).
artefact_coverage = Table(
    "artefact_coverage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id")),
    Column("parser", String(64), nullable=False),
    Column("parser_version", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("records", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("run_at", String(32), nullable=False),
)
Index("ix_artefact_coverage_item", artefact_coverage.c.item_id)

artefact_errors = Table(
    "artefact_errors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id")),
    Column("parser", String(64), nullable=False),
    Column("message", Text, nullable=False),
)
Index("ix_artefact_errors_item", artefact_errors.c.item_id)

# ED2K of case files whose size equals a size that P2P records reference (eMule
# convention for exact chunk multiples in ed2k; the other convention in ed2k_blue).
item_ed2k = Table(
    "item_ed2k",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("ed2k", String(32)),
    Column("ed2k_blue", String(32)),
    Column("error", Text),
)
Index("ix_item_ed2k_ed2k", item_ed2k.c.ed2k)

# An artefact tied to a file present in the case: by ED2K hash, or by the SHA-1 of a
# torrent's first piece (method), with what was compared (detail).
artefact_links = Table(
    "artefact_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("artefact_id", Integer, ForeignKey("artefacts.id"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("method", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)
Index("ix_artefact_links_artefact", artefact_links.c.artefact_id)

# --- matching -------------------------------------------------------------------------

# One row per (item, hash-set version, category): the closest entry that matched,
# exact digests first. ``category`` is a code of ``set_scheme``; NULL for known-good.
matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("set_id", Integer, nullable=False),  # hashsets.id in the library
    Column("set_name", String(128), nullable=False),
    Column("set_version", Integer, nullable=False),
    Column("entry_id", Integer, nullable=False),  # entries.id in the library
    Column("entry_ref", String(64), nullable=False),  # line, record or MediaID
    Column("kind", String(16), nullable=False),  # md5 sha1 sha256 pdq pdq-dihedral video
    Column("distance", Integer, nullable=False),  # PDQ bits; 0 for exact
    Column("category", String(32)),
    Column("set_scheme", String(32), nullable=False),
    Column("known_good", Boolean, nullable=False),
    Column("frame_fraction", Float),  # video: share of usable frames within the radius
    Column("matched_at", String(32), nullable=False),
)
Index("ix_matches_item", matches.c.item_id)

# The automatic category of each matched item, in the case's scheme, with its reason.
auto_categories = Table(
    "auto_categories",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("category", String(32)),  # NULL when sets disagree or nothing maps
    Column("reason", Text, nullable=False),  # one line: sets, versions, entries, kinds
    Column("source", Text, nullable=False),  # "hashset:NAME vN[, ...]"
    Column("conflict", Boolean, nullable=False),
    Column("known_good", Boolean, nullable=False),  # only known-good matches: ignorable
    Column("decided_at", String(32), nullable=False),
)

match_runs = Table(
    "match_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("library", Text, nullable=False),  # the library folder used
    Column("sets", Text, nullable=False),  # JSON [{name, version, file_sha256, ...}]
    Column("thresholds", Text, nullable=False),  # JSON {max_distance, min_quality, ...}
    Column("transformations", Text, nullable=False),  # JSON {covered: [...], not: [...]}
    Column("stats", Text, nullable=False),  # JSON counts (matched, low quality, ...)
)

# --- phones and messages ---------------------------------------------------------------

# A phone's identity as its extraction states it (backup Info.plist, build.prop, ...).
phone_devices = Table(
    "phone_devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),  # where it was read
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("platform", String(16), nullable=False),  # ios, android
    Column("name", Text),
    Column("model", Text),
    Column("os_version", Text),
    Column("serial", Text),
    Column("imei", Text),
    Column("phone_number", Text),
    Column("details", Text, nullable=False),  # JSON of every other field read
)

# Which message parser ran on which database item, and how it went (as artefact_coverage).
msg_coverage = Table(
    "msg_coverage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("parser", String(64), nullable=False),
    Column("parser_version", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # ok, empty, failed
    Column("records", Integer, nullable=False),
    Column("errors", Text, nullable=False),  # JSON list of messages
    Column("run_at", String(32), nullable=False),
)
Index("ix_msg_coverage_item", msg_coverage.c.item_id)

# Handles per app as the database names them; owner = the phone's own account.
msg_contacts = Table(
    "msg_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),  # the database
    Column("app", String(32), nullable=False),
    Column("handle", Text, nullable=False),
    Column("name", Text),
    Column("owner", Boolean, nullable=False),
)
Index("ix_msg_contacts_item", msg_contacts.c.item_id)
Index("ix_msg_contacts_handle", msg_contacts.c.app, msg_contacts.c.handle)

msg_conversations = Table(
    "msg_conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("app", String(32), nullable=False),
    Column("key", Text, nullable=False),  # the app's chat id (JID, chat guid)
    Column("title", Text),  # group name, or the other party
    Column("is_group", Boolean, nullable=False),
    Column("record_ref", Text, nullable=False),
)
Index("ix_msg_conversations_item", msg_conversations.c.item_id)

msg_participants = Table(
    "msg_participants",
    metadata,
    Column("conversation_id", Integer, ForeignKey("msg_conversations.id"), primary_key=True),
    Column("contact_id", Integer, ForeignKey("msg_contacts.id"), primary_key=True),
)

# One message; sender_id is NULL for the owner's own messages. Times as the artefacts
# table keeps them: UTC text, the raw value and its epoch. from_wal: the row exists only
# in the database's write-ahead log (not yet checkpointed, perhaps deleted since).
messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("app", String(32), nullable=False),
    Column("conversation_id", Integer, ForeignKey("msg_conversations.id")),
    Column("sender_id", Integer, ForeignKey("msg_contacts.id")),
    Column("direction", String(16), nullable=False),  # sent, received
    Column("ts_utc", String(32)),
    Column("ts_raw", String(64)),
    Column("ts_epoch", String(32)),
    Column("text", Text),
    Column("status", String(32)),
    Column("from_wal", Boolean, nullable=False),
    Column("record_ref", Text, nullable=False),
)
Index("ix_messages_conversation", messages.c.conversation_id, messages.c.ts_utc)
Index("ix_messages_item", messages.c.item_id)

# A file a message carries: the path/hash the database holds and, when the file is in
# the case, the item it was tied to (how, in link_method). absent: nothing matched.
msg_attachments = Table(
    "msg_attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False),
    Column("ref_path", Text),
    Column("name", Text),
    Column("mime", String(128)),
    Column("size", BigInteger),
    Column("sha256", String(64)),
    Column("linked_item_id", Integer, ForeignKey("items.id")),
    Column("link_method", String(16)),  # path, sha256
    Column("absent", Boolean, nullable=False),
)
Index("ix_msg_attachments_message", msg_attachments.c.message_id)
Index("ix_msg_attachments_linked", msg_attachments.c.linked_item_id)

# Where a picture or video came from: one row per fact (captured, received, sent, saved,
# downloaded), with the contact/conversation and the database record that says so.
media_provenance = Table(
    "media_provenance",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("db_item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("app", String(32), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("contact_id", Integer, ForeignKey("msg_contacts.id")),
    Column("conversation_id", Integer, ForeignKey("msg_conversations.id")),
    Column("message_id", Integer, ForeignKey("messages.id")),
    Column("ts_utc", String(32)),
    Column("source_of_record", Text, nullable=False),
)
Index("ix_media_provenance_item", media_provenance.c.item_id)
Index("ix_media_provenance_db", media_provenance.c.db_item_id)

# Pictures and videos a phone's photo library records (iOS Photos.sqlite, Android
# MediaStore): where the file should be, how it came (captured, saved, downloaded), the
# app, hidden / recently-deleted state, and the case item it was tied to (absent: none).
media_assets = Table(
    "media_assets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("db_item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("app", String(128), nullable=False),
    Column("ref_path", Text, nullable=False),
    Column("original_name", Text),
    Column("direction", String(16), nullable=False),  # captured, saved, downloaded
    Column("ts_utc", String(32)),
    Column("hidden", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),  # in "Recently Deleted" / trashed
    Column("gps_lat", Float),
    Column("gps_lon", Float),
    Column("record_ref", Text, nullable=False),
    Column("linked_item_id", Integer, ForeignKey("items.id")),
    Column("link_method", String(16)),
    Column("absent", Boolean, nullable=False),
)
Index("ix_media_assets_db", media_assets.c.db_item_id)
Index("ix_media_assets_linked", media_assets.c.linked_item_id)

# iOS app containers of a file-system extraction: the UUID folder and the bundle or
# group id its metadata plist names (so an examiner reads "net.whatsapp.WhatsApp").
phone_apps = Table(
    "phone_apps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),  # the plist
    Column("container", Text, nullable=False),  # the container folder's display path
    Column("kind", String(16), nullable=False),  # data, bundle, group, plugin
    Column("identifier", Text, nullable=False),
)
Index("ix_phone_apps_item", phone_apps.c.item_id)
