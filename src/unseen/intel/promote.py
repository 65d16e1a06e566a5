"""Promotion: an admin's explicit act that copies what a case confirmed into the library.

What is copied depends on what was confirmed:

* ``--reviewed``: every picture and video a reviewer categorised, as hashes (MD5,
  SHA-1, SHA-256, PDQ) with the category, its scheme and the reviewer; videos also as
  the PDQs of their sampled frames;
* a ``scene`` cluster: a *series*: its pictures' hashes plus their scene embeddings
  and ORB local features (what the scene matcher compares; never the pictures, nor
  the small grey copies the case keeps);
* a ``camera`` or ``sensor`` cluster: a *device*: EXIF camera and body serial plus,
  where the case has the sensor noise of at least ``prnu.MIN_ORIGINALS`` camera
  originals of one size, the sensor's PRNU fingerprint;
* a ``contact`` cluster (the messaging stage's: pictures exchanged with one person):
  a *contact* entry, the app and handle;
* any other cluster: a *group* of hashes.

Each promotion is recorded twice: in the library's own audit log (with the entry)
and in the case's hash-chained audit log, so both sides can show who moved what.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from unseen.core.errors import UserError
from unseen.correlation.facts import load_facts
from unseen.correlation.groupings.sensor import is_camera_original, spread
from unseen.intel.store import IntelEntry, IntelLibrary, NewEntry
from unseen.store import schema as s
from unseen.store.audit import append
from unseen.store.case import Case, current_user

Parts = dict[str, list[dict[str, Any]]]
DEVICE_KINDS = ("camera", "sensor", "camera_tables")


def promote_reviewed(
    case: Case,
    library: IntelLibrary,
    name: str | None,
    retain_until: str,
    victim_ref: str | None = None,
) -> IntelEntry:
    """Promote every reviewer-categorised item of ``case``."""
    with case.engine.connect() as conn:
        ids = [int(i) for i in conn.scalars(select(s.review_state.c.item_id))]
        if not ids:
            raise UserError("nothing reviewed in this case: no reviewer has categorised an item")
        hashes = _hashes(conn, ids, frames=True)
    reviewers = tuple(sorted({str(h["reviewer"]) for h in hashes if h["reviewer"]}))
    new = NewEntry(
        name=name or f"{case.info.get('name', 'case')} reviewed",
        kind="reviewed",
        case_ref=case.info.get("name", ""),
        case_uuid=case.info.get("uuid", ""),
        reviewers=reviewers,
        retain_until=retain_until,
        victim_ref=victim_ref,
        details={"items": len(ids), "categories": dict(Counter(h["category"] for h in hashes))},
        hashes=hashes,
    )
    return _record(case, library, new, "reviewed items")


def promote_cluster(
    case: Case,
    library: IntelLibrary,
    cluster_id: int,
    name: str | None,
    retain_until: str,
    victim_ref: str | None = None,
) -> IntelEntry:
    """Promote one cluster of ``case`` (a series, a device, contacts or a group)."""
    c = s.clusters
    with case.engine.connect() as conn:
        row = conn.execute(select(c).where(c.c.id == cluster_id)).one_or_none()
        if row is None:
            raise UserError(f"no cluster {cluster_id} in this case (see the review UI or leads)")
        ids = [
            int(i)
            for i in conn.scalars(
                select(s.cluster_members.c.item_id)
                .where(s.cluster_members.c.cluster_id == cluster_id)
                .order_by(s.cluster_members.c.item_id)
            )
        ]
        details = {**json.loads(row.details or "{}"), "cluster_key": str(row.key)}
        kind, parts = _parts_for(str(row.kind))(conn, ids, details)
        reviewers = tuple(
            sorted({str(u) for u in conn.scalars(_reviewers_of(ids)) if u is not None})
        )
    new = NewEntry(
        name=name or f"{case.info.get('name', 'case')} {row.kind} {cluster_id}",
        kind=kind,
        case_ref=case.info.get("name", ""),
        case_uuid=case.info.get("uuid", ""),
        cluster=f"{row.kind} cluster {cluster_id}: {row.label}",
        reviewers=reviewers,
        retain_until=retain_until,
        victim_ref=victim_ref,
        details={"label": str(row.label), "cluster_kind": str(row.kind), "members": len(ids)},
        hashes=parts.get("hashes", []),
        scenes=parts.get("scenes", []),
        devices=parts.get("devices", []),
        contacts=parts.get("contacts", []),
    )
    return _record(case, library, new, f"cluster {cluster_id}")


def _parts_for(kind: str) -> Callable[[Connection, list[int], dict[str, Any]], tuple[str, Parts]]:
    """What a cluster kind promotes as: the extension point for new cluster kinds."""
    if kind == "scene":
        return _series
    if kind in DEVICE_KINDS:
        return _device
    if kind == "contact":
        return _contacts
    return _group


def _record(case: Case, library: IntelLibrary, new: NewEntry, target: str) -> IntelEntry:
    """Add to the library, then append to the case's audit log; undo the first if the
    second fails, so neither side claims a promotion the other does not know."""
    if new.victim_ref is not None and not new.victim_ref.strip():
        raise UserError("--victim needs the agency's record reference")
    entry = library.add(replace(new, promoted_by=current_user()))
    try:
        with case.engine.begin() as conn:
            append(
                conn,
                current_user(),
                "intel_promote",
                target,
                {
                    "entry": entry.name,
                    "kind": entry.kind,
                    "library": str(library.home),
                    "retain_until": entry.retain_until,
                    "victim_ref": entry.victim_ref,
                    **new.counts(),
                },
            )
    except Exception:
        library.remove(entry.name, reason="the case's audit log could not record the promotion")
        raise
    return entry


def _reviewers_of(ids: list[int]) -> Any:
    return select(s.review_state.c.user).where(s.review_state.c.item_id.in_(ids))


def _hashes(conn: Connection, ids: list[int], frames: bool) -> list[dict[str, Any]]:
    """Hash rows of ``ids`` with the reviewer's (else the hash sets') category."""
    i, im = s.items, s.images
    scheme = conn.scalar(select(s.case_info.c.value).where(s.case_info.c.key == "scheme"))
    reviewed = {
        int(r.item_id): (str(r.category), str(r.user))
        for r in conn.execute(
            select(s.review_state.c.item_id, s.review_state.c.category, s.review_state.c.user)
        )
    }
    auto = {
        int(r.item_id): r.category
        for r in conn.execute(select(s.auto_categories.c.item_id, s.auto_categories.c.category))
    }
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        query = (
            select(i.c.id, i.c.md5, i.c.sha1, i.c.sha256, im.c.pdq)
            .select_from(i.outerjoin(im, im.c.item_id == i.c.id))
            .where(i.c.id.in_(ids[start : start + 500]), i.c.sha256.is_not(None))
            .order_by(i.c.id)
        )
        for r in conn.execute(query):
            category, reviewer = reviewed.get(int(r.id), (auto.get(int(r.id)), None))
            rows.append(
                {
                    "ref": f"item {r.id}",
                    "md5": r.md5,
                    "sha1": r.sha1,
                    "sha256": r.sha256,
                    "pdq": r.pdq,
                    "scheme": scheme,
                    "category": category,
                    "reviewer": reviewer,
                }
            )
    if frames:
        rows.extend(_frame_hashes(conn, ids, str(scheme), reviewed, auto))
    return rows


def _frame_hashes(
    conn: Connection,
    ids: list[int],
    scheme: str,
    reviewed: dict[int, tuple[str, str]],
    auto: dict[int, Any],
) -> Iterable[dict[str, Any]]:
    """One row per sampled frame of the videos among ``ids`` (PDQ only)."""
    v = s.video_frames
    for start in range(0, len(ids), 500):
        query = (
            select(v.c.item_id, v.c.frame_index, v.c.pdq)
            .where(v.c.item_id.in_(ids[start : start + 500]))
            .order_by(v.c.item_id, v.c.frame_index)
        )
        for r in conn.execute(query):
            category, reviewer = reviewed.get(int(r.item_id), (auto.get(int(r.item_id)), None))
            yield {
                "ref": f"item {r.item_id} frame {r.frame_index}",
                "md5": None,
                "sha1": None,
                "sha256": None,
                "pdq": r.pdq,
                "scheme": scheme,
                "category": category,
                "reviewer": reviewer,
            }


def _group(conn: Connection, ids: list[int], details: dict[str, Any]) -> tuple[str, Parts]:
    return "group", {"hashes": _hashes(conn, ids, frames=True)}


def _series(conn: Connection, ids: list[int], details: dict[str, Any]) -> tuple[str, Parts]:
    """A series: hashes plus each picture's embedding and local features."""
    t = s.scene_features
    scenes = [
        {
            "ref": f"item {r.item_id}",
            "embedding": bytes(r.embedding),
            "points": bytes(r.points),
            "descriptors": bytes(r.descriptors),
        }
        for r in conn.execute(
            select(t.c.item_id, t.c.embedding, t.c.points, t.c.descriptors)
            .where(t.c.item_id.in_(ids))
            .order_by(t.c.item_id)
        )
    ]
    if not scenes:
        raise UserError("none of this cluster's pictures has scene features")
    return "series", {"hashes": _hashes(conn, ids, frames=False), "scenes": scenes}


