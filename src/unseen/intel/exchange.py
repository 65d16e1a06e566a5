"""Signed exchange packages: intelligence and hash sets from one agency to another.

A package is a ZIP file of exactly these members, and never any media:

* ``vics.json``: the hashes and categories as a VICS 2.0 ``#Media`` document, which
  other agencies' tools read (categories as the profile's numbers where the scheme
  has a VICS table; our own ``Unseen*`` keys keep the code, scheme, entry reference,
  reviewer and PDQ, which VICS has no field for);
* ``intel.json`` (intelligence packages only): the entry (kind, case reference,
  promotion, retention, identified-victim reference) and what the matchers need:
  series pictures' scene embeddings and ORB features, device PRNU fingerprints,
  contact handles (binary values base64);
* ``manifest.json``: format, version, what and which name, the agency, the signing
  key's fingerprint, and the SHA-256 and size of every other member;
* ``manifest.sig``: the Ed25519 signature of the manifest's exact bytes (base64).

Import trusts nothing in the file before the signature over the manifest verifies
with the public key the examiner names (``--trust``); then every member's digest and
size must equal the manifest's and no member may be missing or extra. Only then is
anything parsed and imported. The ZIP is hostile input: member names are checked
against the fixed list, sizes are capped before reading, duplicates and encrypted
members are refused.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

import unseen
from unseen.core import keys
from unseen.core.errors import UserError
from unseen.core.timeconv import utc_now
from unseen.intel.schema import intel_contacts, intel_devices, intel_hashes, intel_scenes
from unseen.intel.store import IntelEntry, IntelLibrary, NewEntry, check_name, today
from unseen.matching.library import Library
from unseen.matching.library_schema import entries as hashset_entries
from unseen.matching.mapping import vics_number, vics_profiles
from unseen.matching.signals import SignalError, get
from unseen.store.case import current_user

FORMAT = "unseen-exchange"
VERSION = 1
MANIFEST, SIGNATURE, VICS, INTEL = "manifest.json", "manifest.sig", "vics.json", "intel.json"
MAX_MANIFEST = 1 << 20  # bytes
MAX_MEMBER = 2 << 30  # bytes: far above any real package, far below a zip bomb's claim
EMBEDDING_DIMENSIONS = 1280  # the scene model's (correlation.scene.DIMENSIONS)
VICS_CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{profile}/$metadata#Media"
)


class PackageRefused(UserError):
    """A package that failed a check; nothing of it was imported."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path.name}: {why}; nothing imported")


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import added: an intelligence entry or a hash-set version's label."""

    what: str
    name: str
    entries: int
    agency: str
    signer: str


# --- export -----------------------------------------------------------------------


def export_intel(library_home: Path | None, name: str, out: Path) -> dict[str, Any]:
    """Write a signed package of intelligence entry ``name``; returns its manifest."""
    with IntelLibrary.open(library_home) as lib:
        entry = lib.get(name)
        with lib.engine.connect() as conn:
            hashes = _rows(conn, intel_hashes, entry.id)
            scenes = _rows(conn, intel_scenes, entry.id)
            devices = _rows(conn, intel_devices, entry.id)
            contacts = _rows(conn, intel_contacts, entry.id)
    members = {
        VICS: _vics(hashes, f"{entry.name} (case {entry.case_ref})"),
        INTEL: _json(
            {
                "entry": {k: v for k, v in entry.to_dict().items() if k != "id"},
                "scenes": [_b64(r, ("embedding", "points", "descriptors")) for r in scenes],
                "devices": [_b64(r, ("fingerprint",)) for r in devices],
                "contacts": [{"app": r["app"], "handle": r["handle"]} for r in contacts],
            }
        ),
    }
    return _write(library_home, out, "intel", name, members)


def export_hashset(library_home: Path | None, name: str, out: Path) -> dict[str, Any]:
    """Write a signed package of the newest version of hash set ``name``."""
    lib = Library.open(library_home)
    try:
        info = lib.get(name)
        with lib.engine.connect() as conn:
            rows = [
                {**r._mapping, "scheme": info.scheme, "reviewer": None}
                for r in conn.execute(
                    select(hashset_entries)
                    .where(hashset_entries.c.set_id == info.id)
                    .order_by(hashset_entries.c.id)
                )
            ]
    finally:
        lib.close()
    members = {VICS: _vics(rows, info.label)}
    extra = {"hashset": {"scheme": info.scheme, "known_good": info.known_good,
                         "version": info.version}}  # fmt: skip
    return _write(library_home, out, "hashset", name, members, extra)


