"""The on-disk PDQ index cache: one FAISS file per hash-set version, never a pickle.

Each hash-set version's PDQ hashes are kept under ``<library home>/indexes/`` as a FAISS
``IndexBinaryFlat`` (``faiss.write_index_binary``) with the entry ids and categories of
its rows (``.npy``, loaded with ``allow_pickle=False``) and a JSON manifest naming the
set version and the SHA-256 of each file, checked at every load. A set is therefore
read from the library once per version; the multi-index tables are rebuilt from the
cached hashes in memory (seconds for 10 M hashes). A missing, stale, truncated or
altered cache is rebuilt, and the run records why.
"""

from __future__ import annotations

import array
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from unseen.core.timeconv import utc_now
from unseen.matching.index import HASH_BITS, HASH_BYTES, I64, U8, codes_from_hex

log = logging.getLogger(__name__)

CACHE_FORMAT = "unseen-pdq-index"
CACHE_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SetKey:
    """Which set version an index belongs to; the manifest must name the same."""

    set_id: int
    name: str
    version: int
    file_sha256: str

    @property
    def stem(self) -> str:
        return f"set{self.set_id}-v{self.version}-{self.file_sha256[:16]}"


@dataclass(frozen=True, slots=True)
class SetHashes:
    """A set version's PDQ entries by row: hash, entry id, category (index into
    ``categories``, -1 for none), and where they came from (cache, built, rebuilt)."""

    codes: U8
    entry_ids: I64
    category_index: npt.NDArray[np.int32]
    categories: tuple[str, ...]
    origin: str


EntryRows = Iterable[tuple[int, str, str | None]]  # (entry id, pdq hex, category)
Collected = tuple[U8, I64, npt.NDArray[np.int32], tuple[str, ...]]


class IndexCache:
    """FAISS ``IndexBinaryFlat`` files (the set's hashes) under ``folder``, each with a
    JSON manifest naming its set version and the SHA-256 of every file, checked at load.

    The digests catch stale, truncated or altered files (which are then rebuilt); they
    are not a signature. Nothing here unpickles: FAISS and ``.npy`` files are data.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, key: SetKey, rows: Callable[[], EntryRows]) -> SetHashes:
        """The set's hashes from the cache, or built from ``rows`` (and cached)."""
        try:
            return self._read(key)
        except _Stale as why:
            log.info("PDQ index of %s v%d: %s; building it", key.name, key.version, why)
            origin = "built" if str(why) == "not cached" else f"rebuilt ({why})"
        found = _collect(rows())
        try:
            self._write(key, found)
        except OSError as exc:
            log.warning("cannot cache the PDQ index of %s: %s", key.name, exc)
            origin += f", not cached: {exc.strerror}"
        return SetHashes(*found, origin=origin)

    def _files(self, key: SetKey) -> dict[str, Path]:
        names = {"index": ".faissbin", "ids": ".ids.npy", "cats": ".cats.npy"}
        return {k: self.folder / f"{key.stem}{suffix}" for k, suffix in names.items()}

    def _read(self, key: SetKey) -> SetHashes:
        manifest_path = self.folder / f"{key.stem}.json"
        if not manifest_path.is_file():
            raise _Stale("not cached")
        try:
            manifest = json.loads(manifest_path.read_text())
            expected = {**_identity(key), "format": CACHE_FORMAT}
            if {k: manifest.get(k) for k in expected} != expected:
                raise _Stale("the manifest names another set version")
            for role, path in self._files(key).items():
                if _sha256(path) != manifest["sha256"][role]:
                    raise _Stale(f"{path.name} does not match its digest")
            index: Any = faiss.read_index_binary(str(self._files(key)["index"]))
            ids = np.load(self._files(key)["ids"], allow_pickle=False)
            cats = np.load(self._files(key)["cats"], allow_pickle=False)
            codes = faiss.vector_to_array(index.xb).reshape(-1, HASH_BYTES)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise _Stale(f"unreadable: {exc}") from exc
        if not len(codes) == len(ids) == len(cats) == manifest.get("hashes"):
            raise _Stale("its files disagree on the number of hashes")
        return SetHashes(codes, ids, cats, tuple(manifest["categories"]), "cache")

    def _write(self, key: SetKey, found: Collected) -> None:
        codes, ids, cats, categories = found
        self.folder.mkdir(parents=True, exist_ok=True)
        files = self._files(key)
        flat = faiss.IndexBinaryFlat(HASH_BITS)
        flat.add(codes)
        faiss.write_index_binary(flat, str(_part(files["index"])))
        for role, values in (("ids", ids), ("cats", cats)):
            with _part(files[role]).open("wb") as out:
                np.save(out, values, allow_pickle=False)
        for path in files.values():
            _part(path).replace(path)
        manifest = {
            **_identity(key),
            "format": CACHE_FORMAT,
            "format_version": CACHE_FORMAT_VERSION,
            "hashes": len(codes),
            "categories": list(categories),
            "sha256": {role: _sha256(path) for role, path in files.items()},
            "built_at": utc_now(),
            "faiss": faiss.__version__,
        }
        manifest_path = self.folder / f"{key.stem}.json"
        _part(manifest_path).write_text(json.dumps(manifest, indent=1) + "\n")
        _part(manifest_path).replace(manifest_path)  # last: it vouches for the files


class _Stale(Exception):
    """The cached index cannot be used (the message says why)."""


def _identity(key: SetKey) -> dict[str, object]:
    return {"set_id": key.set_id, "name": key.name, "version": key.version,
            "file_sha256": key.file_sha256}  # fmt: skip


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _collect(rows: EntryRows) -> Collected:
    """Hashes, entry ids and category indexes from (id, hex, category) rows, in chunks."""
    codes: list[U8] = []
    ids, cats = array.array("q"), array.array("i")  # compact: sets have millions of rows
    names: dict[str, int] = {}
    batch: list[str] = []
    for entry_id, pdq, category in rows:
        ids.append(entry_id)
        cats.append(-1 if category is None else names.setdefault(category, len(names)))
        batch.append(pdq)
        if len(batch) == 1 << 16:
            codes.append(codes_from_hex(batch))
            batch = []
    codes.append(codes_from_hex(batch))
    return (
        np.concatenate(codes),
        np.frombuffer(ids, dtype=np.int64).copy(),
        np.frombuffer(cats, dtype=np.int32).copy(),
        tuple(names),
    )
