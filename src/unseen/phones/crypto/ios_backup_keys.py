"""Encrypted iTunes/Finder backups (iOS 10.2 and later), opened with the backup password.

``Manifest.plist`` holds ``BackupKeyBag``: TLV records (4-byte tag, 4-byte big-endian
length, value; 4-byte values are big-endian integers). The first ``UUID`` and the
records after it describe the bag (``SALT``/``ITER`` and, since iOS 10.2,
``DPSL``/``DPIC``); each later ``UUID`` starts a class key (``CLAS`` protection class,
``WRAP`` how it is wrapped, ``KTYP``, ``WPKY`` the wrapped key). The password unlocks
it by PBKDF2-HMAC-SHA256 (``DPSL``, ``DPIC``) then PBKDF2-HMAC-SHA1 (``SALT``,
``ITER``); the result unwraps (AES key wrap, RFC 3394) every class key wrapped by the
passcode. ``ManifestKey`` (4-byte little-endian class, then a wrapped key) opens
``Manifest.db``; each file's ``EncryptionKey`` in its MBFile (same layout) opens the
file. Content is AES-256-CBC with a zero IV and PKCS#7 padding, cut to the size
Manifest.db records.

Decryption is positional (``CbcReader``): a block needs only the ciphertext block
before it, so items are read, hashed and seeked without a decrypted copy anywhere.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from unseen.sources.streams import PositionalStream

BLOCK = 16
ZERO_IV = bytes(BLOCK)
WRAP_PASSCODE = 2
CLASS_TAGS = frozenset({b"CLAS", b"WRAP", b"WPKY", b"KTYP", b"PBKY"})
# Apple uses 10 000 (SHA-1) and 10 000 000 (SHA-256); a hostile bag asking for more
# than this would hold a worker for hours.
MAX_ITERATIONS = 100_000_000


class WrongPassword(ValueError):
    """The password does not unwrap the backup's class keys."""


class DamagedKeybag(ValueError):
    """The keybag or a wrapped key is not as iOS writes it."""


@dataclass
class Keybag:
    attrs: dict[bytes, bytes | int] = field(default_factory=dict)
    classes: dict[int, dict[bytes, bytes | int]] = field(default_factory=dict)


def parse_keybag(blob: bytes) -> Keybag:
    """The bag's attributes and class keys (still wrapped).

    Raises:
        DamagedKeybag: a record runs past the end, or a class key has no class.
    """
    bag = Keybag()
    current: dict[bytes, bytes | int] | None = None
    seen_uuid = False
    pos = 0
    while pos + 8 <= len(blob):
        tag, size = blob[pos : pos + 4], struct.unpack(">I", blob[pos + 4 : pos + 8])[0]
        raw = blob[pos + 8 : pos + 8 + size]
        if len(raw) != size:
            raise DamagedKeybag(f"keybag record {tag!r} runs past the end")
        pos += 8 + size
        value: bytes | int = struct.unpack(">I", raw)[0] if size == 4 else raw
        if tag == b"UUID" and not seen_uuid:
            seen_uuid = True
            bag.attrs[tag] = value
        elif tag == b"UUID":
            _close_class(bag, current)
            current = {tag: value}
        elif current is not None and tag in CLASS_TAGS:
            current[tag] = value
        else:
            bag.attrs[tag] = value
    _close_class(bag, current)
    return bag


def _close_class(bag: Keybag, current: dict[bytes, bytes | int] | None) -> None:
    if current is None:
        return
    number = current.get(b"CLAS")
    if not isinstance(number, int):
        raise DamagedKeybag("a class key without its class")
    bag.classes[number] = current


def passcode_key(bag: Keybag, password: bytes) -> bytes:
    """The key that unwraps the class keys, derived from the password.

    Raises:
        DamagedKeybag: salts or iteration counts missing or implausible.
    """
    key = password
    dpsl, dpic = bag.attrs.get(b"DPSL"), bag.attrs.get(b"DPIC")
    if dpsl is not None:  # iOS 10.2 and later: a first, slow SHA-256 round
        key = hashlib.pbkdf2_hmac("sha256", key, _salt(dpsl), _count(dpic), 32)
    salt, iterations = bag.attrs.get(b"SALT"), bag.attrs.get(b"ITER")
    return hashlib.pbkdf2_hmac("sha1", key, _salt(salt), _count(iterations), 32)


