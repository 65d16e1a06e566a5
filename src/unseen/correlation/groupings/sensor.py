"""Same sensor: pictures without camera EXIF linked to a camera body by its PRNU.

Reads the residuals the ``sensor_noise`` deep analyser stored (one row a picture,
32 KiB at most). For every camera body (EXIF make + model + serial) with at least
``MIN_ORIGINALS`` camera originals (capture time in EXIF, camera JPEG tables, no
editing software) of one picture size, it averages the residuals of at most
``MAX_ORIGINALS`` of them, spread over the body's shots, into a fingerprint. Every
picture without camera EXIF of that size (or of that size turned 90 degrees: both
quarter turns are tried) is compared by peak-to-correlation energy; above
``sensor_pce_threshold`` (a setting) it joins the body's cluster (the best body if several pass).

Bounded on a large case: fingerprints read at most ``MAX_ORIGINALS`` rows a body, and
each candidate costs two FFTs of the crop per fingerprint of its size (a few ms), only
for pictures that lack camera EXIF and have a fingerprinted size. Results are kept in
this process between the correlation reruns of one deep pass.
"""

from __future__ import annotations

import importlib.util
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, select

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import Facts, ItemFacts, dihedral
from unseen.correlation.near import pack
from unseen.correlation.qtables import standard_quality
from unseen.correlation.scoring import EDITORS
from unseen.store import schema as s

PCE_THRESHOLD = Settings().sensor_pce_threshold  # the default; a run uses its settings
_CACHE_LIMIT = 1_000_000
# (fingerprint digest, picture SHA-256, turned) -> (PCE, quarter turns): keyed by content,
# not by item ids, which every case reuses.
_pce_cache: dict[tuple[str, str, bool], tuple[float, int, int]] = {}


@dataclass(frozen=True, slots=True)
class _Noise:
    item_id: int
    side: int
    width: int
    height: int


@dataclass
class Body:
    """A camera body with a fingerprint: the originals it is averaged from, their size."""

    key: str
    label: str
    camera: str
    serial: str | None
    size: tuple[int, int]  # stored width, height of the originals used
    side: int
    originals: list[int]


def is_camera_original(f: ItemFacts) -> bool:
    """Camera EXIF with a capture time, camera (non-IJG) JPEG tables, no editor named."""
    if not (f.camera and f.datetime_original and f.jpeg_qtables):
        return False
    software = (f.software or "").lower()
    edited = any(editor in software for editor in EDITORS)
    return standard_quality(f.jpeg_qtables) is None and not edited


def spread(ids: list[int], limit: int) -> list[int]:
    """At most ``limit`` of ``ids``, evenly spaced (first and last included)."""
    if len(ids) <= limit:
        return ids
    step = (len(ids) - 1) / (limit - 1)
    return [ids[round(k * step)] for k in range(limit)]


class SensorGrouping(Grouping):
    NAME = "sensor"
    VERSION = "2"
    KIND = "sensor"
    DESCRIPTION = f"sensor noise (PRNU) matches a camera's fingerprint, PCE > {PCE_THRESHOLD:g}"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        by_id = facts  # the items with content
        # A copy is a picture within the PDQ radius, as the near-duplicate grouping says.
        scored = all_scores(facts, conn, self.settings.pdq_radius)
        threshold = self.settings.sensor_pce_threshold
        links: dict[int, tuple[float, int, int, Body]] = {}
        for body, found in scored:
            for item_id, (pce, turns, left) in found.items():
                if pce > threshold and pce > links.get(item_id, (0.0, 0, 0, body))[0]:
                    links[item_id] = (pce, turns, left, body)
        for body, _ in scored:
            members = sorted(
                (i, pce, turns, left) for i, (pce, turns, left, b) in links.items() if b is body
            )
            if not members:
                continue
            # The originals the fingerprint is made from belong to the sensor too: an
            # examiner reads the cluster as "everything this sensor took", and
            # association with known originals runs through them.
            originals = [i for i in body.originals if i in by_id and i not in links]
            made_of = (
                f"camera original: its sensor noise is part of the fingerprint of {body.label}"
            )
            yield Cluster(
                self.KIND,
                body.key,
                body.label,
                1.0,
                tuple(
                    sorted(
                        [
                            Member(i, _reason(body, pce, turns, left, threshold), _confidence(pce))
                            for i, pce, turns, left in members
                            if i in by_id
                        ]
                        + [Member(i, made_of) for i in originals],
                        key=lambda m: m.item_id,
                    )
                ),
                {
                    "camera": body.camera,
                    "serial": body.serial,
                    "width": body.size[0],
                    "height": body.size[1],
                    "crop": body.side,
                    "fingerprint_from": len(body.originals),
                    "originals": originals,
                    "threshold": threshold,
                    "pce": {str(i): round(pce, 1) for i, pce, _, _ in members},
                },
            )


