"""How phone facts reach the lead ranking: ``contact`` and ``conversation`` clusters
(every picture exchanged with one person, or in one chat) and per-item signals.

Clusters take part in association with known material like every other kind: a
contact who sent categorised pictures lends that reason to the unknown pictures the
same contact sent. Signals:

- ``sent_by_owner``: the phone's owner sent the picture (distribution);
- ``received_from_prolific_sender``: received from a contact who sent other unknown
  pictures too;
- ``camera_original_sent``: a picture the phone's camera took (DCIM, camera EXIF) that
  the owner later sent, exactly or as a near-identical copy (self-produced and shared);
- ``hidden_album`` and ``recently_deleted``: the photo library keeps the picture in its
  Hidden album, or in Recently Deleted;
- ``seized_phone_model``: the picture's EXIF camera is the model of a phone seized in the
  case (the same model; the same handset is for the examiner to establish).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterator
from typing import ClassVar

from sqlalchemy import Connection, or_, select

from unseen.correlation.base import (
    GROUPINGS,
    ITEM_SIGNALS,
    Cluster,
    Grouping,
    ItemSignals,
    Member,
    Signal,
)
from unseen.correlation.facts import Facts, ItemFacts
from unseen.phones.devices import device_cameras
from unseen.phones.facts import Exchange, exchanges
from unseen.store import schema as s

MIN_MEMBERS = 2


def _reason(e: Exchange) -> str:
    verb = "sent by the owner to" if e.direction == "sent" else "received from"
    who = e.contact_label or "the group"
    where = f" in {e.conversation_label}" if e.conversation_label else ""
    return f"{verb} {who}{where} via {e.app} at {e.ts_utc or 'unknown time'}"


class ContactGrouping(Grouping):
    NAME = "contact"
    VERSION = "1"
    KIND = "contact"
    DESCRIPTION = "pictures and videos exchanged with one contact in one app"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        present = facts  # the items with content
        by_contact: dict[str, dict[int, Exchange]] = defaultdict(dict)
        for e in exchanges(conn):
            if e.contact_key and e.item_id in present:
                by_contact[e.contact_key].setdefault(e.item_id, e)
        for key, items in sorted(by_contact.items()):
            if len(items) < MIN_MEMBERS:
                continue
            first = next(iter(items.values()))
            label = f"{first.app} contact {first.contact_label}"
            yield Cluster(
                self.KIND,
                key,
                label,
                1.0,
                tuple(Member(i, _reason(e)) for i, e in sorted(items.items())),
                {"app": first.app, "contact": first.contact_label},
            )


class ConversationGrouping(Grouping):
    NAME = "conversation"
    VERSION = "1"
    KIND = "conversation"
    DESCRIPTION = "pictures and videos exchanged in one conversation"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        present = facts  # the items with content
        by_chat: dict[str, dict[int, Exchange]] = defaultdict(dict)
        for e in exchanges(conn):
            if e.conversation_key is not None and e.item_id in present:
                by_chat[e.conversation_key].setdefault(e.item_id, e)
        for key, items in sorted(by_chat.items()):
            if len(items) < MIN_MEMBERS:
                continue
            first = next(iter(items.values()))
            yield Cluster(
                self.KIND,
                key,
                f"{first.app} {first.conversation_label}",
                1.0,
                tuple(Member(i, _reason(e)) for i, e in sorted(items.items())),
                {"app": first.app, "conversation_id": first.conversation_id},
            )


class PhoneSignals(ItemSignals):
    NAME = "phones"
    VERSION = "1"
    DESCRIPTION = "who sent or received each picture on a phone, and camera originals sent on"
    WEIGHTS: ClassVar[dict[str, float]] = {
        "sent_by_owner": 2.0,
        "received_from_prolific_sender": 1.0,
        "camera_original_sent": 3.0,
        "hidden_album": 1.5,
        "recently_deleted": 1.0,
        "seized_phone_model": 1.0,
    }

    def signals(self, facts: Facts, conn: Connection) -> Iterator[Signal]:
        found = [e for e in exchanges(conn) if e.item_id in facts]
        by_id = facts.get({e.item_id for e in found})  # the exchanged pictures
        yield from _sent(found)
        yield from _prolific(found, by_id)
        # A sent copy is the same picture within the run's PDQ radius.
        yield from _originals(found, facts, by_id, self.settings.pdq_radius)
        yield from _library_states(conn, facts)
        yield from _seized_models(conn, facts)


def _seized_models(conn: Connection, facts: Facts) -> Iterator[Signal]:
    """Pictures whose EXIF camera is the model of a phone seized in this case: possibly
    taken with it (the same model, not proven the same handset)."""
    cameras = device_cameras(conn)
    if not cameras:
        return
    for f in facts.scan("mime", "make", "model"):
        camera = (f.camera or "").casefold()
        if f.is_image and camera in cameras:
            label, where = cameras[camera]
            detail = f"EXIF camera {f.camera} is the model of the seized phone {label}"
            yield Signal(f.id, "seized_phone_model", detail, where)


def _library_states(conn: Connection, by_id: Container[int]) -> Iterator[Signal]:
    """Hidden and recently-deleted pictures, as the phone's photo library records them."""
    ma, i = s.media_assets, s.items
    rows = conn.execute(
        select(ma.c.linked_item_id, ma.c.hidden, ma.c.deleted, ma.c.record_ref, i.c.path)
        .join(i, i.c.id == ma.c.db_item_id)
        .where(ma.c.linked_item_id.is_not(None), or_(ma.c.hidden, ma.c.deleted))
        .order_by(ma.c.id)
    )
    for item_id, hidden, deleted, ref, path in rows:
        if item_id not in by_id:
            continue
        where = f"{path}: {ref}"
        if hidden:
            yield Signal(item_id, "hidden_album", "in the photo library's Hidden album", where)
        if deleted:
            yield Signal(
                item_id, "recently_deleted", "in the photo library's Recently Deleted album", where
            )


