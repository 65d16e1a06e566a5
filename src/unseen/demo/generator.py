"""The synthetic, benign demo "seized laptop", built deterministically by code.

``build_demo_evidence(root)`` writes ``root/laptop/`` (user folders of a Windows
laptop) and ``root/manifest.json`` (the ground truth: every file's role, scene,
camera and origin). The same library versions give the same bytes and times on
every machine, so exports and tests can compare builds.

Each role is one function of :data:`ROLES`, run in order; a role may use the items
of roles before it (copies need their originals). To add a role (a disk image, a
video, a browser profile, a hash set), write ``def my_role(b: DemoBuilder) -> None``
in a module of this package and append it to :data:`ROLES`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from unseen.core.errors import UserError
from unseen.demo.builder import DemoBuilder, DemoItem, DemoManifest
from unseen.demo.copies import download_copies, duplicates, web_images
from unseen.demo.disk import laptop_vmdk, usb_stick, video_clip
from unseen.demo.documents import documents
from unseen.demo.internet import internet_usage
from unseen.demo.oddities import corrupt, hostile, misleading_extensions, unusual_modes
from unseen.demo.photos import camera_originals, series

__all__ = ["ROLES", "DemoItem", "DemoManifest", "build_demo_evidence"]

Role = Callable[[DemoBuilder], None]

ROLES: tuple[Role, ...] = (
    camera_originals,
    series,
    download_copies,
    duplicates,
    web_images,
    misleading_extensions,
    unusual_modes,
    corrupt,
    hostile,
    documents,
    internet_usage,
    usb_stick,
    laptop_vmdk,
    video_clip,
)


def build_demo_evidence(root: Path) -> DemoManifest:
    """Write the demo evidence under ``root`` and return its manifest.

    Args:
        root: the evidence folder; created if missing. ``root/laptop`` must not
            exist or be empty: the demo never mixes with other files.

    Returns:
        The manifest, also written to ``root/manifest.json``.

    Raises:
        UserError: ``root/laptop`` already holds files.

    Example:
        >>> manifest = build_demo_evidence(Path("/tmp/demo/evidence"))  # doctest: +SKIP
        >>> manifest.files
        172
    """
    laptop = root / "laptop"
    if laptop.exists() and (not laptop.is_dir() or any(laptop.iterdir())):
        raise UserError(
            f"{laptop} is not empty; the demo is built only into an empty folder "
            "(remove it or choose another folder)"
        )
    laptop.mkdir(parents=True, exist_ok=True)
    builder = DemoBuilder(laptop)
    for role in ROLES:
        role(builder)
    builder.pin_times()
    manifest = DemoManifest(files=len(builder.items), root=root, items=builder.items)
    (root / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest
