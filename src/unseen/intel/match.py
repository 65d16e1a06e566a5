"""Seen before: a case's items against the agency intelligence library.

Each hit is one item, one library entry and one way they meet, with a sentence an
examiner reads and the entry's provenance (which case, who promoted it, when):

* ``seen_exact``: the same bytes (SHA-256, MD5 or SHA-1) as a promoted picture;
* ``seen_near``: a picture (or a video frame) within the PDQ radius (``Settings``) of a
  promoted PDQ, turned and mirrored copies included (dihedral hashes);
* ``seen_series``: the same room as a promoted series: scene embedding cosine at least
  ``scene_groupings.MIN_COSINE`` with one of its pictures, then at least
  ``SERIES_MIN_INLIERS`` ORB features agreeing in one geometry (RANSAC homography)
  over at least ``SERIES_MIN_COVER`` of both pictures. The library keeps no pictures,
  so the case's photometric check (aligned grey copies) cannot run; the spread of
  the agreeing features stands in for it;
* ``seen_camera``: EXIF names the same camera make, model and body serial as a
  promoted device;
* ``seen_sensor``: the picture's sensor noise matches a promoted device's PRNU
  fingerprint (PCE above ``sensor.PCE_THRESHOLD``), for pictures of the fingerprint's
  size (or turned) whose EXIF does not name another camera;
* ``seen_contact``: a picture exchanged with a promoted contact (app and handle).

Bounded on a large case: at most ``CANDIDATES`` library pictures per case picture and
series, and at most ``MAX_VERIFY`` feature verifications a run, most similar first.
Expired entries never count (retention), even before the library deletes them.
Results are kept in this process for the correlation reruns of one ``process`` run:
the grouping and the item signals ask for the same answer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from unseen.core.home import library_home
from unseen.core.settings import Settings
from unseen.correlation.facts import Facts, dihedral_lists
from unseen.correlation.near import pack, pack_lists, within
from unseen.intel.schema import (
    intel_contacts,
    intel_devices,
    intel_entries,
    intel_hashes,
    intel_scenes,
)
from unseen.intel.store import DB_FILE, IntelEntry, entry_from_row, today
from unseen.matching.signals import Pdq
from unseen.store import schema as s
from unseen.store.case import make_engine

log = logging.getLogger(__name__)

MIN_COSINE = 0.70  # scene embedding: candidates only, as the scenes grouping uses
CANDIDATES = 3  # library pictures verified per case picture and series
MAX_VERIFY = 20_000  # verifications a run at most, most similar pairs first
# Without the photometric check (the case's scene grouping uses 15 inliers + aligned
# grey copies): at least 25 inliers spanning at least 25 % of the area of each
# picture's key points. Chosen on synthetic rooms 600-679 of ``unseen.demo.synth``
# against three views of room 501: different rooms reached 60 inliers in one patch
# (a poster, text) over 2.5 %, or 37 inliers over 15 %; a 75 % crop of another
# viewpoint of room 501, saved twice, 56-63 inliers over 37-45 %.
SERIES_MIN_INLIERS = 25
SERIES_MIN_COVER = 0.25
PCE_THRESHOLD = Settings().sensor_pce_threshold  # as the case's own sensor grouping

# Case tables the hits depend on beyond the facts: a change of their size (a deep pass
# or the messaging stage ran since) means the cached answer is stale.
_INPUTS = ("scene_features", "sensor_noise", "video_frames", "media_provenance")
_cache: dict[tuple[Any, ...], list[Hit]] = {}


@dataclass(frozen=True, slots=True)
class Hit:
    """One item seen before: how, in which entry, and why (a sentence)."""

    item_id: int
    signal: str
    entry: IntelEntry
    detail: str
    score: float = 1.0


def seen_before(
    facts: Facts,
    conn: Connection,
    home: Path | None = None,
    near_bits: int | None = None,
) -> list[Hit]:
    """Every hit of the case's ``facts`` in the library in ``home`` (default home); a
    picture is a copy within ``near_bits`` (default: the settings' PDQ radius), as the
    near-duplicate grouping and matching say.

    ``facts`` are walked, never held."""
    bits = Settings().pdq_radius if near_bits is None else near_bits
    path = library_home(home).expanduser() / DB_FILE
    if not path.is_file():
        return []
    content = hashlib.sha256()  # which items, with which content: the hits depend on it
    for f in facts.scan("sha256"):
        content.update(f"{f.id}:{f.sha256}\n".encode())
    if content.digest() == hashlib.sha256().digest():
        return []
    stat = path.stat()
    key = (
        str(path),
        stat.st_mtime_ns,
        stat.st_size,
        today(),
        bits,
        content.hexdigest(),
        *(_count(conn, table) for table in _INPUTS),
    )
    if key not in _cache:
        engine = make_engine(f"sqlite:///{path}")
        try:
            _cache.clear()
            _cache[key] = _match(facts, conn, engine, bits)
        except SQLAlchemyError as exc:  # an unreadable library must not stop correlation
            log.warning("intelligence library %s not read: %s", path, exc)
            return []
        finally:
            engine.dispose()
    return _cache[key]


def _count(conn: Connection, table: str) -> int:
    return int(conn.scalar(select(func.count()).select_from(s.metadata.tables[table])) or 0)


def _match(facts: Facts, case: Connection, engine: Engine, bits: int) -> list[Hit]:
    with engine.connect() as lib:
        if not inspect(lib).has_table("intel_entries"):
            return []
        entries = {
            int(r.id): entry_from_row(r._mapping)
            for r in lib.execute(
                select(intel_entries).where(intel_entries.c.retain_until >= today())
            )
        }
        if not entries:
            return []
        hits = [
            *_hash_hits(facts, case, lib, entries, bits),
            *_series_hits(facts, case, lib, entries),
            *_device_hits(facts, case, lib, entries),
            *_contact_hits(case, lib, entries),
        ]
    # A copy of one of a series' own pictures is in its room by definition: one reason
    # (the copy) per item and entry, not two for the same fact.
    copies = {(h.item_id, h.entry.id) for h in hits if h.signal in ("seen_exact", "seen_near")}
    hits = [h for h in hits if h.signal != "seen_series" or (h.item_id, h.entry.id) not in copies]
    return sorted(hits, key=lambda h: (h.item_id, h.signal, h.entry.name))


def _active(table: Any, entries: dict[int, IntelEntry]) -> Any:
    return table.c.entry_id.in_(sorted(entries))


def seen_label(entry: IntelEntry) -> str:
    """How a reason names an entry: "series 'S' from case 2025/117"."""
    kind = {"reviewed": "reviewed material", "group": "group"}.get(entry.kind, entry.kind)
    victim = f"; identified victim, record {entry.victim_ref}" if entry.victim_ref else ""
    return f"{kind} {entry.name!r} from case {entry.case_ref}{victim}"


def _category(row: Any) -> str:
    if not row.category:
        return ""
    who = f" by {row.reviewer}" if row.reviewer else ""
    return f", categorised {row.category} ({row.scheme}){who}"


def _hash_hits(
    facts: Facts,
    case: Connection,
    lib: Connection,
    entries: dict[int, IntelEntry],
    near_bits: int,
) -> Iterable[Hit]:
    h = intel_hashes
    rows = list(lib.execute(select(h).where(_active(h, entries)).order_by(h.c.id)))
    if not rows:
        return
    by_digest: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        for digest in (r.sha256, r.md5, r.sha1):
            if digest:
                by_digest[digest.lower()].append(r)
    exact: set[tuple[int, int]] = set()
    i = s.items
    for item in case.execute(select(i.c.id, i.c.md5, i.c.sha1, i.c.sha256).order_by(i.c.id)):
        if item.id not in facts:
            continue
        found = {
            r.id: r
            for d in (item.sha256, item.md5, item.sha1)
            if d
            for r in by_digest.get(d.lower(), [])
        }
        for r in sorted(found.values(), key=lambda r: r.id):
            if (item.id, r.entry_id) in exact:
                continue
            exact.add((item.id, r.entry_id))
            entry = entries[r.entry_id]
            yield Hit(
                item.id,
                "seen_exact",
                entry,
                f"identical to {r.ref} of {seen_label(entry)}{_category(r)}",
            )
    yield from _near_hits(facts, case, rows, entries, exact, near_bits)


def _near_hits(
    facts: Facts,
    case: Connection,
    rows: list[Any],
    entries: dict[int, IntelEntry],
    exact: set[tuple[int, int]],
    near_bits: int,
) -> Iterable[Hit]:
    refs = [r for r in rows if r.pdq and Pdq.is_valid(r.pdq)]
    if not refs:
        return
    codes = pack([r.pdq for r in refs])
    # Pictures' dihedral hashes packed as read (eight per picture: a tuple each held
    # about 1.5 GB at a million pictures), then video frames, each row with its owner.
    hashed = array("q")  # the pictures' ids, as their lists are read

    def pictures_read() -> Iterator[tuple[int, str | None]]:
        for f in facts.scan("pdq"):
            if f.pdq:
                hashed.append(f.id)
                yield f.id, f.pdq

    pictures, owners = pack_lists(dihedral_lists(case, pictures_read()))
    frames: list[tuple[int, str]] = []  # (item, "frame N ")
    frame_hashes: list[str] = []
    v = s.video_frames
    for item_id, index, pdq in case.execute(
        select(v.c.item_id, v.c.frame_index, v.c.pdq).order_by(v.c.item_id, v.c.frame_index)
    ):
        if item_id in facts and pdq and Pdq.is_valid(pdq):
            frames.append((int(item_id), f"frame {index} "))
            frame_hashes.append(pdq)
    queries = np.concatenate([pictures, pack(frame_hashes)])
    best: dict[tuple[int, int], tuple[int, str, Any]] = {}
    for q, j, d in within(codes, queries, near_bits):
        item_id, what = (hashed[owners[q]], "") if q < len(owners) else frames[q - len(owners)]
        ref = refs[j]
        key = (item_id, ref.entry_id)
        if key not in exact and d < best.get(key, (257, "", None))[0]:
            best[key] = (d, what, ref)
    for (item_id, entry_id), (d, what, ref) in sorted(best.items()):
        entry = entries[entry_id]
        yield Hit(
            item_id,
            "seen_near",
            entry,
            f"{what}near-duplicate (PDQ distance {d}) of {ref.ref} of {seen_label(entry)}"
            f"{_category(ref)}",
            round(1.0 - d / 256, 3),
        )


def _series_hits(
    facts: Facts, case: Connection, lib: Connection, entries: dict[int, IntelEntry]
) -> Iterable[Hit]:
    if importlib.util.find_spec("cv2") is None:
        return
    t = intel_scenes
    refs = lib.execute(select(t).where(_active(t, entries)).order_by(t.c.id)).all()
    if not refs:
        return

    library = _unit([np.frombuffer(r.embedding, dtype=np.float16) for r in refs])
    featured = case.execute(select(s.scene_features.c.item_id)).scalars()
    images = {i for i, f in facts.get(featured).items() if f.is_image}
    # (cosine, item, library row): each picture's best CANDIDATES rows per entry.
    pairs: list[tuple[float, int, int]] = []
    sf = s.scene_features
    query = select(sf.c.item_id, sf.c.embedding, sf.c.turned).order_by(sf.c.item_id)
    for item_id, embedding, turned in case.execute(query):
        if item_id not in images:
            continue
        mine = [np.frombuffer(embedding, dtype=np.float16)]
        if turned:
            mine.extend(np.frombuffer(turned, dtype=np.float16).reshape(-1, len(mine[0])))
        sims = (_unit(mine) @ library.T).max(axis=0)
        taken: dict[int, int] = defaultdict(int)
        for j in np.argsort(-sims, kind="stable"):
            if sims[j] < MIN_COSINE:
                break
            if taken[refs[j].entry_id] < CANDIDATES:
                taken[refs[j].entry_id] += 1
                pairs.append((round(float(sims[j]), 4), int(item_id), int(j)))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    best: dict[tuple[int, int], tuple[int, float, int, float]] = {}
    features = _case_features(case, sorted({i for _, i, _ in pairs[:MAX_VERIFY]}))
    for cos, item_id, j in pairs[:MAX_VERIFY]:
        key = (item_id, refs[j].entry_id)
        if key in best or item_id not in features:
            continue  # the most similar passing candidate speaks for the pair
        inliers, cover = verify(features[item_id], _features(refs[j].points, refs[j].descriptors))
        if inliers >= SERIES_MIN_INLIERS and cover >= SERIES_MIN_COVER:
            best[key] = (inliers, cover, j, cos)
    for (item_id, entry_id), (inliers, cover, j, cos) in sorted(best.items()):
        entry = entries[entry_id]
        yield Hit(
            item_id,
            "seen_series",
            entry,
            f"same room as {seen_label(entry)}: {inliers} features agree in one geometry "
            f"over {cover:.0%} of the picture with its {refs[j].ref} "
            f"(embedding cosine {cos:.2f})",
            cos,
        )


def _case_features(case: Connection, ids: list[int]) -> dict[int, Any]:
    sf = s.scene_features
    found: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        query = select(sf.c.item_id, sf.c.points, sf.c.descriptors).where(
            sf.c.item_id.in_(ids[start : start + 500])
        )
        for item_id, points, descriptors in case.execute(query):
            found[int(item_id)] = _features(points, descriptors)
    return found


def verify(a: Any, b: Any) -> tuple[int, float]:
    """RANSAC inliers between two pictures' ORB features, and how much of each picture
    they span (the smaller share: convex hull of the inliers over that of all points).

    Posters and printed text repeat between different rooms and give many inliers in
    one small patch; the same room agrees over a large part of the picture.
    """
    import cv2

    from unseen.correlation import scene

    if len(a.descriptors) < SERIES_MIN_INLIERS or len(b.descriptors) < SERIES_MIN_INLIERS:
        return 0, 0.0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < scene.RATIO * p[1].distance]
    if len(good) < SERIES_MIN_INLIERS:
        return 0, 0.0
    src = a.points[[g.queryIdx for g in good]]
    dst = b.points[[g.trainIdx for g in good]]
    homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, scene.RANSAC_PX)
    if homography is None or mask is None:
        return 0, 0.0
    keep = mask.ravel().astype(bool)
    return int(keep.sum()), round(min(_cover(src[keep], a.points), _cover(dst[keep], b.points)), 3)


def _cover(inliers: np.ndarray, points: np.ndarray) -> float:
    import cv2

    if len(inliers) < 3 or len(points) < 3:
        return 0.0
    whole = cv2.contourArea(cv2.convexHull(points.astype(np.float32)))
    part = cv2.contourArea(cv2.convexHull(inliers.astype(np.float32)))
    return float(part / whole) if whole > 0 else 0.0


def _unit(rows: list[np.ndarray]) -> np.ndarray:
    vectors = np.stack(rows).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def _features(points: bytes, descriptors: bytes) -> Any:
    from unseen.correlation import scene

    # No grey copy in the library: a 1 x 1 stand-in leaves the photometric check out.
    return scene.Features(
        np.frombuffer(points, dtype=np.float32).reshape(-1, 2),
        np.frombuffer(descriptors, dtype=np.uint8).reshape(-1, 32),
        np.zeros((1, 1), dtype=np.uint8),
    )


def _device_hits(
    facts: Facts, case: Connection, lib: Connection, entries: dict[int, IntelEntry]
) -> Iterable[Hit]:
    t = intel_devices
    devices = lib.execute(select(t).where(_active(t, entries)).order_by(t.c.id)).all()
    bodies = [d for d in devices if d.camera and d.serial]
    taken: dict[tuple[str, str], list[int]] = {(d.camera, d.serial): [] for d in bodies}
    if taken:  # one walk for every body: the items each took, in id order
        for f in facts.scan("make", "model", "serial"):
            found = taken.get((f.camera or "", (f.serial or "").strip()))
            if found is not None:
                found.append(f.id)
    serial_hits: set[int] = set()
    for d in bodies:
        entry = entries[d.entry_id]
        for item_id in taken[(d.camera, d.serial)]:
            serial_hits.add(item_id)
            yield Hit(
                item_id,
                "seen_camera",
                entry,
                f"camera {d.camera} serial {d.serial} seen before: {seen_label(entry)}",
            )
    printed = [d for d in devices if d.fingerprint and d.side]
    if printed and _has_pywt():
        yield from _sensor_hits(facts, case, printed, entries, serial_hits)


def _has_pywt() -> bool:
    return importlib.util.find_spec("pywt") is not None


def _sensor_hits(
    facts: Facts,
    case: Connection,
    devices: list[Any],
    entries: dict[int, IntelEntry],
    skip: set[int],
) -> Iterable[Hit]:
    from unseen.correlation import prnu

    n = s.sensor_noise
    noise = case.execute(select(n).order_by(n.c.item_id)).all()
    by_id = facts.get(int(row.item_id) for row in noise)
    for d in devices:
        matcher = prnu.Matcher(
            np.frombuffer(d.fingerprint, dtype=np.float16)
            .reshape(d.side, d.side)
            .astype(np.float32)
        )
        entry = entries[d.entry_id]
        for row in noise:
            f = by_id.get(int(row.item_id))
            if f is None or f.id in skip or row.side != d.side:
                continue
            if f.camera and f.camera != d.camera:  # EXIF names another camera
                continue
            if (row.width, row.height) not in ((d.width, d.height), (d.height, d.width)):
                continue
            turned = (row.width, row.height) != (d.width, d.height)
            pce, _turns = matcher.best_pce(prnu.signs(bytes(row.bits), row.side), turned)
            if pce > PCE_THRESHOLD:
                yield Hit(
                    f.id,
                    "seen_sensor",
                    entry,
                    f"sensor noise matches {d.camera} serial {d.serial or 'unknown'} "
                    f"(PCE {pce:.0f} > {PCE_THRESHOLD:g}): {seen_label(entry)}",
                )


def _contact_hits(
    case: Connection, lib: Connection, entries: dict[int, IntelEntry]
) -> Iterable[Hit]:
    """Pictures exchanged with a promoted contact (the messaging stage's facts)."""
    t = intel_contacts
    promoted: dict[str, list[int]] = defaultdict(list)
    for r in lib.execute(select(t).where(_active(t, entries)).order_by(t.c.id)):
        promoted[f"{r.app}|{r.handle}"].append(int(r.entry_id))
    if not promoted:
        return
    from unseen.phones.facts import exchanges

    seen: set[tuple[int, int]] = set()
    for e in exchanges(case):
        for entry_id in promoted.get(e.contact_key or "", []):
            if (e.item_id, entry_id) in seen:
                continue
            seen.add((e.item_id, entry_id))
            entry = entries[entry_id]
            verb = "sent to" if e.direction == "sent" else "received from"
            yield Hit(
                e.item_id,
                "seen_contact",
                entry,
                f"{verb} contact {e.contact_label} ({e.app}), seen before: {seen_label(entry)}",
            )
