"""Telegram's message objects as Telegram for Android serialises them into ``cache4.db``
(``messages_v2.data``): the sender, the text and the photo or document a message
carries, read with the bounded ``tl.Reader``.

Only what comes before the text and the media right after it is read (everything
later in the object, reactions, replies, entities, is skipped by not reading it).
The constructors covered are those of the message layouts since Telegram moved user
ids to 64 bits (2021): with and without the second flag word (``flags2``), the forward
and reply headers, the photo and document media and their sizes and attributes, as
the public TL schema and Telegram for Android's ``TLRPC`` define them. Anything else
is an ``Unknown`` constructor, which the parser records as that message's loss.

Local file names follow Telegram for Android's ``FileLoader.getAttachFileName``: a
document is ``{dc_id}_{id}{.ext}`` (the extension of its file name attribute, else of
its MIME type); a photo size is ``{volume_id}_{local_id}.jpg`` with, for photos since
layer 127, ``volume_id = -photo.id`` and ``local_id`` the character code of the
size's type letter (``PhotoSize.TLdeserialize``).
"""

from __future__ import annotations

from dataclasses import dataclass

from unseen.phones.parsers.tl import Reader, TLError, Unknown, flag

# message constructors that carry the second flag word (layer 179 on) and those that
# do not (layers 133 to 178, 64-bit peer ids throughout)
MESSAGE_FLAGS2 = frozenset({
    0x95EF6F2B, 0x7600B9D3, 0x3AE56482, 0x9CB490E9, 0xB92F76CF, 0x9815CEC8, 0xEABCDD4D,
    0x96FDBBE9, 0x94345242, 0xBDE09C2E, 0x2357BF25,
})  # fmt: skip
MESSAGE_PLAIN = frozenset({0x76BEC211, 0x38116EE0, 0x85D6CBE2, 0x1E4C8A69, 0xA66C7EFC})
# the two latest layouts write a field after via_business_bot_id when flags2 bit 19 is set
GUESTCHAT = frozenset({0x95EF6F2B, 0x7600B9D3})
SERVICE = frozenset({0x2B085862, 0xD3D28540, 0x7A800E0A, 0x286FA604})
SECRET = frozenset({0x555555FA, 0x555555F9, 0x555555F8})

PEERS = {0x59511722: "user", 0x36C6019A: "chat", 0xA2A5371E: "channel"}
FWD_HEADER = 0x4E4DF4BB
FWD_HEADER_OLD = 0x5F777DCE
REPLY_HEADER = 0xAFBC09DB
REPLY_HEADER_OLD = 0xA6D57763

MEDIA_EMPTY = 0x3DED6320
MEDIA_PHOTO = 0x695150D7
MEDIA_DOCUMENT = frozenset({0x4CF4D72D, 0xDD570BD5, 0x52D8CCD9, 0x9CB070D7})
PHOTO = 0xFB197A65
PHOTO_EMPTY = 0x2331B22D
DOCUMENT = 0x8FD4C4D8  # size is a long
DOCUMENT_OLD = 0x1E87342B  # size is an int
DOCUMENT_EMPTY = 0x36F8C871
VIDEO_SIZE = 0xDE33B094

SIZE_PLAIN = 0x75C78E60  # type w h size
SIZE_CACHED = 0x021E1AD6  # type w h bytes
SIZE_STRIPPED = 0xE0B0BC2E  # type bytes
SIZE_PROGRESSIVE = 0xFA3EFB95  # type w h sizes:Vector<int>
SIZE_PATH = 0xD8214D41  # type bytes
SIZE_EMPTY = 0x0E17E23C  # type

ATTR_FILENAME = 0x15590068
ATTR_IMAGE_SIZE = 0x6C37C15C
ATTR_ANIMATED = 0x11B58939
ATTR_HAS_STICKERS = 0x9801D2F7
ATTR_AUDIO = 0x9852F9C6
ATTR_VIDEO_OLD = 0x0EF02CE6  # duration int
ATTR_VIDEO = 0xD38FF1C2  # duration double
ATTR_VIDEO_START = 0x17399FAD  # + video_start_ts
ATTR_VIDEO_CODEC = 0x43C57C48  # + video_codec
VOICE_BIT = 10

