"""Schema of the agency intelligence library: ``intel.db`` beside the hash-set library.

What one case confirmed and an admin promoted for every later case to see: reviewed
pictures (hashes, PDQ, video frame PDQs), series (scene embeddings and local features
of their pictures, never the pictures), camera bodies (serial, PRNU fingerprint),
contact handles and identified-victim references (opaque: the agency's record number,
never a name). Each promotion is one *entry* with its case reference, who promoted
it, who reviewed, when, and the date it must be deleted by (retention).

A separate file from ``library.db``: hash sets are imported from outside and
versioned; intelligence is promoted from cases and expires, and keeping the two
apart lets either be copied, backed up or purged on its own.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

intel_metadata = MetaData()

# One promoted (or imported) entry: a series, a device, a set of reviewed pictures...
intel_entries = Table(
    "intel_entries",
    intel_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # reviewed, series, device, contact, group
    Column("case_ref", Text, nullable=False),  # the case's name as examiners cite it
    Column("case_uuid", String(64), nullable=False),
    Column("cluster", Text),  # "scene 12: scene of DCIM/IMG_0001.JPG" when from a cluster
    Column("promoted_by", String(256), nullable=False),
    Column("promoted_at", String(32), nullable=False),
    Column("reviewers", Text, nullable=False),  # JSON list of the reviewers whose work it is
    Column("retain_until", String(10), nullable=False),  # YYYY-MM-DD, deleted after it
    Column("victim_ref", Text),  # opaque reference to an identified victim's record
    # "promoted" or "imported from AGENCY (key fingerprint ...)".
    Column("origin", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON: what the entry holds, in numbers
)
Index("ix_intel_entries_name", intel_entries.c.name, unique=True)

# Pictures and video frames: exact hashes and PDQ with the reviewer's category.
intel_hashes = Table(
    "intel_hashes",
    intel_metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("intel_entries.id"), nullable=False),
    Column("ref", String(64), nullable=False),  # "item 42" or "item 42 frame 3" in its case
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("scheme", String(32)),
    Column("category", String(32)),
    Column("reviewer", String(128)),
)
Index("ix_intel_hashes_entry", intel_hashes.c.entry_id)
Index("ix_intel_hashes_sha256", intel_hashes.c.sha256)
Index("ix_intel_hashes_md5", intel_hashes.c.md5)

# A series' pictures as the scene matcher needs them: embedding and ORB features only.
intel_scenes = Table(
    "intel_scenes",
    intel_metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("intel_entries.id"), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("embedding", LargeBinary, nullable=False),  # float16, unit length
    Column("points", LargeBinary, nullable=False),  # float32 (n, 2)
    Column("descriptors", LargeBinary, nullable=False),  # uint8 (n, 32)
)
Index("ix_intel_scenes_entry", intel_scenes.c.entry_id)

# A camera body: its EXIF identity and, where the case had enough originals, its PRNU.
intel_devices = Table(
    "intel_devices",
    intel_metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("intel_entries.id"), nullable=False),
    Column("camera", Text),  # "Canon EOS 80D" as EXIF make + model
    Column("serial", Text),
    Column("width", Integer),  # the originals' stored size the fingerprint is valid for
    Column("height", Integer),
    Column("side", Integer),  # centre-crop side of the fingerprint
    Column("fingerprint", LargeBinary),  # float16 (side, side)
    Column("originals", Integer),  # how many originals it was averaged from
)
Index("ix_intel_devices_entry", intel_devices.c.entry_id)

# Contact handles (messaging accounts) a case tied to the material.
intel_contacts = Table(
    "intel_contacts",
    intel_metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("intel_entries.id"), nullable=False),
    Column("app", String(32), nullable=False),
    Column("handle", Text, nullable=False),
)
Index("ix_intel_contacts_handle", intel_contacts.c.app, intel_contacts.c.handle)

# The library's own audit trail: promotions, imports, removals, expiries. Entries are
# deleted whole when they expire, so this log is what remains to show they existed.
intel_audit = Table(
    "intel_audit",
    intel_metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("user", String(256), nullable=False),
    Column("action", String(16), nullable=False),  # promote, import, remove, expire
    Column("name", String(128), nullable=False),
    Column("details", Text, nullable=False),  # JSON
)