def all_scores(
    facts: Facts, conn: Connection, near_bits: int | None = None
) -> list[tuple[Body, dict[int, tuple[float, int, int]]]]:
    """Each fingerprinted body with (PCE, quarter turns, originals left out) per candidate;
    ``near_bits`` (default: the settings' PDQ radius) is the PDQ distance of a copy.

    Empty without the ``prnu`` extra (no residuals to compare).
    """
    if importlib.util.find_spec("pywt") is None:
        return []
    t = s.sensor_noise
    noise = {
        r.item_id: _Noise(r.item_id, r.side, r.width, r.height)
        for r in conn.execute(select(t.c.item_id, t.c.side, t.c.width, t.c.height))
    }
    by_id = facts.get(noise)  # only pictures with sensor noise take part
    held = list(by_id.values())
    bodies = _bodies(held, noise)
    bits = Settings().pdq_radius if near_bits is None else near_bits
    return [(body, _scores(conn, body, held, noise, by_id, bits)) for body in bodies]


def _bodies(facts: list[ItemFacts], noise: dict[int, _Noise]) -> list[Body]:
    """Camera bodies with enough originals of one size, each with the originals to use."""
    from unseen.correlation.prnu import MAX_ORIGINALS, MIN_ORIGINALS

    shots: dict[tuple[str, str], list[ItemFacts]] = defaultdict(list)
    for f in facts:
        if f.is_image and is_camera_original(f):
            shots[(f.camera or "", (f.serial or "").strip())].append(f)
    bodies = []
    for (camera, serial), found in sorted(shots.items()):
        sizes = Counter((noise[f.id].width, noise[f.id].height, noise[f.id].side) for f in found)
        (width, height, side), count = max(sizes.items(), key=lambda kv: (kv[1], kv[0]))
        if count < MIN_ORIGINALS:
            continue
        same = sorted(
            f.id for f in found if (noise[f.id].width, noise[f.id].height) == (width, height)
        )
        label = f"{camera} serial {serial}" if serial else f"{camera} (no serial)"
        bodies.append(
            Body(
                f"{camera}|{serial}|{width}x{height}",
                f"sensor noise of {label}",
                camera,
                serial or None,
                (width, height),
                side,
                spread(same, MAX_ORIGINALS),
            )
        )
    return bodies


