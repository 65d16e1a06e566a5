"""Encrypted volumes: LUKS, BitLocker and FileVault 2, opened with the examiner's key.

A volume that holds no file system TSK reads is checked for an encryption header.
With a key (``unseen add CASE IMAGE --key VOLUME=KEY``) it is decrypted by the libyal
library dfvfs uses for it (libluksde, libbde, libfvde) and its file system is walked like any
other; without one, or with a wrong one, it is recorded as an item "not examined"
saying which ``--key`` to give. Adding a format means one ``CryptFormat`` class.

Volumes are named as the examiner sees them: ``p2`` for the second listed partition,
``whole`` for an image that is one encrypted volume; ``*`` in ``--key`` matches any.
Keys are never logged: ``key_digest`` is what the audit log records.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from typing import Any, BinaryIO, ClassVar

from unseen.core.registry import Registry
from unseen.sources.media import MediaStream, libyal, libyal_cause, not_examined
from unseen.sources.streams import Slice

WHOLE = "whole"
ANY = "*"


def key_digest(key: str) -> str:
    """SHA-256 of a key: proves which key was used without revealing it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_for(keys: dict[str, str], volume: str) -> str | None:
    return keys.get(volume) or keys.get(ANY)


class CryptFormat(ABC):
    """One volume-encryption format: recognise its header, decrypt with a key."""

    NAME: ClassVar[str]
    LABEL: ClassVar[str]  # as examiners say it: "LUKS", "BitLocker"

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes) -> bool:
        """Whether a volume starting with ``head`` carries this encryption header."""

    @classmethod
    @abstractmethod
    def unlock(cls, stream: BinaryIO, key: str) -> Any:
        """An opened, unlocked libyal volume handle.

        Raises:
            OSError: the header is damaged or the key does not unlock it.
        """

    @classmethod
    def open(cls, stream: BinaryIO, volume: str, key: str | None) -> MediaStream:
        """The decrypted volume, or the "not examined" error saying why not."""
        if key is None:
            raise not_examined(
                f"encrypted {cls.LABEL} volume; give --key {volume}=KEY to examine it"
            )
        try:
            handle = cls.unlock(stream, key)
        except OSError as exc:
            raise not_examined(
                f"encrypted {cls.LABEL} volume not unlocked with the key given for {volume} "
                f"(sha256 {key_digest(key)[:16]}...): {libyal_cause(exc)}"
            ) from None
        return MediaStream(handle, int(handle.get_size()))


class Luks(CryptFormat):
    NAME = "luks"
    LABEL = "LUKS"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[:6] == b"LUKS\xba\xbe"

    @classmethod
    def unlock(cls, stream: BinaryIO, key: str) -> Any:
        volume = libyal("pyluksde").volume()
        volume.set_password(key)
        volume.open_file_object(stream)
        if volume.is_locked() and not volume.unlock():
            raise OSError("unlock failed. the key does not open any key slot")
        return volume


_RECOVERY = re.compile(r"\d{6}(-\d{6}){7}")


class BitLocker(CryptFormat):
    NAME = "bitlocker"
    LABEL = "BitLocker"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[3:11] == b"-FVE-FS-"

    @classmethod
    def unlock(cls, stream: BinaryIO, key: str) -> Any:
        volume = libyal("pybde").volume()
        if _RECOVERY.fullmatch(key):
            volume.set_recovery_password(key)
        else:
            volume.set_password(key)
        volume.open_file_object(stream)
        if volume.is_locked() and not volume.unlock():
            raise OSError("unlock failed. the key does not unlock the volume")
        return volume


_FV_RECOVERY = re.compile(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){5}")  # as FileVault shows it


class FileVault(CryptFormat):
    """FileVault 2: a Core Storage physical volume whose logical volume is encrypted.

    libfvde finds the encrypted-root metadata inside the volume; the first logical
    volume of its group is the one FileVault encrypts (a Mac disk holds one).
    """

    NAME = "filevault"
    LABEL = "FileVault"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        # Core Storage volume header: "CS" signature, version 1, block size 4096.
        return head[88:90] == b"CS" and head[90:92] == b"\x01\x00"

    @classmethod
    def unlock(cls, stream: BinaryIO, key: str) -> Any:
        volume = libyal("pyfvde").volume()
        volume.open_file_object(stream)
        group = volume.get_volume_group()
        if not group.number_of_logical_volumes:
            raise OSError("no logical volume. the Core Storage group holds none")
        logical = group.get_logical_volume(0)
        if _FV_RECOVERY.fullmatch(key):
            logical.set_recovery_password(key)
        else:
            logical.set_password(key)
        if logical.is_locked() and not logical.unlock():
            raise OSError("unlock failed. the key does not unlock the volume")
        return logical


CRYPT: Registry[type[CryptFormat]] = Registry("encrypted volumes")


def find_crypt(head: bytes) -> type[CryptFormat] | None:
    return next((cls for cls in CRYPT if cls.sniff(head)), None)


def volume_stream(stream: BinaryIO, offset: int, length: int) -> BinaryIO:
    """The bytes of one volume of an image, as its own stream for the decrypter."""
    from unseen.sources.streams import binary

    return binary(Slice(stream, offset, length))


CRYPT.register(Luks)
CRYPT.register(BitLocker)
CRYPT.register(FileVault)
