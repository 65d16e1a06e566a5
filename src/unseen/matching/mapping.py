"""Category numbers and mappings between schemes, read from data files only.

Two tables live in ``mappings/``:

- ``vics_profiles.json``: how a VICS ``Category`` number reads in each profile (US, UK,
  CUSTOM). A number is read only through the set's declared scheme and profile.
- ``<from>_<to>.json``: an explicit mapping between two schemes. A code mapped to
  ``null`` has no equivalent and stays unmapped; a pair without a file maps nothing.

Nothing here guesses: an unknown code or profile is an error or ``None``, never a
neighbouring category.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from unseen.core.errors import UserError
from unseen.core.schemes import load_scheme

NO_SCHEME = "none"  # the scheme recorded for sets without categories (NSRL, plain lists)


@dataclass(frozen=True, slots=True)
class VicsProfile:
    name: str
    scheme: str
    derive_scheme: bool
    numbers: Mapping[int, str]


def _data(name: str) -> Any:
    return json.loads(resources.files("unseen.matching").joinpath(f"mappings/{name}").read_text())


@cache
def vics_profiles() -> dict[str, VicsProfile]:
    """The VICS profiles with a number table, by their name as written in files."""
    found = {}
    for name, raw in _data("vics_profiles.json")["profiles"].items():
        scheme = load_scheme(raw["scheme"])
        numbers = {int(k): v for k, v in raw["numbers"].items()}
        for code in numbers.values():
            scheme.get(code)  # a table naming a code its scheme lacks is a data error
        found[name] = VicsProfile(name, scheme.name, bool(raw["derive_scheme"]), numbers)
    return found


def normalise_profile(profile: str | None) -> str | None:
    """The profile name as the tables spell it (``us`` -> ``US``); unknown ones unchanged."""
    if profile is None:
        return None
    for name in (*vics_profiles(), "Default"):
        if name.lower() == profile.lower():
            return name
    return profile


def vics_table(scheme: str, profile: str | None) -> Mapping[int, str] | None:
    """The number table for ``scheme`` read in ``profile``: the profile's own table when
    it is of that scheme, otherwise the table of the profile whose scheme it is."""
    profiles = vics_profiles()
    own = profiles.get(normalise_profile(profile) or "")
    if own is not None and own.scheme == scheme:
        return own.numbers
    for candidate in profiles.values():
        if candidate.scheme == scheme:
            return candidate.numbers
    return None


def vics_scheme(profile: str | None, declared: str | None) -> str:
    """The scheme a VICS file's numbers are in: derived from its profile or declared.

    Raises:
        UserError: the scheme is neither derivable nor declared, contradicts the
            profile, or has no number table.
    """
    entry = vics_profiles().get(normalise_profile(profile) or "")
    shown = profile or "none (VICS 1.x)"
    if entry is not None and entry.derive_scheme:
        if declared is not None and load_scheme(declared).name != entry.scheme:
            raise UserError(
                f"the file's VICS profile {shown} means scheme {entry.scheme!r}; "
                f"--scheme {declared} contradicts it"
            )
        return entry.scheme
    if declared is None:
        known = sorted({p.scheme for p in vics_profiles().values()})
        raise UserError(
            f"VICS profile {shown} does not say what its Category numbers mean; "
            f"give --scheme ({', '.join(known)})"
        )
    name = load_scheme(declared).name
    if vics_table(name, profile) is None:
        raise UserError(f"no VICS number table for scheme {name!r} (see vics_profiles.json)")
    return name


def vics_code(number: int, scheme: str, profile: str | None) -> str | None:
    """The category code that VICS ``Category: number`` means, or None if undefined."""
    table = vics_table(scheme, profile)
    return None if table is None else table.get(number)


def vics_number(code: str, scheme: str, profile: str | None) -> int | None:
    """The VICS ``Category`` number of a code, or None where the profile has none."""
    table = vics_table(scheme, profile)
    if table is None:
        return None
    for number, candidate in table.items():
        if candidate == code:
            return number
    return None


@cache
def _mapping(from_scheme: str, to_scheme: str) -> dict[str, str | None] | None:
    name = f"{from_scheme}_{to_scheme}.json"
    if not resources.files("unseen.matching").joinpath(f"mappings/{name}").is_file():
        return None
    raw = _data(name)
    source, target = load_scheme(from_scheme), load_scheme(to_scheme)
    table: dict[str, str | None] = dict(raw["map"])
    if sorted(table) != sorted(source.codes()):
        raise UserError(f"mapping {name} must list every code of scheme {from_scheme!r}")
    for code in table.values():
        if code is not None:
            target.get(code)
    return table


def map_category(code: str, from_scheme: str, to_scheme: str) -> str | None:
    """``code`` of ``from_scheme`` in ``to_scheme``, or None where it has no equivalent.

    Raises:
        UserError: ``code`` is not a category of ``from_scheme``.
    """
    load_scheme(from_scheme).get(code)
    if from_scheme == to_scheme:
        return code
    table = _mapping(from_scheme, to_scheme)
    return None if table is None else table[code]


def mapping_defined(from_scheme: str, to_scheme: str) -> bool:
    """Whether an explicit mapping exists (the same scheme maps onto itself)."""
    return from_scheme == to_scheme or _mapping(from_scheme, to_scheme) is not None
