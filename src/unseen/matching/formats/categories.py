"""Reading a file's raw categories into codes of the set's declared scheme.

A VICS number goes through the profile's table (``mapping.vics_code``); a text code
must be a code of the scheme (compared without regard to case). Anything else is a
rejected record, never a guess. ``--category`` fills entries that carry none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from unseen.core.errors import UserError
from unseen.core.schemes import Scheme, load_scheme
from unseen.matching.formats.base import BadRecord, FileHeader, HashSetFormat
from unseen.matching.mapping import NO_SCHEME, normalise_profile, vics_scheme, vics_table


@dataclass(frozen=True, slots=True)
class CategoryReader:
    scheme: str  # name recorded with the set; NO_SCHEME when it has no categories
    profile: str | None
    numbers: Mapping[int, str] | None  # VICS number -> code; None: categories are codes
    codes: dict[str, str]  # lower-case code -> code
    default: str | None

    def read(self, raw: int | str | None) -> str | None:
        """The code for a raw category. Raises BadRecord when it has none."""
        if raw is None:
            return self.default
        if self.scheme == NO_SCHEME:
            raise BadRecord(f"category {raw!r} given but the set has no --scheme")
        if self.numbers is not None:
            code = self.numbers.get(raw) if isinstance(raw, int) else None
            if code is None:
                shown = self.profile or "none"
                raise BadRecord(
                    f"Category {raw!r} is not defined for VICS profile {shown} "
                    f"(scheme {self.scheme})"
                )
            return code
        code = self.codes.get(str(raw).strip().lower())
        if code is None:
            raise BadRecord(f"unknown category {str(raw)[:40]!r} in scheme {self.scheme}")
        return code


def category_reader(
    fmt: type[HashSetFormat],
    header: FileHeader,
    declared: str | None,
    default_category: str | None = None,
) -> CategoryReader:
    """How to read a file's categories, given its header and the user's ``--scheme``.

    Raises:
        UserError: the scheme is needed and neither given nor derivable, contradicts
            the file, or ``default_category`` is not one of its codes.
    """
    profile = normalise_profile(header.profile)
    scheme: Scheme | None = None
    if fmt.NUMBERED:
        scheme = load_scheme(vics_scheme(profile, declared))
    elif declared is not None:
        scheme = load_scheme(declared)
    elif header.has_categories:
        raise UserError("the file has a category column: give --scheme (uk, us, custom or a file)")
    if scheme is None:
        if default_category is not None:
            raise UserError("--category needs --scheme")
        return CategoryReader(NO_SCHEME, profile, None, {}, None)
    codes = {code.lower(): code for code in scheme.codes()}
    default = None
    if default_category is not None:
        default = codes.get(default_category.strip().lower())
        if default is None:
            raise UserError(
                f"--category {default_category!r} is not a code of scheme {scheme.name}"
            )
    numbers = vics_table(scheme.name, profile) if fmt.NUMBERED else None
    return CategoryReader(scheme.name, profile, numbers, codes, default)
