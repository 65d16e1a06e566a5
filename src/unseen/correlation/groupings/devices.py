"""Device links: camera models that are devices found in the case.

A phone's own files name its model: Android's ``build.prop`` (``ro.product.model``)
and an iOS backup's ``Info.plist`` ("Product Type", e.g. ``iPhone13,2``, named
through ``models/apple_product_types.json``). Internet artefacts add devices seen by
the system (``device.*`` records, e.g. USB devices with vendor and product), when
that stage has run. Pictures whose EXIF model is one of these devices form a cluster
with the files that name it: the suspect's own phone probably took them.

Only small files are read (``MAX_BYTES``), through the evidence source, and only
those whose name and place identify a device (not every ``Info.plist`` of a Mac).
Models are compared whole after normalisation (case, punctuation), never as
substrings: "iPhone 12" is not an "iPhone 12 Pro".
"""

from __future__ import annotations

import json
import logging
import plistlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePosixPath

from sqlalchemy import Connection, select, text

from unseen.core.models import SourceSpec
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import Facts, ItemFacts
from unseen.sources.base import open_source
from unseen.store import repo
from unseen.store import schema as s

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
BUILD_PROP_KEYS = (
    "ro.product.model",
    "ro.product.system.model",
    "ro.product.vendor.model",
    "ro.product.odm.model",
)
# An iOS backup folder: MobileSync/Backup/<UDID>/ (40 hex digits, or 8-16 hex digits).
BACKUP_FOLDER = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{8}-[0-9a-f]{16})$", re.IGNORECASE)
USB_SUFFIX = re.compile(r"\s+usb\s+device$", re.IGNORECASE)
_parsed: dict[tuple[int, str], list[tuple[str, str]]] = {}


@dataclass(frozen=True, slots=True)
class Device:
    """A device model named in the case, and where."""

    model: str
    where: str  # what a person reads: the file or the artefact
    item_id: int | None  # the naming item, if any
    detail: str  # which field named it


def normalise(model: str) -> str:
    """Case and punctuation folded: ``SM-G991B`` and ``sm g991b`` compare equal."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", model.casefold()).split())


@cache
def apple_models() -> dict[str, str]:
    text = resources.files("unseen.correlation").joinpath("models", "apple_product_types.json")
    table: dict[str, str] = json.loads(text.read_text(encoding="utf-8"))
    return {k: v for k, v in table.items() if not k.startswith("_")}


def build_prop_models(text: str) -> list[tuple[str, str]]:
    """(model, key) pairs an Android ``build.prop`` names, most specific key first."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#") and value.strip():
            values.setdefault(key.strip(), value.strip())
    return [(values[k], k) for k in BUILD_PROP_KEYS if k in values]


def info_plist_models(data: bytes) -> list[tuple[str, str]]:
    """(model, key) pairs an iOS backup ``Info.plist`` names (XML or binary)."""
    info = plistlib.loads(data)
    if not isinstance(info, dict):
        return []
    found = []
    product = info.get("Product Type")
    if isinstance(product, str) and product in apple_models():
        found.append((apple_models()[product], f"Product Type {product}"))
    name = info.get("Product Name")
    if isinstance(name, str) and name.strip():
        found.append((name.strip(), "Product Name"))
    return found


def is_device_file(path: str) -> str | None:
    """``build.prop`` or ``info.plist`` when ``path`` is a device-identifying file."""
    p = PurePosixPath(path)
    if p.name.lower() == "build.prop":
        return "build.prop"
    if p.name == "Info.plist" and (
        BACKUP_FOLDER.match(p.parent.name) or "mobilesync/backup/" in path.lower()
    ):
        return "info.plist"
    return None