def _device(conn: Connection, ids: list[int], details: dict[str, Any]) -> tuple[str, Parts]:
    """A camera body: EXIF identity and, where possible, its PRNU fingerprint."""
    camera, serial = details.get("camera"), (details.get("serial") or None)
    if not camera:
        raise UserError("this cluster names no camera to promote")
    device: dict[str, Any] = {"camera": camera, "serial": serial}
    device.update(_fingerprint(conn, ids))
    # The device alone: its pictures' hashes are promoted as a series or as reviewed.
    return "device", {"devices": [device]}


def _fingerprint(conn: Connection, ids: list[int]) -> dict[str, Any]:
    """The PRNU fingerprint of the camera originals among ``ids`` (empty if too few)."""
    if importlib.util.find_spec("pywt") is None:
        return {}
    from unseen.correlation import prnu

    wanted = set(ids)
    originals = [f for f in load_facts(conn) if f.id in wanted and is_camera_original(f)]
    t = s.sensor_noise
    noise = {
        int(r.item_id): r
        for r in conn.execute(select(t).where(t.c.item_id.in_([f.id for f in originals])))
    }
    sizes = Counter((n.width, n.height, n.side) for n in noise.values())
    if not sizes:
        return {}
    (width, height, side), count = max(sizes.items(), key=lambda kv: (kv[1], kv[0]))
    if count < prnu.MIN_ORIGINALS:
        return {}
    chosen = spread(
        sorted(
            i for i, n in noise.items() if (n.width, n.height, n.side) == (width, height, side)
        ),
        prnu.MAX_ORIGINALS,
    )
    residuals = [prnu.signs(bytes(noise[i].bits), side) for i in chosen]
    print_ = prnu.fingerprint(residuals).astype(np.float16)
    return {
        "width": width,
        "height": height,
        "side": side,
        "fingerprint": print_.tobytes(),
        "originals": len(chosen),
    }


def _contacts(conn: Connection, ids: list[int], details: dict[str, Any]) -> tuple[str, Parts]:
    """The contact of a ``contact`` cluster: its key is ``app|handle``."""
    app = str(details.get("app") or "")
    key = str(details.get("cluster_key") or "")
    handle = key[len(app) + 1 :] if app and key.startswith(f"{app}|") else ""
    if not handle:
        raise UserError("this cluster names no contact handle to promote")
    return "contact", {"contacts": [{"app": app, "handle": handle}]}
