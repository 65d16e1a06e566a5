"""The agency's Ed25519 signing key, kept in the library home and never in a case.

Signatures must survive the people who can edit a case: an examiner who owns the case
folder can rewrite its database, but cannot forge a signature without the agency key.
So the key lives beside the hash-set library (``<library>/keys/``), private to its
owner (folder 0700, key 0600), and only its public half travels (exchange packages,
signed audit heads, reports).

Layout: ``keys/agency.key`` (PKCS#8 PEM, unencrypted: protection is the file mode and
the disk encryption the deployment assumes), ``keys/agency.pub`` (SubjectPublicKeyInfo
PEM) and ``keys/agency.json`` (agency name, fingerprint, creation time; PEM has no
place for a name).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from unseen.core.errors import UserError
from unseen.core.home import library_home

KEYS_DIR = "keys"
PRIVATE_FILE = "agency.key"
PUBLIC_FILE = "agency.pub"
INFO_FILE = "agency.json"
DIR_MODE = 0o700
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644  # the public half is meant to be handed out
DEFAULT_AGENCY = "unnamed agency"


def keys_dir(library: Path | None = None) -> Path:
    """The key folder of a library home (``None``: the default home)."""
    return library_home(library).expanduser() / KEYS_DIR


def private_path(library: Path | None = None) -> Path:
    """Where the private key is (or would be) kept."""
    return keys_dir(library) / PRIVATE_FILE


def public_path(library: Path | None = None) -> Path:
    """Where the public key is (or would be) kept."""
    return keys_dir(library) / PUBLIC_FILE


def has_keys(library: Path | None = None) -> bool:
    """Whether the library holds an agency key (signing is then possible)."""
    return private_path(library).is_file()


def init_keys(library: Path | None, agency: str = DEFAULT_AGENCY) -> Path:
    """Create the agency key pair; returns the public key's path.

    Refuses to overwrite: replacing a key silently would orphan every signature made
    with the old one (audit heads, packages already sent to partners).
    """
    folder = keys_dir(library)
    priv, pub, info = folder / PRIVATE_FILE, folder / PUBLIC_FILE, folder / INFO_FILE
    for path in (priv, pub):
        if path.exists() or path.is_symlink():
            raise UserError(f"an agency key already exists: {path} (not overwritten)")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask; be explicit
    except OSError as exc:
        raise UserError(f"cannot create the key folder {folder}: {exc}") from exc
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_key = key.public_key()
    public_pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(priv, private_pem, PRIVATE_MODE)
    _write_new(pub, public_pem, PUBLIC_MODE)
    details = {
        "agency": agency,
        "fingerprint": fingerprint(public_key),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_new(info, (json.dumps(details, indent=2) + "\n").encode(), PUBLIC_MODE)
    return pub


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a file that must not exist yet, with its final mode from the first byte.

    O_EXCL makes the refusal race-free and O_NOFOLLOW refuses a planted symlink.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError as exc:
        raise UserError(f"an agency key already exists: {path} (not overwritten)") from exc
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc}") from exc
    try:
        os.fchmod(fd, mode)  # the umask filtered os.open's mode
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def agency_info(library: Path | None = None) -> dict[str, str]:
    """Agency name, fingerprint and creation time recorded at ``init_keys``."""
    path = keys_dir(library) / INFO_FILE
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise UserError(f"{path} is not a JSON object")
    return {str(k): str(v) for k, v in loaded.items()}


def load_private(library: Path | None = None) -> Ed25519PrivateKey:
    """The agency's private key; refuses a key other local users could read."""
    path = private_path(library)
    if not path.is_file():
        raise UserError(f"no agency key in {path.parent}: run `unseen keys init` first")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UserError(
            f"the agency key {path} is accessible to other users (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"cannot read the agency key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{path} is not an Ed25519 private key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (ours or a partner agency's)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"{path} is not an Ed25519 public key")
    return key


def sign(
    data: bytes, key: Ed25519PrivateKey | None = None, *, library: Path | None = None
) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` (default key: the library's)."""
    signer = key if key is not None else load_private(library)
    return signer.sign(data)


def own_public_keys(library: Path | None = None) -> list[Ed25519PublicKey]:
    """The library's own agency public key, if it has one (what heads are checked
    against when no other key is named)."""
    own = public_path(library)
    return [load_public(own)] if own.is_file() else []


def verify(pub: Ed25519PublicKey, data: bytes, sig: bytes) -> bool:
    """Whether ``sig`` is ``pub``'s signature of ``data`` (never raises on bad input)."""
    try:
        pub.verify(sig, data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def raw_public(pub: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key (what the fingerprint is taken over)."""
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(pub: Ed25519PublicKey) -> str:
    """SHA-256 hex of the raw public key: what people compare over the phone."""
    return hashlib.sha256(raw_public(pub)).hexdigest()
