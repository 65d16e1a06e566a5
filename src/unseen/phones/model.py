"""What a message parser returns: plain, picklable records with keys local to one
database, so a worker never needs the case's row ids (the single writer assigns them).

Contacts are keyed by their handle, conversations by the app's chat key, messages by
their ``record_ref`` (table and row in the database), which is also the provenance an
examiner can check by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SENT = "sent"
RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class Contact:
    handle: str
    name: str | None = None
    owner: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    key: str
    title: str | None
    is_group: bool
    participants: tuple[str, ...]  # contact handles
    record_ref: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a message carries, as the database records it.

    ``ref_path`` is the path the app wrote (relative to its own folder, or with ``~/``);
    ``sha256`` is hex when the database holds a digest of the file.
    """

    ref_path: str | None
    name: str | None = None
    mime: str | None = None
    size: int | None = None
    sha256: str | None = None

    def __reduce__(self) -> tuple[type[Attachment], tuple[Any, ...]]:
        return Attachment, (self.ref_path, self.name, self.mime, self.size, self.sha256)


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and that
# made building the messages (millions per phone) four times as costly. Nothing
# changes a message once its parser made it.
@dataclass(slots=True)
class Message:
    record_ref: str
    conversation: str | None  # Conversation.key
    sender: str | None  # Contact.handle; None for the owner
    direction: str  # SENT or RECEIVED
    ts_utc: str | None  # None: derived from ts_raw and ts_epoch when stored
    ts_raw: int | float | str | None  # as stored; written as text (kept small in memory)
    ts_epoch: str | None
    text: str | None
    status: str | None = None
    from_wal: bool = False
    attachments: tuple[Attachment, ...] = ()

    def __reduce__(self) -> tuple[type[Message], tuple[Any, ...]]:
        """Pickled as its constructor's arguments: a chunk's messages cross from a
        worker to the writer, and the dataclass's own state pickling costs about twice
        as much (on the writer's side too, which stores every chunk)."""
        return Message, (
            self.record_ref, self.conversation, self.sender, self.direction, self.ts_utc,
            self.ts_raw, self.ts_epoch, self.text, self.status, self.from_wal,
            self.attachments,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Device:
    platform: str  # ios, android
    name: str | None = None
    model: str | None = None
    os_version: str | None = None
    serial: str | None = None
    imei: str | None = None
    phone_number: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MediaAsset:
    """A picture or video a photo library records: where the file should be (relative
    to the phone's home, e.g. ``Media/DCIM/100APPLE/IMG_0001.HEIC``) and how it came."""

    ref_path: str
    direction: str  # captured, saved, downloaded
    app: str
    record_ref: str
    ts_utc: str | None = None
    original_name: str | None = None
    hidden: bool = False
    deleted: bool = False
    gps_lat: float | None = None
    gps_lon: float | None = None


@dataclass(frozen=True, slots=True)
class AppContainer:
    """An iOS app container: its folder and the bundle or group id that owns it."""

    container: str
    kind: str
    identifier: str


@dataclass
class Extract:
    """Everything one parser read from one database (or device file)."""

    app: str
    contacts: dict[str, Contact] = field(default_factory=dict)
    conversations: list[Conversation] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    assets: list[MediaAsset] = field(default_factory=list)
    apps: list[AppContainer] = field(default_factory=list)

    def contact(self, handle: str, name: str | None = None, owner: bool = False) -> str:
        """Register a handle (keeping the first name seen unless it had none)."""
        known = self.contacts.get(handle)
        if known is None or (known.name is None and name):
            kept = known.handle if known else handle
            self.contacts[kept] = Contact(kept, name or (known.name if known else None), owner)
            return kept
        return known.handle  # the one stored string, shared by every message that names it

    def records(self) -> int:
        return len(self.messages) + len(self.devices) + len(self.assets) + len(self.apps)
