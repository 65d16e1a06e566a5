"""Placeholder: replaced by the synthetic demo generator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Manifest:
    files: int


def build_demo_evidence(root: Path) -> Manifest:
    raise NotImplementedError
