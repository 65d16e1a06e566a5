"""Category schemes are data (``schemes/*.json``), not code.

A scheme lists its categories with a stable code (``A``, ``CAT-1``), a label, the
review hotkey and whether items so graded are indecent or ignorable. Numbers found in
exchange files (VICS ``Category: 2``) are read only through a hash set's declared
scheme and profile, never here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from unseen.core.errors import UserError
from unseen.core.home import library_home

SCHEMES_DIR = "schemes"
SCHEMES_DIR = "schemes"
BUILTIN = ("uk", "us", "custom")  # custom: an example to copy and adapt


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label: str
    key: str
    indecent: bool
    ignorable: bool


@dataclass(frozen=True, slots=True)
class Scheme:
    name: str
    title: str
    uncategorised: str
    categories: tuple[Category, ...]

    def get(self, code: str) -> Category:
        """The category with ``code``; unknown codes are a user error, never guessed."""
        for category in self.categories:
            if category.code == code:
                return category
        raise UserError(f"scheme {self.name!r} has no category {code!r}")

    def codes(self) -> list[str]:
        return [c.code for c in self.categories]


def parse_scheme(text: str) -> Scheme:
    """A scheme from its JSON text."""
    raw = json.loads(text)
    categories = tuple(Category(**c) for c in raw["categories"])
    scheme = Scheme(raw["name"], raw["title"], raw["uncategorised"], categories)
    scheme.get(scheme.uncategorised)  # must be one of its own categories
    return scheme


def load_scheme(name: str) -> Scheme:
    """A scheme by name: built in (``uk``, ``us``, ``custom``), installed in the shared
    home's ``schemes/`` folder (see ``install_scheme``), or read from a JSON file path."""
    if name in BUILTIN:
        return _builtin(name)
    installed = library_home() / SCHEMES_DIR / f"{name}.json"
    path = installed if installed.is_file() else Path(name)
    if not path.is_file():
        raise UserError(f"unknown category scheme {name!r} (built in: {', '.join(BUILTIN)})")
    return parse_scheme(path.read_text())


@cache
def _builtin(name: str) -> Scheme:
    return parse_scheme(
        resources.files("unseen.core").joinpath(f"schemes/{name}.json").read_text()
    )


def install_scheme(path: Path) -> str:
    """Copy an agency's scheme file into the shared home so cases and hash sets can
    name it; returns its name. A different scheme under an existing name is refused."""
    scheme = parse_scheme(path.read_text())
    if scheme.name in BUILTIN:
        raise UserError(f"scheme name {scheme.name!r} is built in; rename the custom scheme")
    target = library_home() / SCHEMES_DIR / f"{scheme.name}.json"
    if target.is_file() and parse_scheme(target.read_text()) != scheme:
        raise UserError(f"another scheme named {scheme.name!r} is installed in {target.parent}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(path.read_text())
    return scheme.name
