"""Encrypted phone data built by the inverse of what unseen reads: an iOS backup
encrypted with a known password (small iteration counts, which the format allows),
WhatsApp crypt14/crypt15 backups of a msgstore.db, and the key files that open them."""

from __future__ import annotations

import hashlib
import hmac
import plistlib
import shutil
import sqlite3
import struct
import zlib
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

PASSWORD = "allotment-2024"
ITER, DPIC = 3, 5
FILE_CLASS = 3  # NSFileProtectionCompleteUntilFirstUserAuthentication
MANIFEST_CLASS = 4


def tlv(tag: bytes, value: bytes | int) -> bytes:
    raw = struct.pack(">I", value) if isinstance(value, int) else value
    return tag + struct.pack(">I", len(raw)) + raw


def cbc_encrypt(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def keybag(password: str, seed: bytes) -> tuple[bytes, dict[int, bytes]]:
    """A backup keybag whose class keys 1-11 are wrapped by ``password``."""
    salt, dpsl = hashlib.sha1(seed + b"salt").digest(), hashlib.sha1(seed + b"dpsl").digest()
    kek = hashlib.pbkdf2_hmac(
        "sha1", hashlib.pbkdf2_hmac("sha256", password.encode(), dpsl, DPIC, 32), salt, ITER, 32
    )
    blob = b"".join(
        [
            tlv(b"VERS", 4),
            tlv(b"TYPE", 1),
            tlv(b"UUID", hashlib.md5(seed).digest()),
            tlv(b"HMCK", bytes(40)),
            tlv(b"WRAP", 0),
            tlv(b"SALT", salt),
            tlv(b"ITER", ITER),
            tlv(b"DPWT", 1),
            tlv(b"DPIC", DPIC),
            tlv(b"DPSL", dpsl),
        ]
    )
    keys: dict[int, bytes] = {}
    for number in range(1, 12):
        keys[number] = hashlib.sha256(seed + b"class%d" % number).digest()
        blob += b"".join(
            [
                tlv(b"UUID", hashlib.md5(seed + b"%d" % number).digest()),
                tlv(b"CLAS", number),
                tlv(b"WRAP", 2),
                tlv(b"KTYP", 0),
                tlv(b"WPKY", aes_key_wrap(kek, keys[number])),
            ]
        )
    return blob, keys


def _with_key(mbfile: bytes, wrapped: bytes) -> bytes:
    """An MBFile archive with ``EncryptionKey`` (an archived NSMutableData) added."""
    archive = plistlib.loads(mbfile)
    objects = archive["$objects"]
    top = objects[archive["$top"]["root"].data]
    top["EncryptionKey"] = plistlib.UID(len(objects))
    top["ProtectionClass"] = FILE_CLASS
    objects.append({"NS.data": wrapped, "$class": plistlib.UID(len(objects) + 1)})
    objects.append({"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData"]})
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


def encrypt_backup(plain: Path, out: Path, password: str = PASSWORD) -> None:
    """``out``: the plain backup folder ``plain`` as iTunes writes it encrypted."""
    bag, class_keys = keybag(password, out.name.encode())
    shutil.copytree(plain, out)
    work = out.parent / (out.name + "-manifest.db")
    shutil.copyfile(plain / "Manifest.db", work)
    db = sqlite3.connect(work)
    for file_id, flags, blob in db.execute("SELECT fileID, flags, file FROM Files").fetchall():
        if flags != 1:
            continue
        key = hashlib.sha256(b"file key " + file_id.encode()).digest()
        wrapped = struct.pack("<I", FILE_CLASS) + aes_key_wrap(class_keys[FILE_CLASS], key)
        db.execute(
            "UPDATE Files SET file = ? WHERE fileID = ?", (_with_key(blob, wrapped), file_id)
        )
        stored = out / file_id[:2] / file_id
        if stored.exists():
            stored.write_bytes(cbc_encrypt(key, stored.read_bytes()))
    db.commit()
    db.close()
    manifest_key = hashlib.sha256(b"manifest key").digest()
    (out / "Manifest.db").write_bytes(cbc_encrypt(manifest_key, work.read_bytes()))
    work.unlink()
    info = plistlib.loads((plain / "Manifest.plist").read_bytes())
    info.update(
        IsEncrypted=True,
        BackupKeyBag=bag,
        ManifestKey=struct.pack("<I", MANIFEST_CLASS)
        + aes_key_wrap(class_keys[MANIFEST_CLASS], manifest_key),
    )
    (out / "Manifest.plist").write_bytes(plistlib.dumps(info, fmt=plistlib.FMT_BINARY))


# WhatsApp: the Java-serialised byte[] header of the ``files/key`` file (131 bytes).
JAVA_BYTES_131 = bytes.fromhex("aced0005757200025b42acf317f8060854e00200007870") + struct.pack(
    ">I", 131
)
SERVER_SALT = hashlib.sha256(b"server salt").digest()
GOOGLE_ID = hashlib.md5(b"google id").digest()
CRYPT14_KEY = hashlib.sha256(b"crypt14 aes key").digest()
ROOT_KEY_HEX = hashlib.sha256(b"end-to-end backup key").hexdigest()


def crypt14_keyfile() -> bytes:
    """``/data/data/com.whatsapp/files/key``: 158 bytes, the AES key last."""
    body = (
        b"\x00\x01\x01"
        + SERVER_SALT
        + GOOGLE_ID
        + hashlib.sha256(GOOGLE_ID).digest()
        + bytes(16)
        + CRYPT14_KEY
    )
    return JAVA_BYTES_131 + body


def crypt15_key(root_hex: str = ROOT_KEY_HEX) -> bytes:
    """The AES key of crypt15, from the 64-digit backup key (the HMAC-SHA256 chain)."""
    first = hmac.new(bytes(32), bytes.fromhex(root_hex), hashlib.sha256).digest()
    return hmac.new(first, b"backup encryption\x01", hashlib.sha256).digest()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _info() -> bytes:
    """``Version_Features``: the app version and the end of the owner's number."""
    return _field(1, b"2.24.5.76") + _field(2, b"99") + _field(3, 1) + _field(4, 1)


def crypt(database: bytes, kind: int, iv: bytes = b"\x11" * 16) -> bytes:
    """``msgstore.db.crypt14`` (``kind`` 14) or ``.crypt15``: size byte, feature byte,
    protobuf header, AES-256-GCM of the zlib-compressed database, GCM tag, MD5."""
    if kind == 14:
        cipher = (
            _field(1, b"\x00\x01")
            + _field(2, b"1")
            + _field(3, SERVER_SALT)
            + _field(4, GOOGLE_ID)
            + _field(5, iv)
        )
        header = _field(1, 0) + _field(2, cipher) + _field(4, _info())
        key = CRYPT14_KEY
    else:
        header = _field(1, 1) + _field(3, _field(1, iv)) + _field(4, _info())
        key = crypt15_key()
    prefix = bytes([len(header), 1]) + header
    sealed = AESGCM(key).encrypt(iv, zlib.compress(database, 1), None)
    body = prefix + sealed
    return body + hashlib.md5(body).digest()
