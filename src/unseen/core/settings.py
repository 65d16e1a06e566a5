"""Processing settings: one typed object, each entry with its default and reason.

Every threshold that changes what a run finds lives here, so a run records all of
them (``runs.settings``) and a case can set its own: ``case.toml`` in the case folder
(a ``[settings]`` table whose keys are the field names), with ``unseen process --set
KEY=VALUE`` laid over it (:meth:`Settings.from_case`).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

from unseen.core.errors import UserError

CASE_FILE = "case.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    """Limits, knobs and thresholds of every stage. Stored with each run for provenance."""

    # Largest image (in pixels) we agree to decode; anything claiming more is
    # recorded as a possible decompression bomb instead of being decoded.
    max_image_pixels: int = 180_000_000
    # Largest file read into memory for image decoding; bigger files are hashed
    # by streaming and not decoded.
    max_image_bytes: int = 512 * 1024 * 1024
    # JPEG draft decoding keeps the short side at least this long: measured to keep PDQ
    # within 8 bits of a full decode on quality-100 and rotated photos (256 reached 16).
    pdq_min_short_side: int = 768
    # PDQ distance (bits of 256) under which two pictures are the same picture: copies,
    # resizes and recompressions land within it (the PDQ paper's operating point).
    pdq_radius: int = 31
    # Memory one worker may use to decode one picture; decodes that would need more are
    # reduced while decoding (JPEG draft, PNG strips) or refused (analysis/decode.py).
    decode_memory_bytes: int = 1024**3
    # Longest side of the review thumbnails written into the case.
    thumbnail_size: int = 256
    # Items handed to a worker at once: bigger amortises inter-process overhead.
    batch_size: int = 16
    # Names of stages and deep analysers switched off for this run (e.g. "faces").
    skip: tuple[str, ...] = ()
    # --- containers, disk images and video ---
    # Containers inside containers are expanded this many levels deep at most.
    max_container_depth: int = 8
    # Archive members listed at most; the rest is recorded as not listed.
    max_archive_members: int = 1_000_000
    # Declared uncompressed bytes of one archive's members, in total; members past it
    # are listed but not expanded (zip bombs made of many members).
    max_expanded_bytes: int = 64 * 1024**3
    # A member expanding more than this many times its compressed size (and past
    # ratio_check_min_bytes) is listed but not expanded (zip bombs).
    max_compression_ratio: float = 200.0
    ratio_check_min_bytes: int = 16 * 1024 * 1024
    # Carve JPEG, PNG and GIF from the unallocated space of disk images.
    carve_unallocated: bool = True
    # Largest file carving may recover, in bytes.
    max_carved_bytes: int = 64 * 1024 * 1024
    # vPDQ: one frame hashed per this many seconds of video.
    video_seconds_per_hash: float = 1.0
    # Frames hashed per video at most (10 hours at one per second).
    video_max_hashed_frames: int = 36_000
    # --- hash-set library and lead weights ---
    # Hash-set and intelligence library folder of this case (relative paths: from the
    # case folder); None: --library, else $UNSEEN_HOME, else the user's data folder.
    library: str | None = None
    # The case's lead weights, laid over the built-in weights.toml entry by entry
    # (relative to the case folder); the effective weights go with each ranking.
    lead_weights: str = "leads.toml"
    # --- deep pass ---
    # Largest file the deep pass reads into memory to decode (it decodes within the
    # pixel budget of decode_memory_bytes, and not past max_image_pixels).
    deep_max_bytes: int = 256 * 1024 * 1024
    # Faces: the detector finds faces of about 40 x 40 px and up (upsampled), so
    # smaller pictures are not searched.
    face_min_side: int = 40
    # Longest side the face detector searches, in px (bounds its cost).
    face_work_side: int = 1600
    # Working pictures smaller than this (px) are searched at twice the size.
    face_upsample_below: int = 1000
    # HOG margin a face needs: drops dlib's weak false positives (0.12 on astronaut).
    face_min_score: float = 0.5
    # Faces kept per picture, best scores first: a crowd, not a portrait.
    face_max_faces: int = 100
    # --- correlation: identities (faces clustered into people) ---
    # Embedding distance under which two faces are neighbours: stricter than dlib's
    # 0.6, because a false link sends an examiner after the wrong person.
    identity_threshold: float = 0.5
    # dlib's same-person line: no two faces of an identity are farther apart.
    identity_pair_max: float = 0.6
    # Nearest neighbours a face keeps (bounds the graph of a crowd).
    identity_max_neighbours: int = 50
    # Chinese whispers passes at most; it settles in a handful.
    identity_max_passes: int = 50
    # Up to this many faces every pair is compared; beyond it the nearest neighbours
    # come from an inverted file (FAISS) and are then measured exactly: the all-pairs
    # search grows with the square of the faces (hours at a million).
    identity_exact_max: int = 20_000
    # --- correlation: scenes (same room or background) ---
    # Candidate pictures per picture, nearest by embedding cosine (12, not 8: the
    # embedding ranks a cropped or occluded shot of a room below many other rooms;
    # chosen on rooms 800000-800039 of unseen.validation.scene).
    scene_neighbours: int = 12
    # A picture that none of its candidates verified is compared again with this many
    # more, nearest among pictures that did verify: someone standing in front of a
    # third of a room moves its embedding far from the room's other shots (grouping
    # recall of occluded shots 92 % -> 97 % on rooms 800000-800039, 8 % more
    # verifications there; where most pictures are alone, as in benchmarks/leads.py,
    # up to this many more verifications for each: its scene grouping took 2.3 times
    # as long).
    scene_lone_neighbours: int = 48
    # Embedding cosine a candidate pair needs before local features are compared.
    scene_min_cosine: float = 0.70
    # Pair verifications per run at most, most similar pairs first.
    scene_max_verify: int = 20_000
    # Pictures searched exactly; above this, approximate search (FAISS inverted lists).
    scene_exact_limit: int = 50_000
    # ORB matches agreeing in one RANSAC homography for the same background.
    scene_min_inliers: int = 15
    # NCC of the aligned pictures for the same background as a whole ...
    scene_min_ncc: float = 0.90
    # ... or median NCC of its blocks, where something stands in front of part of it.
    scene_min_block_ncc: float = 0.80
    # --- correlation: sensor noise (PRNU) ---
    # PCE over which a picture matches a camera's fingerprint (Goljan et al. 2009).
    sensor_pce_threshold: float = 60.0
    # --- correlation: capture sessions and windows ---
    # One camera's pictures at most this many minutes apart form one session.
    session_gap_minutes: int = 30
    # Pictures of different cameras at most this many minutes apart form one window.
    window_gap_minutes: int = 10

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def changed(self) -> dict[str, Any]:
        """The entries that differ from the defaults, by name (what a case set)."""
        default = Settings().to_dict()
        return {k: v for k, v in self.to_dict().items() if v != default[k]}

    @classmethod
    def from_case(
        cls,
        case_root: Path,
        overrides: Iterable[str] = (),
        *,
        library: Path | None = None,
        skip: Iterable[str] = (),
    ) -> Settings:
        """The settings of the case in ``case_root``: the defaults, then its
        ``case.toml`` ``[settings]``, then ``overrides`` (``KEY=VALUE`` strings), then
        the command's ``library`` (``--library``) and ``skip`` (added to the skipped).

        A relative library path is taken from the case folder; the settings hold it
        absolute, as the run records what it used.

        Raises:
            UserError: ``case.toml`` cannot be read, or names an unknown setting or a
                value of the wrong type; the same for an override.
        """
        values = dict(read_case_file(case_root / CASE_FILE))
        for text in overrides:
            key, value = parse_override(text)
            values[key] = value
        if library is not None:
            values["library"] = str(library.expanduser().resolve())
        values["skip"] = tuple(dict.fromkeys([*values.get("skip", ()), *skip]))
        settings = cls(**values)
        if settings.library is not None:
            folder = (case_root / Path(settings.library).expanduser()).resolve()
            settings = dataclasses.replace(settings, library=str(folder))
        return settings


def write_case_file(case_root: Path, values: Mapping[str, Any], note: str = "") -> None:
    """Write the case's ``case.toml`` with ``values`` as its ``[settings]`` (checked as
    :func:`read_case_file` reads them; ``note`` becomes a comment above them)."""
    lines = ["# Settings of this case: `unseen process` reads them, --set overrides them."]
    lines += [f"# {note}"] if note else []
    lines.append("[settings]")
    for key, value in values.items():
        plain = list(value) if isinstance(value, tuple) else value
        _checked(key, plain, CASE_FILE)
        lines.append(f"{key} = {json.dumps(plain)}")  # JSON scalars and lists are TOML
    (case_root / CASE_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_case_file(path: Path) -> dict[str, Any]:
    """The typed ``[settings]`` of a ``case.toml`` (empty when there is none)."""
    if not path.is_file():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    table = raw.get("settings", {})
    if not isinstance(table, Mapping):
        raise UserError(f"{path}: [settings] must be a table of setting = value")
    return {key: _checked(key, value, path.name) for key, value in table.items()}


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as given to ``--set``: the setting's name and its typed value."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UserError(f"--set {text!r}: expected KEY=VALUE")
    kind = _kind(key, "--set")
    try:
        return key, _PARSERS[kind](value.strip())
    except ValueError:
        raise UserError(f"--set {key}: {value.strip()!r} is not {_EXPECTED[kind]}") from None


def _kind(key: str, where: str) -> str:
    kinds = _field_kinds()
    if key not in kinds:
        near = difflib.get_close_matches(key, kinds, n=1, cutoff=0.7)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise UserError(f"{where}: unknown setting {key!r}{hint}")
    return kinds[key]


def _checked(key: str, value: Any, where: str) -> Any:
    """``value`` from TOML, as the setting's type; UserError when it is not that type."""
    kind = _kind(key, where)
    ok = {
        "int": type(value) is int,
        "float": type(value) in (int, float),
        "bool": type(value) is bool,
        "str": type(value) is str,
        "str | None": type(value) is str,
        "tuple[str, ...]": isinstance(value, list) and all(type(v) is str for v in value),
    }[kind]
    if not ok:
        raise UserError(f"{where}: setting {key} = {value!r} is not {_EXPECTED[kind]}")
    if kind == "float":
        return float(value)
    return tuple(value) if kind == "tuple[str, ...]" else value


def _field_kinds() -> dict[str, str]:
    """Each setting's type, spelt as annotated (``int``, ``tuple[str, ...]``...)."""
    hints = get_type_hints(Settings)
    return {f.name: _spelling(hints[f.name]) for f in dataclasses.fields(Settings)}


def _spelling(hint: Any) -> str:
    spelt = {int: "int", float: "float", bool: "bool", str: "str"}
    if hint in spelt:
        return spelt[hint]
    if hint == str | None:
        return "str | None"
    if hint == tuple[str, ...]:
        return "tuple[str, ...]"
    raise TypeError(f"a setting of type {hint} cannot be set per case")  # a new field's type


def _boolean(text: str) -> bool:
    words = {"true": True, "yes": True, "on": True, "1": True}
    words |= {"false": False, "no": False, "off": False, "0": False}
    if text.lower() not in words:
        raise ValueError(text)
    return words[text.lower()]


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


_PARSERS: dict[str, Any] = {
    "int": int,
    "float": float,
    "bool": _boolean,
    "str": str,
    "str | None": lambda text: text or None,
    "tuple[str, ...]": _names,
}
_EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "str": "a text",
    "str | None": "a text",
    "tuple[str, ...]": "a list of names",
}