def _salt(value: bytes | int | None) -> bytes:
    if not isinstance(value, bytes) or not value:
        raise DamagedKeybag("keybag salt missing")
    return value


def _count(value: bytes | int | None) -> int:
    if not isinstance(value, int) or not 0 < value <= MAX_ITERATIONS:
        raise DamagedKeybag(f"implausible keybag iteration count {value!r}")
    return value


def unlock(bag: Keybag, password: bytes) -> dict[int, bytes]:
    """The class keys, by protection class.

    Raises:
        WrongPassword: the derived key unwraps no class key.
        DamagedKeybag: the bag is not as iOS writes it.
    """
    kek = passcode_key(bag, password)
    keys: dict[int, bytes] = {}
    for number, entry in bag.classes.items():
        wrapped, wrap = entry.get(b"WPKY"), entry.get(b"WRAP")
        if not isinstance(wrapped, bytes) or not isinstance(wrap, int):
            continue
        if not wrap & WRAP_PASSCODE:
            continue  # wrapped by the device's own key: never needed in a backup
        try:
            keys[number] = aes_key_unwrap(kek, wrapped)
        except InvalidUnwrap:
            raise WrongPassword("the password does not open the backup's keybag") from None
        except ValueError as exc:
            raise DamagedKeybag(f"class key {number} not unwrapped: {exc}") from None
    if not keys:
        raise DamagedKeybag("the keybag holds no class key wrapped by a password")
    return keys


def unwrap_file_key(class_keys: dict[int, bytes], blob: bytes, cls: int | None = None) -> bytes:
    """A file's (or Manifest.db's) key from its wrapped form: 4-byte little-endian
    protection class, then the RFC 3394 wrapped key. ``cls`` (the MBFile's
    ``ProtectionClass``) wins over the prefix when given.

    Raises:
        DamagedKeybag: no key for the class, or the wrapped key does not unwrap.
    """
    if len(blob) < 4 + 24:
        raise DamagedKeybag("wrapped key too short")
    number = cls if cls is not None else struct.unpack("<I", blob[:4])[0]
    kek = class_keys.get(number)
    if kek is None:
        raise DamagedKeybag(f"no key for protection class {number}")
    try:
        return aes_key_unwrap(kek, blob[4:])
    except (InvalidUnwrap, ValueError):
        raise DamagedKeybag(f"key of protection class {number} does not unwrap") from None


class CbcReader(PositionalStream):
    """A file encrypted with AES-256-CBC and a zero IV, read as its plaintext.

    ``size`` is the plaintext size Manifest.db records; without it the PKCS#7 padding
    of the last block says where the content ends. A ciphertext cut short (not a
    whole number of blocks) reads as far as its last whole block.
    """

    def __init__(self, raw: BinaryIO, key: bytes, size: int | None) -> None:
        self._raw, self._key = raw, key
        raw.seek(0, 2)
        whole = raw.tell() // BLOCK * BLOCK
        self._whole = whole
        plain = whole - self._padding() if size is None else min(size, whole)
        super().__init__(max(0, plain))

    def _padding(self) -> int:
        if self._whole < BLOCK:
            return 0
        last = self._blocks(self._whole - BLOCK, self._whole)
        pad = last[-1]
        return pad if 0 < pad <= BLOCK and last.endswith(bytes([pad]) * pad) else 0

    def _blocks(self, start: int, end: int) -> bytes:
        """Plaintext of the whole blocks from ``start`` to ``end`` (multiples of 16)."""
        before = max(0, start - BLOCK)
        self._raw.seek(before)
        data = self._raw.read(end - before)
        iv, body = (ZERO_IV, data) if start == 0 else (data[:BLOCK], data[BLOCK:])
        body = body[: len(body) // BLOCK * BLOCK]
        if not body or len(iv) != BLOCK:
            return b""
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(iv)).decryptor()
        return decryptor.update(body) + decryptor.finalize()

    def _read_at(self, offset: int, n: int) -> bytes:
        start = offset // BLOCK * BLOCK
        end = min(self._whole, -(-(offset + n) // BLOCK) * BLOCK)
        return self._blocks(start, end)[offset - start : offset - start + n]

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
