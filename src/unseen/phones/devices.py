"""The cameras of the phones seized in a case: each device's model as its own camera
writes it in EXIF (Android: ``Make Model`` from build.prop; iPhone: the marketing name
of its product type, from ``data/apple_models.json``)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from sqlalchemy import Connection, select

from unseen.store import schema as s


@cache
def apple_models() -> dict[str, str]:
    raw = resources.files("unseen.phones.data").joinpath("apple_models.json").read_text("utf-8")
    return {str(k): str(v) for k, v in json.loads(raw)["models"].items()}


def device_cameras(conn: Connection) -> dict[str, tuple[str, str]]:
    """Casefolded EXIF camera name (as ``ItemFacts.camera`` spells it) -> (the device as
    an examiner reads it, where its identity was read)."""
    d, i = s.phone_devices, s.items
    found: dict[str, tuple[str, str]] = {}
    rows = conn.execute(
        select(d.c.platform, d.c.name, d.c.model, d.c.serial, i.c.path)
        .join(i, i.c.id == d.c.item_id)
        .order_by(d.c.id)
    )
    for platform, name, model, serial, path in rows:
        camera = model
        if platform == "ios":
            known = apple_models().get(model or "")
            camera = f"Apple {known}" if known else None
        if not camera:
            continue
        serial_text = f"serial {serial}" if serial else "no serial"
        # iPhones carry the owner's name for the device; Android only a codename.
        label = (
            f"{name} ({model}, {serial_text})"
            if platform == "ios" and name
            else (f"{model} ({serial_text})")
        )
        found.setdefault(camera.casefold(), (label, path))
    return found