def _rows(conn: Any, table: Any, entry_id: int) -> list[dict[str, Any]]:
    query = select(table).where(table.c.entry_id == entry_id).order_by(table.c.id)
    return [dict(r._mapping) for r in conn.execute(query)]


def _b64(row: Mapping[str, Any], binary: Iterable[str]) -> dict[str, Any]:
    found = {k: v for k, v in row.items() if k not in ("id", "entry_id")}
    for key in binary:
        if found.get(key) is not None:
            found[key] = base64.b64encode(bytes(found[key])).decode("ascii")
    return found


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _profile(scheme: str | None) -> str:
    for profile in vics_profiles().values():
        if profile.scheme == scheme:
            return profile.name
    return "Default"


def _vics(rows: Sequence[Mapping[str, Any]], label: str) -> bytes:
    """A VICS 2.0 ``#Media`` document of hash rows (one scheme: the first row's)."""
    schemes = {r.get("scheme") for r in rows if r.get("category")}
    if len(schemes) > 1:
        raise UserError(f"{label} mixes category schemes {sorted(map(str, schemes))}")
    scheme = next(iter(schemes), None)
    profile = _profile(scheme)
    media = []
    for number, r in enumerate(rows, 1):
        item: dict[str, Any] = {"MediaID": number}
        for key, column in (("MD5", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256")):
            if r.get(column):
                item[key] = r[column]
        code = r.get("category")
        if code and scheme:
            vics = vics_number(str(code), str(scheme), profile)
            if vics is not None:
                item["Category"] = vics
        if r.get("series"):
            item["Series"] = r["series"]
        ours = {
            "UnseenRef": r.get("ref"),
            "UnseenCategory": code,
            "UnseenScheme": scheme if code else None,
            "UnseenReviewer": r.get("reviewer"),
            "UnseenPDQ": r.get("pdq"),
        }
        item.update({k: v for k, v in ours.items() if v})
        media.append(item)
    document = {
        "@odata.context": VICS_CONTEXT.format(profile=profile),
        "SourceApplicationName": "unseen",
        "SourceApplicationVersion": unseen.__version__,
        "Comments": f"exchange package of {label}",
        "value": media,
    }
    return _json(document)


def _write(
    library_home: Path | None,
    out: Path,
    what: str,
    name: str,
    members: dict[str, bytes],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    private = keys.load_private(library_home)
    info = keys.agency_info(library_home)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "what": what,
        "name": name,
        "created_at": utc_now(),
        "created_by": current_user(),
        "agency": info.get("agency", keys.DEFAULT_AGENCY),
        "signer": keys.fingerprint(private.public_key()),
        "tool": f"unseen {unseen.__version__}",
        "files": {
            member: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for member, data in sorted(members.items())
        },
        **(extra or {}),
    }
    manifest_bytes = _json(manifest)
    signature = base64.b64encode(keys.sign(manifest_bytes, private)) + b"\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(SIGNATURE, signature)
        for member, data in sorted(members.items()):
            archive.writestr(member, data)
    partial.replace(out)  # never a half-written package under the final name
    return manifest


# --- import -----------------------------------------------------------------------


def read_package(path: Path, trusted: Ed25519PublicKey) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The verified manifest and members of a package. Raises PackageRefused."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PackageRefused(path, f"not an exchange package (not a ZIP file: {exc})") from exc
    with archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise PackageRefused(path, "a member name occurs twice")
        if any(i.flag_bits & 0x1 for i in infos):
            raise PackageRefused(path, "encrypted members")
        if SIGNATURE not in names:
            raise PackageRefused(path, "the package is unsigned (no manifest.sig)")
        if MANIFEST not in names:
            raise PackageRefused(path, "no manifest.json")
        by_name = {i.filename: i for i in infos}
        manifest_bytes = _read(archive, by_name[MANIFEST], MAX_MANIFEST, path)
        signature = _signature(_read(archive, by_name[SIGNATURE], 1024, path), path)
        _check_signature(path, manifest_bytes, signature, trusted)
        manifest = _manifest(path, manifest_bytes)
        listed = manifest["files"]
        unexpected = sorted(set(names) - set(listed) - {MANIFEST, SIGNATURE})
        if unexpected:
            raise PackageRefused(path, f"members not in the signed manifest: {unexpected}")
        members = {}
        for member, expect in sorted(listed.items()):
            if member not in by_name:
                raise PackageRefused(path, f"{member} is listed in the manifest but missing")
            data = _read(archive, by_name[member], min(int(expect["bytes"]), MAX_MEMBER), path)
            if (
                len(data) != expect["bytes"]
                or hashlib.sha256(data).hexdigest() != expect["sha256"]
            ):
                raise PackageRefused(
                    path, f"{member} was changed after signing (its digest differs)"
                )
            members[member] = data
    return manifest, members


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: Path) -> bytes:
    """A member's bytes, never more than ``limit`` + 1 (declared sizes can lie)."""
    if info.file_size > limit:
        raise PackageRefused(path, f"{info.filename} is larger than expected")
    try:
        with archive.open(info) as stream:
            data = stream.read(limit + 1)
    except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as exc:
        raise PackageRefused(path, f"{info.filename} cannot be read ({exc})") from exc
    if len(data) > limit:
        raise PackageRefused(path, f"{info.filename} is larger than expected")
    return data


def _signature(raw: bytes, path: Path) -> bytes:
    try:
        return base64.b64decode(raw.strip(), validate=True)
    except ValueError as exc:
        raise PackageRefused(path, "manifest.sig is not a base64 signature") from exc


def _check_signature(
    path: Path, manifest_bytes: bytes, signature: bytes, trusted: Ed25519PublicKey
) -> None:
    if keys.verify(trusted, manifest_bytes, signature):
        return
    want = keys.fingerprint(trusted)
    try:
        claimed = str(json.loads(manifest_bytes).get("signer", ""))
    except (ValueError, AttributeError):
        claimed = ""
    if claimed and claimed != want:
        raise PackageRefused(
            path,
            f"signed by key {claimed[:16]}..., not by the trusted key {want[:16]}... "
            "(untrusted signer)",
        )
    raise PackageRefused(
        path, f"the signature does not verify with the trusted key {want[:16]}... (tampered)"
    )


def _manifest(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise PackageRefused(path, f"manifest.json is not JSON: {exc}") from exc
    ok = (
        isinstance(manifest, dict)
        and manifest.get("format") == FORMAT
        and manifest.get("what") in ("intel", "hashset")
        and isinstance(manifest.get("files"), dict)
        and all(
            isinstance(v, dict)
            and isinstance(v.get("bytes"), int)
            and isinstance(v.get("sha256"), str)
            for v in manifest["files"].values()
        )
    )
    if not ok:
        raise PackageRefused(path, "manifest.json is not an unseen exchange manifest")
    if manifest.get("version") != VERSION:
        raise PackageRefused(path, f"package version {manifest.get('version')} is not supported")
    return dict(manifest)


def import_package(
    path: Path, trusted_key: Path, library_home: Path | None, name: str | None = None
) -> Imported:
    """Verify ``path`` against ``trusted_key`` and import it into the library."""
    trusted = keys.load_public(trusted_key)
    manifest, members = read_package(path, trusted)
    target = check_name(name or str(manifest["name"]))
    agency, signer = str(manifest.get("agency", "")), str(manifest["signer"])
    origin = f"imported from {agency} (key {signer[:16]}) on {utc_now()[:10]}"
    if manifest["what"] == "hashset":
        return _import_hashset(path, manifest, members, library_home, target, agency, signer)
    entry = _import_intel(path, members, library_home, target, origin)
    return Imported("intel", entry.name, int(entry.details.get("hashes", 0)), agency, signer)


def _import_hashset(
    path: Path,
    manifest: dict[str, Any],
    members: dict[str, bytes],
    library_home: Path | None,
    name: str,
    agency: str,
    signer: str,
) -> Imported:
    if VICS not in members:
        raise PackageRefused(path, "a hash-set package without vics.json")
    scheme = str(manifest.get("hashset", {}).get("scheme") or "") or None
    known_good = bool(manifest.get("hashset", {}).get("known_good", False))
    try:
        table = _csv([_hash_row(m) for m in json.loads(members[VICS])["value"]])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PackageRefused(path, f"its content is malformed ({exc!r})") from exc
    lib = Library.open(library_home)
    try:
        with tempfile.TemporaryDirectory(prefix="unseen-exchange-") as tmp:
            # Through the CSV reader, which keeps PDQ (VICS has no field for it) and
            # reads categories as the set's own codes rather than a profile's numbers.
            listing = Path(tmp) / f"{path.name}.csv"
            listing.write_text(table, encoding="utf-8")
            result = lib.import_file(listing, name, "csv", scheme=scheme, known_good=known_good)
    finally:
        lib.close()
    return Imported("hashset", result.info.label, result.imported, agency, signer)


def _import_intel(
    path: Path, members: dict[str, bytes], library_home: Path | None, name: str, origin: str
) -> IntelEntry:
    if VICS not in members or INTEL not in members:
        raise PackageRefused(path, "an intelligence package needs vics.json and intel.json")
    try:
        intel = json.loads(members[INTEL])
        media = json.load(io.BytesIO(members[VICS]))["value"]
        entry = intel["entry"]
        new = NewEntry(
            name=name,
            kind=str(entry["kind"]),
            case_ref=str(entry["case_ref"]),
            case_uuid=str(entry["case_uuid"]),
            reviewers=tuple(str(r) for r in entry.get("reviewers", [])),
            retain_until=str(entry["retain_until"]),
            cluster=entry.get("cluster"),
            victim_ref=entry.get("victim_ref"),
            origin=origin,
            details={
                k: v for k, v in entry.get("details", {}).items() if isinstance(v, str | int)
            },
            hashes=[_hash_row(m) for m in media],
            scenes=[_scene_row(r) for r in intel["scenes"]],
            devices=[_device_row(r) for r in intel["devices"]],
            contacts=[
                {"app": str(c["app"]), "handle": str(c["handle"])} for c in intel["contacts"]
            ],
            promoted_at=str(entry["promoted_at"]),
            promoted_by=str(entry["promoted_by"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PackageRefused(path, f"its content is malformed ({exc!r})") from exc
    if new.retain_until < today():
        raise PackageRefused(path, f"its retention date {new.retain_until} has passed")
    with IntelLibrary.open(library_home) as lib:
        return lib.add(new, action="import")


# Hash column (a signal type's name) -> its VICS key; each value is checked by its type.
_HASH_KEYS = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256", "pdq": "UnseenPDQ"}


def _hash_row(media: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column, key in _HASH_KEYS.items():
        value = media.get(key)
        if value is None:
            row[column] = None
            continue
        try:
            row[column] = get(column).validate(str(value))
        except SignalError:
            raise ValueError(f"bad {key} in Media {media.get('MediaID')}") from None
    row["ref"] = str(media.get("UnseenRef") or f"Media {media.get('MediaID')}")[:64]
    row["category"] = media.get("UnseenCategory")
    row["scheme"] = media.get("UnseenScheme")
    row["reviewer"] = media.get("UnseenReviewer")
    return row


def _csv(rows: list[dict[str, Any]]) -> str:
    """Hash rows as the CSV the hash-set library imports (category column if any)."""
    columns = ["md5", "sha1", "sha256", "pdq", "source_ref"]
    if any(r.get("category") for r in rows):
        columns.insert(4, "category")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        values = {**r, "source_ref": r["ref"]}
        writer.writerow([values.get(c) or "" for c in columns])
    return out.getvalue()


def _unb64(row: Mapping[str, Any], key: str) -> bytes | None:
    value = row.get(key)
    return None if value is None else base64.b64decode(str(value), validate=True)


def _scene_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A series picture's features, shapes checked (a partner's bug must not crash us)."""
    embedding, points, descriptors = (
        _unb64(row, k) or b"" for k in ("embedding", "points", "descriptors")
    )
    if len(embedding) != 2 * EMBEDDING_DIMENSIONS:
        raise ValueError("a scene embedding of the wrong length")
    if len(points) % 8 or len(descriptors) % 32 or len(points) // 8 != len(descriptors) // 32:
        raise ValueError("scene key points and descriptors do not agree")
    return {
        "ref": str(row.get("ref", ""))[:64],
        "embedding": embedding,
        "points": points,
        "descriptors": descriptors,
    }


def _device_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A device: EXIF identity and, if any, a fingerprint of side x side float16."""
    found: dict[str, Any] = {
        "camera": None if row.get("camera") is None else str(row["camera"]),
        "serial": None if row.get("serial") is None else str(row["serial"]),
    }
    fingerprint = _unb64(row, "fingerprint")
    if fingerprint is not None:
        side = int(row["side"])
        if side <= 0 or len(fingerprint) != 2 * side * side:
            raise ValueError("a PRNU fingerprint of the wrong size")
        found.update(
            fingerprint=fingerprint,
            side=side,
            width=int(row["width"]),
            height=int(row["height"]),
            originals=int(row.get("originals") or 0),
        )
    return found
