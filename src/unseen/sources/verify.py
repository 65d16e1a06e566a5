"""Evidence integrity: fingerprints taken at ``unseen add``, checked by ``unseen verify``.

* Evidence files (archives, raw images, E01 sets): SHA-256 over the bytes of every
  segment in order, with the segment names and total size.
* Folders: a cheap fingerprint, not a tree hash: the number of regular files, their
  total size and the latest modification time (nanoseconds), from ``lstat`` without
  following links. It catches files added, removed, resized or rewritten with a new
  time, not an in-place edit that keeps size and time; every file's own hashes are
  in the case for that.
* E01: the acquisition metadata (case and evidence numbers, examiner, notes) and the
  MD5/SHA-1 stored at acquisition; ``verify`` also reads the whole media (zlib, see
  ``sources.ewfread``, or libewf) and compares its hashes with the stored ones.

Everything here only reads the evidence.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from unseen.core.errors import EvidenceError
from unseen.core.models import SourceSpec
from unseen.sources.ewf import acquisition, damage, media_stream, open_ewf
from unseen.sources.files import ewf_segments, open_readonly, raw_segments
from unseen.sources.streams import PositionalStream
from unseen.store import schema as s
from unseen.store.case import Case

CHUNK = 4 * 1024 * 1024


def segments(kind: str, path: Path) -> list[Path]:
    if kind == "ewf":
        return ewf_segments(path)
    if kind == "raw":
        return raw_segments(path)
    return [path]


def fingerprint(kind: str, path: Path) -> dict[str, Any]:
    """How the evidence at ``path`` looks now (see the module docstring)."""
    if kind == "folder":
        return _tree(path)
    digest, total = hashlib.sha256(), 0
    parts = segments(kind, path)
    for part in parts:
        with open_readonly(part) as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                total += len(chunk)
    return {
        "method": "sha256",
        "sha256": digest.hexdigest(),
        "segments": [p.name for p in parts],
        "bytes": total,
    }


def _tree(root: Path) -> dict[str, Any]:
    files = size = latest = 0
    stack = [os.fsencode(root)]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as it:
            for entry in it:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
                elif stat.S_ISREG(st.st_mode):
                    files, size = files + 1, size + st.st_size
                    latest = max(latest, st.st_mtime_ns)
    return {"method": "tree-stat", "files": files, "bytes": size, "mtime_max_ns": latest}


def ewf_acquisition(path: Path) -> dict[str, Any]:
    """The acquisition metadata of the E01 set at ``path``."""
    files = [open_readonly(p) for p in ewf_segments(path)]
    try:
        handle = open_ewf(list(files))
        try:
            return acquisition(handle)
        finally:
            handle.close()
    finally:
        for f in files:
            f.close()


def record(case: Case, spec: SourceSpec) -> dict[str, Any]:
    """Fingerprint a newly added source (and read its acquisition data) into the case."""
    path = Path(spec.path)
    values: dict[str, Any] = {"fingerprint": json.dumps(fingerprint(spec.kind, path))}
    if spec.kind == "ewf":
        try:
            values["acquisition"] = json.dumps(ewf_acquisition(path), sort_keys=True)
        except EvidenceError as exc:
            values["acquisition"] = json.dumps({"error": str(exc)})
    with case.engine.begin() as conn:
        conn.execute(update(s.sources).where(s.sources.c.id == spec.id).values(**values))
    return values


@dataclass
class Verdict:
    """The outcome of verifying one source: OK, MISMATCH or UNCHECKED, with reasons."""

    label: str
    status: str = "OK"
    notes: list[str] = field(default_factory=list)

    def fail(self, note: str) -> None:
        self.status = "MISMATCH"
        self.notes.append(note)


def verify(case: Case) -> Iterator[Verdict]:
    """Re-read every source of the case and compare it with what was recorded."""
    with case.engine.connect() as conn:
        rows = conn.execute(select(s.sources).order_by(s.sources.c.id)).all()
    for row in rows:
        yield _verify_one(row.label, row.kind, Path(row.path), row.fingerprint, row.acquisition)


def _verify_one(
    label: str, kind: str, path: Path, stored: str | None, acquired: str | None
) -> Verdict:
    verdict = Verdict(label)
    if not path.exists():
        verdict.fail(f"evidence not found at {path}")
        return verdict
    if stored is None:
        verdict.status = "UNCHECKED"
        verdict.notes.append("no fingerprint was recorded when the source was added")
    else:
        then, now = json.loads(stored), fingerprint(kind, path)
        if then == now:
            verdict.notes.append(f"{now['method']} fingerprint matches")
        else:
            changed = sorted(k for k in then.keys() | now.keys() if then.get(k) != now.get(k))
            verdict.fail(f"{then.get('method')} fingerprint differs ({', '.join(changed)})")
    if kind == "ewf":
        _verify_media(path, json.loads(acquired or "{}"), verdict)
    return verdict


def _verify_media(path: Path, acquired: dict[str, Any], verdict: Verdict) -> None:
    """Read the whole E01 media and compare it with the acquisition hashes it stores."""
    files = [open_readonly(p) for p in ewf_segments(path)]
    try:
        handle = open_ewf(list(files))
        try:
            stored = acquisition(handle)["stored_hashes"]
        finally:
            handle.close()
        media = media_stream(list(files))
        computed = _media_hashes(media)
    except (OSError, EvidenceError) as exc:
        verdict.fail(f"E01 media not readable: {exc}")
        return
    finally:
        for f in files:
            f.close()
    for problem in damage(media):
        verdict.fail(problem)
    if not stored:
        verdict.notes.append("the E01 stores no acquisition hash (media read completely)")
    for name in sorted(stored.keys() & computed.keys(), key=["md5", "sha1"].index):
        if computed[name] == stored[name]:
            verdict.notes.append(f"E01 media {name.upper()} matches the acquisition hash")
        else:
            verdict.fail(
                f"E01 media {name.upper()} {computed[name]} differs from the acquisition "
                f"hash {stored[name]}"
            )
    if acquired.get("stored_hashes") not in (None, stored):
        verdict.fail("the hashes stored in the E01 changed since the source was added")


def _media_hashes(media: PositionalStream) -> dict[str, str]:
    """MD5 and SHA-1 of the whole media of an E01."""
    md5, sha1 = hashlib.md5(), hashlib.sha1()
    media.seek(0)
    done = 0
    while chunk := media.read(CHUNK):
        md5.update(chunk)
        sha1.update(chunk)
        done += len(chunk)
    if done != media.size:
        raise OSError(f"media ends early at byte {done} of {media.size}")
    return {"md5": md5.hexdigest(), "sha1": sha1.hexdigest()}