# FileLoader.getExtensionByMimeType
MIME_EXTENSIONS = {"video/mp4": ".mp4", "video/x-matroska": ".mkv", "audio/ogg": ".ogg"}
IMAGES = "Telegram/Telegram Images"
VIDEO = "Telegram/Telegram Video"
AUDIO = "Telegram/Telegram Audio"
DOCUMENTS = "Telegram/Telegram Documents"


@dataclass(frozen=True, slots=True)
class Media:
    """A photo or document a message carries: the file name Telegram saves it under
    (None when the object does not say enough) and its folder under ``Telegram/``."""

    local_name: str | None
    folder: str
    original_name: str | None
    mime: str | None
    size: int | None


@dataclass(frozen=True, slots=True)
class Decoded:
    service: bool
    sender: tuple[str, int] | None  # (user|chat|channel, id) from from_id
    text: str | None
    media: Media | None = None
    media_error: str | None = None  # the media could not be read (the text could)


def decode_message(blob: bytes) -> Decoded:
    """Sender, text and media of one ``messages_v2.data`` blob; ``TLError`` when the
    text cannot be reached."""
    r = Reader(blob)
    constructor = r.uint32()
    if constructor in SERVICE:
        return Decoded(True, None, None)
    if constructor in SECRET:
        raise Unknown("secret-chat message", constructor)
    if constructor not in MESSAGE_FLAGS2 and constructor not in MESSAGE_PLAIN:
        raise Unknown("message", constructor)
    flags = r.uint32()
    flags2 = r.uint32() if constructor in MESSAGE_FLAGS2 else 0
    r.int32()  # id
    sender = peer(r) if flag(flags, 8) else None
    if flag(flags, 29):
        r.int32()  # from_boosts_applied
    peer(r)  # peer_id: the dialog, known from the row
    if flag(flags, 28):
        peer(r)  # saved_peer_id
    if flag(flags, 2):
        _forward_header(r)
    if flag(flags, 11):
        r.int64()  # via_bot_id
    if flag(flags2, 0):
        r.int64()  # via_business_bot_id
    if constructor in GUESTCHAT and flag(flags2, 19):
        raise TLError("a guest-chat field this reader does not decode")
    if flag(flags, 3):
        _reply_header(r)
    r.int32()  # date: the row's own column is the one kept
    text = r.string()
    if not flag(flags, 9):
        return Decoded(False, sender, text)
    try:
        return Decoded(False, sender, text, media(r))
    except TLError as exc:
        return Decoded(False, sender, text, None, str(exc))


def peer(r: Reader) -> tuple[str, int]:
    constructor = r.uint32()
    kind = PEERS.get(constructor)
    if kind is None:
        raise Unknown("peer", constructor)
    return kind, r.int64()


def _forward_header(r: Reader) -> None:
    constructor = r.uint32()
    if constructor not in (FWD_HEADER, FWD_HEADER_OLD):
        raise Unknown("forward header", constructor)
    flags = r.uint32()
    if flag(flags, 0):
        peer(r)  # from_id
    if flag(flags, 5):
        r.string()  # from_name
    r.int32()  # date
    if flag(flags, 2):
        r.int32()  # channel_post
    if flag(flags, 3):
        r.string()  # post_author
    if flag(flags, 4):
        peer(r)  # saved_from_peer
        r.int32()  # saved_from_msg_id
    if constructor == FWD_HEADER:
        if flag(flags, 8):
            peer(r)  # saved_from_id
        if flag(flags, 9):
            r.string()  # saved_from_name
        if flag(flags, 10):
            r.int32()  # saved_date
    if flag(flags, 6):
        r.string()  # psa_type


def _reply_header(r: Reader) -> None:
    constructor = r.uint32()
    if constructor == REPLY_HEADER_OLD:
        flags = r.uint32()
        r.int32()  # reply_to_msg_id
        if flag(flags, 0):
            peer(r)
        if flag(flags, 1):
            r.int32()  # reply_to_top_id
        return
    if constructor != REPLY_HEADER:
        raise Unknown("reply header", constructor)
    flags = r.uint32()
    if flag(flags, 4):
        r.int32()  # reply_to_msg_id
    if flag(flags, 0):
        peer(r)  # reply_to_peer_id
    if flag(flags, 5):
        _forward_header(r)  # reply_from
    if flag(flags, 8):
        media(r)  # reply_media
    if flag(flags, 1):
        r.int32()  # reply_to_top_id
    if flag(flags, 6):
        r.string()  # quote_text
    if flag(flags, 7):
        raise TLError("a reply quoting formatted text, which this reader does not decode")
    if flag(flags, 10):
        r.int32()  # quote_offset


