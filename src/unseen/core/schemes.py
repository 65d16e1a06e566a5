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

BUILTIN = ("uk", "us")


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


@cache
def load_scheme(name: str) -> Scheme:
    """A built-in scheme by name (``uk``, ``us``) or a custom one from a JSON file path."""
    if name in BUILTIN:
        text = resources.files("unseen.core").joinpath(f"schemes/{name}.json").read_text()
    else:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"unknown category scheme {name!r} (built in: {', '.join(BUILTIN)})")
        text = path.read_text()
    return parse_scheme(text)