def _scores(
    conn: Connection,
    body: Body,
    facts: list[ItemFacts],
    noise: dict[int, _Noise],
    by_id: dict[int, ItemFacts],
    near_bits: int,
) -> dict[int, tuple[float, int, int]]:
    """(PCE, quarter turns, originals left out) of each candidate against the body (cached).

    A copy of one of the fingerprint's own originals shares that picture's content
    noise with the fingerprint and would match it without any sensor evidence: the
    originals a candidate near-duplicates (PDQ, turns and mirrors too) are left out of
    the fingerprint it is compared with, as the literature does for its test images.
    """
    from unseen.correlation import prnu

    originals = ",".join(by_id[i].sha256 or "" for i in body.originals)
    # The radius decides which originals a copy leaves out, so it keys the cache too.
    digest = f"{body.key}|{body.side}|{originals}|{near_bits}"
    candidates = _candidates(facts, noise, body)
    keys = {
        c.item_id: (digest, by_id[c.item_id].sha256 or "", _turned(c, body)) for c in candidates
    }
    todo = [i for i, key in keys.items() if key not in _pce_cache]
    if todo:
        residuals = {i: prnu.signs(b, body.side) for i, b in _bits(conn, body.originals).items()}
        copies = _copied(
            dihedral(conn, (by_id[i] for i in todo)), body.originals, by_id, near_bits
        )
        matchers: dict[frozenset[int], prnu.Matcher | None] = {}
        for item_id, bits in _bits(conn, todo).items():
            left = copies.get(item_id, frozenset())
            if left not in matchers:
                kept = [r for i, r in residuals.items() if i not in left]
                enough = len(kept) >= prnu.MIN_ORIGINALS
                matchers[left] = prnu.Matcher(prnu.fingerprint(kept)) if enough else None
            matcher, turned = matchers[left], keys[item_id][2]
            pce, turns = (
                matcher.best_pce(prnu.signs(bits, body.side), turned) if matcher else (0.0, 0)
            )
            if len(_pce_cache) >= _CACHE_LIMIT:
                _pce_cache.clear()
            _pce_cache[keys[item_id]] = (pce, turns, len(left))
    return {i: _pce_cache.get(key, (0.0, 0, 0)) for i, key in keys.items()}


def _copied(
    candidates: dict[int, list[str]],
    originals: list[int],
    by_id: dict[int, ItemFacts],
    near_bits: int,
) -> dict[int, frozenset[int]]:
    """For each candidate (with its dihedral hashes), the originals it is a
    near-duplicate of (PDQ <= near_bits)."""
    hashed = [i for i in originals if by_id[i].pdq]
    if not hashed:
        return {}
    codes = pack([by_id[i].pdq or "" for i in hashed])
    found: dict[int, frozenset[int]] = {}
    for item_id, variants in candidates.items():
        if not variants:
            continue
        dist = np.bitwise_count(pack(variants)[:, None, :] ^ codes[None, :, :]).sum(axis=2)
        near = {hashed[j] for j in np.nonzero((dist <= near_bits).any(axis=0))[0]}
        if near:
            found[item_id] = frozenset(near)
    return found


def _candidates(facts: list[ItemFacts], noise: dict[int, _Noise], body: Body) -> list[_Noise]:
    """Pictures without camera EXIF whose stored size is the body's, or turned."""
    width, height = body.size
    found = []
    for f in facts:
        n = noise.get(f.id)
        if n is None or f.camera or n.side != body.side:
            continue
        if (n.width, n.height) in ((width, height), (height, width)):
            found.append(n)
    return found


def _turned(n: _Noise, body: Body) -> bool:
    return (n.width, n.height) != body.size


def _bits(conn: Connection, ids: list[int]) -> dict[int, bytes]:
    t = s.sensor_noise
    found: dict[int, bytes] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for item_id, bits in conn.execute(
            select(t.c.item_id, t.c.bits).where(t.c.item_id.in_(chunk))
        ):
            found[item_id] = bytes(bits)
    return dict(sorted(found.items()))


def _confidence(pce: float) -> float:
    """1 - the false-link probability under the usual Gaussian null: Q(sqrt(PCE))."""
    return round(1.0 - 0.5 * math.erfc(math.sqrt(pce / 2.0)), 6)


def _reason(body: Body, pce: float, turns: int, left: int, threshold: float) -> str:
    # np.rot90 turns counter-clockwise: k quarter turns align a picture that was
    # turned k quarters clockwise against the camera's originals.
    direction = {1: "clockwise", 3: "counter-clockwise"}.get(turns)
    turned = f", picture turned 90 degrees {direction}" if direction else ""
    plural = "s" if left > 1 else ""
    without = f", fingerprint without the {left} original{plural} it copies" if left else ""
    return (
        f"sensor noise matches {body.label.removeprefix('sensor noise of ')} "
        f"(PCE {pce:.0f} > {threshold:g}{turned}{without})"
    )


GROUPINGS.register(SensorGrouping)
