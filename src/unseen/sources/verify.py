"""Evidence integrity: fingerprints taken at ``unseen add``, checked by ``unseen verify``.

* Evidence files (archives, raw images, E01 sets): SHA-256 over the bytes of every
  segment in order, with the segment names and total size.
* Folders: a fingerprint of the tree as ``lstat`` sees it, links never followed: every
  name, its type (file, folder, link, other), size and modification time, and where
  each symbolic link points, hashed per folder (``tree`` method). It catches files
  added, removed, renamed, resized or rewritten with a new time, and a folder swapped
  for a link (the review server would otherwise serve what the link points to); not
  an in-place edit that keeps size and time: every file's own hashes are in the case
  for that. Cases fingerprinted before keep their ``tree-stat`` method (counts, bytes
  and latest time only) until the source is added again.
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
from unseen.sources.files import ewf_segments, raw_segments
from unseen.sources.streams import PositionalStream, open_readonly
from unseen.store import schema as s
from unseen.store.case import Case

CHUNK = 4 * 1024 * 1024


def segments(kind: str, path: Path) -> list[Path]:
    if kind == "ewf":
        return ewf_segments(path)
    if kind == "raw":
        return raw_segments(path)
    if kind == "vdisk":
        from unseen.sources.vdisk import evidence_files

        return evidence_files(path)
    return [path]


def fingerprint(kind: str, path: Path, method: str = "tree") -> dict[str, Any]:
    """How the evidence at ``path`` looks now (see the module docstring); folders by
    ``method`` (the one recorded, when checking)."""
    if kind == "folder" or path.is_dir():  # folder-like sources (a phone backup) too
        return _tree_stat(path) if method == "tree-stat" else _tree(path)
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


_TYPE = {stat.S_IFREG: "file", stat.S_IFDIR: "folder", stat.S_IFLNK: "link"}


def _tree(root: Path) -> dict[str, Any]:
    """Names, types, sizes, times and link targets, hashed folder by folder."""
    files = size = latest = 0
    folders: dict[str, str] = {}
    whole = hashlib.sha256()
    stack = [b""]
    base = os.fsencode(root)
    while stack:
        rel = stack.pop()
        lines = []
        with os.scandir(os.path.join(base, rel) if rel else base) as it:
            for entry in sorted(it, key=lambda e: e.name):
                st = entry.stat(follow_symlinks=False)
                kind = _TYPE.get(stat.S_IFMT(st.st_mode), "other")
                name = os.path.join(rel, entry.name) if rel else entry.name
                line = [name.hex(), kind, str(st.st_size), str(st.st_mtime_ns)]
                if kind == "link":
                    line.append(os.readlink(entry.path).hex())
                elif kind == "folder":
                    line[2:] = []  # a folder's size and time follow its contents
                    stack.append(name)
                elif kind == "file":
                    files, size = files + 1, size + st.st_size
                    latest = max(latest, st.st_mtime_ns)
                lines.append(" ".join(line))
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        folders[_shown(rel)] = digest
        whole.update(f"{_shown(rel)}\0{digest}\n".encode())
    return {
        "method": "tree",
        "files": files,
        "bytes": size,
        "mtime_max_ns": latest,
        "sha256": whole.hexdigest(),
        "folders": folders,
    }


def _shown(rel: bytes) -> str:
    return os.fsdecode(rel) or "."


def tree_changes(root: Path, then: dict[str, str], now: dict[str, str]) -> list[str]:
    """What changed between two ``tree`` fingerprints, folder by folder, in words."""
    notes = []
    for folder in sorted(then.keys() | now.keys()):
        if folder not in now:
            notes.append(f"folder {folder!r} {_what_now(root / folder)}")
        elif folder not in then:
            notes.append(f"folder {folder!r} is new")
        elif then[folder] != now[folder]:
            notes.append(
                f"folder {folder!r}: entries added, removed or changed (names, types, "
                "sizes, times or link targets)"
            )
    return notes


def _what_now(path: Path) -> str:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "is gone"
    if stat.S_ISLNK(st.st_mode):
        return f"is now a symbolic link to {os.readlink(path)!r}"
    return f"is now a {_TYPE.get(stat.S_IFMT(st.st_mode), 'special file')}"


def _tree_stat(root: Path) -> dict[str, Any]:
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
        then = json.loads(stored)
        now = fingerprint(kind, path, then.get("method", ""))
        if then == now:
            verdict.notes.append(f"{now['method']} fingerprint matches")
        else:
            changed = sorted(k for k in then.keys() | now.keys() if then.get(k) != now.get(k))
            verdict.fail(f"{then.get('method')} fingerprint differs ({', '.join(changed)})")
            if then.get("method") == "tree":
                for note in tree_changes(path, then["folders"], now["folders"]):
                    verdict.fail(note)
        if then.get("method") == "tree-stat":
            verdict.notes.append(
                "older folder fingerprint: names and links not covered (add the source "
                "again for a full one)"
            )
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