def media(r: Reader) -> Media | None:
    """The photo or document of a ``MessageMedia``; None for an empty one."""
    constructor = r.uint32()
    if constructor == MEDIA_EMPTY:
        return None
    if constructor == MEDIA_PHOTO:
        flags = r.uint32()
        return _photo(r) if flag(flags, 0) else None
    if constructor in MEDIA_DOCUMENT:
        flags = r.uint32()
        return _document(r) if flag(flags, 0) else None
    raise Unknown("media", constructor)


def _photo(r: Reader) -> Media | None:
    constructor = r.uint32()
    if constructor == PHOTO_EMPTY:
        r.int64()
        return None
    if constructor != PHOTO:
        raise Unknown("photo", constructor)
    r.uint32()  # flags
    photo_id = r.int64()
    r.int64()  # access_hash
    r.raw_bytes()  # file_reference
    r.int32()  # date
    best: tuple[int, str, int | None] | None = None  # (area, type, size)
    for _ in range(r.vector_count()):
        kind, width, height, size = photo_size(r)
        if kind and (best is None or width * height > best[0]):
            best = (width * height, kind, size)
    if best is None:
        return Media(None, IMAGES, None, "image/jpeg", None)
    name = f"{-photo_id}_{ord(best[1][0])}.jpg"
    return Media(name, IMAGES, None, "image/jpeg", best[2])


def photo_size(r: Reader) -> tuple[str, int, int, int | None]:
    """(type letter, width, height, bytes) of one ``PhotoSize``."""
    constructor = r.uint32()
    kind = r.string()
    if constructor == SIZE_PLAIN:
        return kind, r.int32(), r.int32(), r.int32()
    if constructor == SIZE_CACHED:
        width, height = r.int32(), r.int32()
        return kind, width, height, len(r.raw_bytes())
    if constructor == SIZE_PROGRESSIVE:
        width, height = r.int32(), r.int32()
        sizes = [r.int32() for _ in range(r.vector_count())]
        return kind, width, height, max(sizes, default=None)
    if constructor in (SIZE_STRIPPED, SIZE_PATH):
        r.raw_bytes()
        return "", 0, 0, None  # inline previews, never saved as files
    if constructor == SIZE_EMPTY:
        return "", 0, 0, None
    raise Unknown("photo size", constructor)


def _document(r: Reader) -> Media | None:
    constructor = r.uint32()
    if constructor == DOCUMENT_EMPTY:
        r.int64()
        return None
    if constructor not in (DOCUMENT, DOCUMENT_OLD):
        raise Unknown("document", constructor)
    flags = r.uint32()
    doc_id = r.int64()
    r.int64()  # access_hash
    r.raw_bytes()  # file_reference
    r.int32()  # date
    mime = r.string()
    size = r.int64() if constructor == DOCUMENT else r.int32()
    if flag(flags, 0):
        for _ in range(r.vector_count()):
            photo_size(r)
    if flag(flags, 1):
        for _ in range(r.vector_count()):
            _video_size(r)
    dc_id = r.int32()
    file_name, folder, animated = None, DOCUMENTS, False
    for _ in range(r.vector_count()):
        kind, value = _attribute(r)
        if kind == "file_name":
            file_name = value
        animated |= kind == "animated"
        if kind in (VIDEO, AUDIO) and folder == DOCUMENTS:
            folder = kind
    if animated:  # a GIF is kept with the documents, not the videos
        folder = DOCUMENTS
    dot = file_name.rfind(".") if file_name else -1
    ext = file_name[dot:] if file_name and dot != -1 else ""
    if len(ext) <= 1:
        ext = MIME_EXTENSIONS.get(mime, "")
    return Media(f"{dc_id}_{doc_id}{ext}", folder, file_name, mime or None, size)


def _video_size(r: Reader) -> None:
    constructor = r.uint32()
    if constructor != VIDEO_SIZE:
        raise Unknown("video size", constructor)
    flags = r.uint32()
    r.string()  # type
    r.int32(), r.int32(), r.int32()  # w h size
    if flag(flags, 0):
        r.double()  # video_start_ts