class DeviceGrouping(Grouping):
    NAME = "devices"
    VERSION = "1"
    KIND = "device"
    DESCRIPTION = "camera models that are devices found in the case (build.prop, Info.plist)"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        devices = [*_file_devices(facts, conn), *_artefact_devices(conn)]
        if not devices:
            return
        by_model: dict[str, list[Device]] = defaultdict(list)
        for d in devices:
            named = by_model[normalise(d.model)]
            if all(other.where != d.where for other in named):  # one file, several keys
                named.append(d)
        shots: dict[str, list[ItemFacts]] = defaultdict(list)
        for f in facts.scan("mime", "make", "model"):
            if f.is_image and f.model:
                for name in {normalise(f.model), normalise(f.camera or "")}:
                    if name in by_model:
                        shots[name].append(f)
                        break
        for key in sorted(shots):
            named = sorted(by_model[key], key=lambda d: (d.item_id is None, d.where))
            model = shots[key][0].model or named[0].model
            more = f" (and {len(named) - 1} more)" if len(named) > 1 else ""
            where = f"{named[0].where}{more}"
            members = [
                Member(f.id, f"EXIF camera model {f.model} is the device named by {where}")
                for f in shots[key]
            ]
            members += [
                Member(d.item_id, f"names the device model {d.model} ({d.detail})")
                for d in named
                if d.item_id is not None
            ]
            yield Cluster(
                self.KIND,
                key,
                f"camera model {model} is a device found in the case: {where}",
                1.0,
                tuple(_unique(members)),
                {"model": model, "named_by": [d.where for d in named]},
            )


def _unique(members: list[Member]) -> list[Member]:
    seen: set[int] = set()
    out = []
    for m in sorted(members, key=lambda m: m.item_id):
        if m.item_id not in seen:
            seen.add(m.item_id)
            out.append(m)
    return out


def _file_devices(facts: Facts, conn: Connection) -> Iterator[Device]:
    kinds = {f.id: kind for f in facts.scan("path") if (kind := is_device_file(f.path))}
    if not kinds:
        return
    wanted = {i: (f, kinds[i]) for i, f in facts.get(kinds).items()}
    specs = {spec.id: spec for spec in repo.source_specs(conn)}
    rows = conn.execute(
        select(s.items.c.id, s.items.c.locator, s.items.c.size).where(
            s.items.c.id.in_(sorted(wanted))
        )
    )
    for item_id, locator, size in rows:
        f, kind = wanted[item_id]
        if size is not None and size > MAX_BYTES:
            continue
        key = (item_id, f.sha256 or "")
        if key not in _parsed:
            _parsed[key] = _read_models(specs[f.source_id], bytes(locator), kind, f.path)
        for model, detail in _parsed[key]:
            yield Device(model, f.path, item_id, detail)


def _read_models(spec: SourceSpec, locator: bytes, kind: str, path: str) -> list[tuple[str, str]]:
    try:
        with open_source(spec).open(locator) as stream:
            data = stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return []
        if kind == "build.prop":
            return build_prop_models(data.decode("utf-8", "replace"))
        return info_plist_models(data)
    except (OSError, ValueError, plistlib.InvalidFileException) as exc:
        # The item itself is in the case with its own record; here it only names no device.
        log.warning("%s: cannot read a device model: %s", path, exc)
        return []


def _artefact_devices(conn: Connection) -> Iterator[Device]:
    """Devices the internet-artefact parsers recorded (``device.*``), read defensively."""
    # Bound parameter: a literal '%' in driver SQL breaks psycopg's placeholders.
    rows = conn.execute(
        text(
            "SELECT a.item_id, a.type, a.data, i.path FROM artefacts a "
            "JOIN items i ON i.id = a.item_id WHERE a.type LIKE :kind ORDER BY a.id"
        ),
        {"kind": "device.%"},
    )
    for item_id, kind, raw, path in rows:
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        for model, field in _artefact_names(data):
            where = f"{kind} {model} recorded in {path}"
            yield Device(model, where, int(item_id), f"{kind} {field}")


def _artefact_names(data: dict[str, object]) -> list[tuple[str, str]]:
    names = []
    vendor = data.get("vendor")
    for field in ("model", "product", "friendly_name", "device_name"):
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            continue
        value = USB_SUFFIX.sub("", value.strip())
        names.append((value, field))
        # "SAMSUNG SM-G991B": the camera may write the model with or without its vendor.
        if isinstance(vendor, str) and value.casefold().startswith(vendor.casefold() + " "):
            names.append((value[len(vendor) + 1 :], field))
    return names


GROUPINGS.register(DeviceGrouping)