def _sent(found: list[Exchange]) -> Iterator[Signal]:
    seen: set[int] = set()
    for e in found:
        if e.direction == "sent" and e.item_id not in seen:
            seen.add(e.item_id)
            yield Signal(e.item_id, "sent_by_owner", _reason(e), e.source_of_record)


def _prolific(found: list[Exchange], by_id: dict[int, ItemFacts]) -> Iterator[Signal]:
    received: dict[str, dict[int, Exchange]] = defaultdict(dict)
    for e in found:
        if e.direction == "received" and e.contact_key and by_id[e.item_id].unknown:
            received[e.contact_key].setdefault(e.item_id, e)
    for items in received.values():
        if len(items) < MIN_MEMBERS:
            continue
        for item_id, e in sorted(items.items()):
            others = len(items) - 1
            detail = f"{_reason(e)}, who sent {others} other unknown picture(s)"
            yield Signal(item_id, "received_from_prolific_sender", detail, e.source_of_record)


def _originals(
    found: list[Exchange], facts: Facts, by_id: dict[int, ItemFacts], near_bits: int
) -> Iterator[Signal]:
    sent = [(by_id[e.item_id], e) for e in found if e.direction == "sent"]
    if not sent:
        return
    originals = (
        f
        for f in facts.scan("path", "sha256", "mime", "pdq", "make", "model")
        if f.is_image and f.camera and "/dcim/" in f"/{f.path}".casefold()
    )
    for original in originals:
        for copy, e in sent:
            how = _same_picture(original, copy, near_bits)
            if how:
                detail = f"camera original ({original.camera}) {how}, {_reason(e)}"
                yield Signal(original.id, "camera_original_sent", detail, e.source_of_record)
                break


def _same_picture(a: ItemFacts, b: ItemFacts, near_bits: int) -> str | None:
    if a.id == b.id or (a.sha256 and a.sha256 == b.sha256):
        return "sent as is"
    if a.pdq and b.pdq:
        bits = bin(int(a.pdq, 16) ^ int(b.pdq, 16)).count("1")
        if bits <= near_bits:
            return f"sent as a copy (PDQ distance {bits})"
    return None


GROUPINGS.register(ContactGrouping)
GROUPINGS.register(ConversationGrouping)
ITEM_SIGNALS.register(PhoneSignals)