def _attribute(r: Reader) -> tuple[str, str | None]:
    """One ``DocumentAttribute``: ("file_name", name), (folder, None) for a video or a
    voice note (the folder Telegram saves it in), ("animated", None), else ("", None)."""
    constructor = r.uint32()
    if constructor == ATTR_FILENAME:
        return "file_name", r.string()
    if constructor == ATTR_IMAGE_SIZE:
        r.int32(), r.int32()
        return "", None
    if constructor == ATTR_ANIMATED:
        return "animated", None
    if constructor == ATTR_HAS_STICKERS:
        return "", None
    if constructor == ATTR_AUDIO:
        flags = r.uint32()
        r.int32()  # duration
        if flag(flags, 0):
            r.string()  # title
        if flag(flags, 1):
            r.string()  # performer
        if flag(flags, 2):
            r.raw_bytes()  # waveform
        return (AUDIO if flag(flags, VOICE_BIT) else ""), None
    if constructor == ATTR_VIDEO_OLD:
        r.uint32(), r.int32(), r.int32(), r.int32()
        return VIDEO, None
    if constructor in (ATTR_VIDEO, ATTR_VIDEO_START, ATTR_VIDEO_CODEC):
        flags = r.uint32()
        r.double(), r.int32(), r.int32()  # duration w h
        if flag(flags, 2):
            r.int32()  # preload_prefix_size
        if constructor != ATTR_VIDEO and flag(flags, 4):
            r.double()  # video_start_ts
        if constructor == ATTR_VIDEO_CODEC and flag(flags, 5):
            r.string()  # video_codec
        return VIDEO, None
    raise Unknown("document attribute", constructor)


def proper_name(blob: object, object_id: int, search_name: str, kind: str) -> str | None:
    """The name as the person or group wrote it, from a ``users``/``chats`` blob.

    The table's ``name`` column is Telegram's lower-cased search key. The blob holds the
    real one, but user and chat constructors change with almost every layer, so instead
    of a list of ids each plausible layout is tried and one is trusted only when the id
    it reads is the row's own and the name it reads lower-cases to the search key.
    None when no layout passes both checks (the caller keeps the search key)."""
    if not isinstance(blob, bytes) or len(blob) > 64 * 1024:
        return None
    for layout in _USER_LAYOUTS if kind == "user" else _CHAT_LAYOUTS:
        try:
            found = layout(Reader(blob))
        except TLError:
            continue
        if found is not None and found[0] == object_id and found[1].lower() == search_name:
            return found[1]
    return None


def _user_flags2(r: Reader) -> tuple[int, str] | None:
    r.uint32()  # constructor
    flags = r.uint32()
    r.uint32()  # flags2
    return _user_rest(r, flags)


def _user_plain(r: Reader) -> tuple[int, str] | None:
    r.uint32()
    return _user_rest(r, r.uint32())


def _user_rest(r: Reader, flags: int) -> tuple[int, str] | None:
    user_id = r.int64()
    if flag(flags, 0):
        r.int64()  # access_hash
    first = r.string() if flag(flags, 1) else ""
    last = r.string() if flag(flags, 2) else ""
    name = " ".join(part for part in (first, last) if part)
    return (user_id, name) if name else None


def _chat_basic(r: Reader) -> tuple[int, str] | None:
    r.uint32()
    r.uint32()  # flags
    return r.int64(), r.string()


def _channel(r: Reader, with_flags2: bool) -> tuple[int, str] | None:
    r.uint32()
    flags = r.uint32()
    if with_flags2:
        r.uint32()
    channel_id = r.int64()
    if flag(flags, 13):
        r.int64()  # access_hash
    return channel_id, r.string()


_USER_LAYOUTS = (_user_flags2, _user_plain)
_CHAT_LAYOUTS = (
    _chat_basic,
    lambda r: _channel(r, True),
    lambda r: _channel(r, False),
)


def user_id(blob: bytes, known: set[int]) -> int | None:
    """The id in a serialised ``user`` (the account's own, in the app's preferences),
    trusted only when it is one of ``known`` (the ``users`` table always holds the
    account itself), with or without the second flag word."""
    for with_flags2 in (True, False):
        r = Reader(blob)
        try:
            r.uint32()  # constructor
            r.uint32()  # flags
            if with_flags2:
                r.uint32()
            found = r.int64()
        except TLError:
            continue
        if found in known:
            return found
    return None
