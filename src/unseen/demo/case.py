"""The demo case: synthetic evidence, synthetic hash sets in the demo's own library,
and a case with the evidence added, ready for ``unseen process``."""

from __future__ import annotations

from pathlib import Path

from unseen.core.errors import UserError
from unseen.core.settings import write_case_file
from unseen.demo.generator import build_demo_evidence
from unseen.demo.hashsets import write_demo_hashsets
from unseen.demo.intel import write_demo_intel
from unseen.demo.phone import build_demo_phone
from unseen.matching.library import Library
from unseen.sources import verify
from unseen.store import repo
from unseen.store.case import Case

EXAMINER = "Demo Examiner"


def build_demo_case(directory: Path) -> tuple[Case, str]:
    """Build evidence, hash sets and the case under ``directory``; returns the case and
    a one-line description. The demo's hash-set library lives in ``directory/library``
    and the case's ``case.toml`` names it, so processing the demo never touches the
    user's own library (and this process's environment is left as it was)."""
    directory = directory.resolve()
    evidence, case_dir, home = directory / "evidence", directory / "case", directory / "library"
    if case_dir.exists():
        raise UserError(f"{case_dir} exists; remove {directory} or choose another --dir")
    manifest = build_demo_evidence(evidence)
    library = Library.open(home)
    try:
        for hs in write_demo_hashsets(evidence, manifest):
            library.import_file(
                hs.path, hs.name, fmt=hs.fmt, scheme=hs.scheme, known_good=hs.known_good or None
            )
    finally:
        library.close()
    intel = write_demo_intel(directory, home)
    case = Case.create(case_dir, name="DEMO-001", examiner=EXAMINER)
    # The case names the demo's library, so processing it never uses the user's own.
    write_case_file(case.root, {"library": "../library"}, "The demo's own library.")
    laptop = repo.add_source(case, "folder", str(evidence / "laptop"), "EV01-laptop", EXAMINER)
    phone = build_demo_phone(evidence / "phone")
    backup = repo.add_source(case, "apple_backup", str(evidence / "phone"), "EV02-phone", EXAMINER)
    for spec in (laptop, backup):  # as `unseen add` does: `unseen verify` can then check
        verify.record(case, spec)
    return case, (
        f"{manifest.files} synthetic files in {evidence}; {phone}; "
        f"3 synthetic hash sets in {home}; {intel}"
    )
