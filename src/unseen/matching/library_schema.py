"""Schema of the hash-set library, shared by all cases (one SQLite file per library).

The library lives in ``$UNSEEN_HOME`` (default: the user's data directory,
``~/.local/share/unseen``) as ``library.db``, beside ``indexes/`` (cached FAISS
indexes, one per hash-set version, with a digest manifest; never pickles).

A hash set is imported as a new *version* of its name: entries are never edited in
place, so every match can name the exact set version and entry that produced it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

library_metadata = MetaData()

hashsets = Table(
    "hashsets",
    library_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, ... per name
    Column("imported_at", String(32), nullable=False),
    Column("imported_by", String(256), nullable=False),
    Column("source_file", Text, nullable=False),  # the file's name as given
    Column("file_sha256", String(64), nullable=False),  # digest of the imported file
    Column("format", String(16), nullable=False),  # vics, icse, nsrl, csv, md5list
    Column("scheme", String(32), nullable=False),  # category scheme of its categories
    Column("profile", String(32)),  # VICS profile (US, UK, CUSTOM, Default) if any
    Column("known_good", Boolean, nullable=False, default=False),  # NSRL-like sets
    Column("entries", Integer, nullable=False, default=0),
    # importing -> ready; a failed import is deleted whole, never left half-imported.
    Column("status", String(16), nullable=False, default="importing"),
    Column("removed_at", String(32)),
)
Index("ix_hashsets_name_version", hashsets.c.name, hashsets.c.version, unique=True)

entries = Table(
    "entries",
    library_metadata,
    Column("id", Integer, primary_key=True),
    Column("set_id", Integer, ForeignKey("hashsets.id"), nullable=False),
    # Where the entry came from in the file: line number, record number or MediaID.
    Column("ref", String(64), nullable=False),
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("ed2k", String(32)),
    # Category code in the set's scheme (e.g. "A", "CAT-1"); None for known-good sets.
    Column("category", String(32)),
    Column("series", Text),
    Column("extra", Text),  # JSON of other fields worth keeping (VictimIdentified, ...)
)
Index("ix_entries_md5", entries.c.md5)
Index("ix_entries_sha1", entries.c.sha1)
Index("ix_entries_sha256", entries.c.sha256)
Index("ix_entries_set", entries.c.set_id)
