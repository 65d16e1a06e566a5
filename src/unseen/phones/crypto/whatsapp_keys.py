"""WhatsApp for Android's encrypted local backups (``msgstore.db.crypt14``/``.crypt15``).

Layout, as WhatsApp writes it since 2021 (read in ``wa-crypt-tools`` and
``whatsapp-chat-exporter``): one byte giving the size of a protobuf header, an optional
``0x01`` feature byte, the header (field 1 the key type; field 2 the crypt14 cipher
record with the IV in its field 5, or field 3 the crypt15 record with the IV in its
field 1; field 4 the app version), then the AES-256-GCM ciphertext of the
zlib-compressed database, its 16-byte GCM tag, and an MD5 of everything before it
(a multi-file backup has no MD5: its tag ends the file).

Keys: crypt14 is opened by the last 32 bytes of ``files/key`` (a Java-serialised
``byte[131]``); crypt15 by the 64-digit end-to-end backup key (or ``encrypted_backup.key``,
a Java-serialised ``byte[32]`` of it), from which the AES key is HMAC-SHA256(
HMAC-SHA256(zeros, root), "backup encryption" 0x01).
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# ``ObjectOutputStream`` of a ``byte[]``: magic, TC_ARRAY, class "[B" and its serial
# version id, no fields, no superclass; then the 4-byte length and the bytes.
JAVA_BYTE_ARRAY = bytes.fromhex("aced0005757200025b42acf317f8060854e00200007870")
BACKUP_ENCRYPTION = b"backup encryption\x01"
CRYPT14_KEY_FILE = 131
HEAD = 4096
CHUNK = 1024 * 1024
# Before the protobuf header (2021) crypt14 kept its IV and data at fixed offsets.
FIXED_IV, FIXED_DATA = 67, 191


class WrongKey(ValueError):
    """A value that is not one of WhatsApp's keys."""


class NoKeyOpens(ValueError):
    """None of the keys given opens the backup."""


class DamagedBackup(ValueError):
    """The backup is truncated, corrupt or not one WhatsApp writes."""


class TooBig(ValueError):
    """The decompressed database exceeds the limit the caller set."""


def crypt15_key(root: bytes) -> bytes:
    """The AES key of a crypt15 backup from its 32-byte end-to-end backup key."""
    first = hmac.new(bytes(32), root, hashlib.sha256).digest()
    return hmac.new(first, BACKUP_ENCRYPTION, hashlib.sha256).digest()


def java_bytes(data: bytes) -> bytes | None:
    """The content of a Java-serialised ``byte[]``, or None when ``data`` is not one."""
    head = len(JAVA_BYTE_ARRAY)
    if not data.startswith(JAVA_BYTE_ARRAY) or len(data) < head + 4:
        return None
    size = int.from_bytes(data[head : head + 4], "big")
    body = data[head + 4 : head + 4 + size]
    return body if len(body) == size else None


def aes_keys(value: str) -> list[bytes]:
    """Candidate AES keys from what the examiner gave: 64 hex digits (the end-to-end
    backup key, or a raw AES key), or a key file's bytes in hex.

    Raises:
        WrongKey: neither (the message never quotes the value).
    """
    text = value.strip().lower()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise WrongKey("not 64 hex digits nor a WhatsApp key file") from None
    return key_file_keys(raw)


def key_file_keys(raw: bytes) -> list[bytes]:
    """Candidate AES keys from a key's bytes: 32 raw bytes, ``files/key`` or
    ``encrypted_backup.key``.

    Raises:
        WrongKey: not one of those.
    """
    body = java_bytes(raw)
    if body is None and len(raw) == 32:
        body = raw
    if body is not None and len(body) == 32:
        return [crypt15_key(body), body]
    if body is not None and len(body) == CRYPT14_KEY_FILE:
        return [body[-32:]]
    raise WrongKey("not 64 hex digits nor a WhatsApp key file")


@dataclass(frozen=True)
class Header:
    iv: bytes
    data_offset: int


def read_header(head: bytes) -> list[Header]:
    """Where the IV and the ciphertext are, best guess first.

    Raises:
        DamagedBackup: too short to hold any header.
    """
    found: list[Header] = []
    if len(head) < 2:
        raise DamagedBackup("too short for a header")
    size, start = head[0], 2 if head[1] == 1 else 1
    proto = head[start : start + size]
    if len(proto) == size:
        try:
            fields = _proto(proto)
            iv = _iv(fields)
        except (ValueError, IndexError):
            iv = None
        if iv is not None:
            found.append(Header(iv, start + size))
    if len(head) > FIXED_DATA:
        found.append(Header(head[FIXED_IV : FIXED_IV + 16], FIXED_DATA))
    if not found:
        raise DamagedBackup("no readable header (truncated?)")
    return found


def _iv(fields: dict[int, list[bytes | int]]) -> bytes | None:
    for outer, inner in ((3, 1), (2, 5)):  # crypt15, then crypt14
        for record in fields.get(outer, []):
            if isinstance(record, bytes):
                for iv in _proto(record).get(inner, []):
                    if isinstance(iv, bytes) and len(iv) == 16:
                        return iv
    return None


def _proto(data: bytes) -> dict[int, list[bytes | int]]:
    """Protobuf wire format: varint and length-delimited fields kept, fixed-size ones
    skipped (a later app version may add any).

    Raises:
        ValueError: a group or unknown wire type, or a field running past the end.
    """
    out: dict[int, list[bytes | int]] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.setdefault(number, []).append(value)
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ValueError("field runs past the end")
            out.setdefault(number, []).append(data[pos : pos + size])
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            if pos > len(data):
                raise ValueError("field runs past the end")
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _zlib_start(data: bytes) -> bool:
    """Whether two bytes can open a zlib stream (deflate, no preset dictionary)."""
    return (
        len(data) >= 2
        and data[0] & 0x0F == 8
        and data[0] >> 4 <= 7
        and not data[1] & 0x20
        and (data[0] << 8 | data[1]) % 31 == 0
    )


def decrypt_backup(stream: BinaryIO, keys: list[bytes], out: BinaryIO, limit: int) -> None:
    """Write the database of a crypt14/crypt15 backup to ``out``.

    The first key whose first decrypted bytes open a zlib stream is used; the GCM tag
    then proves the whole content, so a wrong key never yields a database.

    Raises:
        NoKeyOpens: no key decrypts the start of the content.
        DamagedBackup: truncated, corrupt, or the tag does not verify.
        TooBig: the database is bigger than ``limit``.
    """
    stream.seek(0, 2)
    total = stream.tell()
    stream.seek(0)
    head = stream.read(HEAD)
    ends = _ends(stream, total)
    for header in read_header(head):
        sample = head[header.data_offset : header.data_offset + 2]
        for key in keys:
            if len(key) != 32 or not _zlib_start(_ctr_start(key, header.iv, sample)):
                continue
            problem = None
            for data_end, tag in ends:
                if data_end <= header.data_offset:
                    continue
                try:
                    _decrypt(stream, key, header, data_end, tag, out, limit)
                    return
                except DamagedBackup as exc:
                    problem = problem or exc
                    out.seek(0)
                    out.truncate()
            raise problem or DamagedBackup("truncated: no room for the GCM tag")
    raise NoKeyOpens("no key given opens it")


def _ends(stream: BinaryIO, total: int) -> list[tuple[int, bytes]]:
    """Where the ciphertext may end and its tag: before tag + MD5 when the MD5 checks,
    else (a multi-file backup, or damage) before a final tag."""
    if total < 32:
        raise DamagedBackup(f"truncated: {total} bytes")
    md5 = hashlib.md5()
    stream.seek(0)
    remaining = total - 16
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            break
        md5.update(chunk)
        remaining -= len(chunk)
    stream.seek(total - 32)
    tail = stream.read(32)
    if md5.digest() == tail[16:]:
        return [(total - 32, tail[:16])]
    return [(total - 16, tail[16:]), (total - 32, tail[:16])]


def _ctr_start(key: bytes, iv: bytes, sample: bytes) -> bytes:
    """The first plaintext bytes, without the tag (GCM is counter mode underneath)."""
    decryptor = Cipher(algorithms.AES(key), modes.GCM(iv)).decryptor()
    return decryptor.update(sample)


def _decrypt(
    stream: BinaryIO,
    key: bytes,
    header: Header,
    data_end: int,
    tag: bytes,
    out: BinaryIO,
    limit: int,
) -> None:
    decryptor = Cipher(algorithms.AES(key), modes.GCM(header.iv, tag)).decryptor()
    inflate = zlib.decompressobj()
    written = 0
    stream.seek(header.data_offset)
    remaining = data_end - header.data_offset
    try:
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                raise DamagedBackup("truncated while reading")
            remaining -= len(chunk)
            plain = inflate.decompress(decryptor.update(chunk), limit + 1 - written)
            written += len(plain)
            if written > limit or inflate.unconsumed_tail:
                raise TooBig(f"the database is larger than the {limit}-byte limit")
            out.write(plain)
        decryptor.finalize()
    except InvalidTag:
        raise DamagedBackup("the GCM tag does not verify: corrupt or truncated") from None
    except zlib.error as exc:
        raise DamagedBackup(f"decrypted content is not a compressed database: {exc}") from None
    if not inflate.eof:
        raise DamagedBackup("the compressed database ends early: truncated")
