"""Evidence names, labels and case names are hostile text to Rich's markup: the
program prints them literally (``a[/]b`` would make Rich raise, ``[bold red]x`` would
restyle the line and lose its brackets)."""

from __future__ import annotations

from pathlib import Path

from .casework import cli

HOSTILE = "[bold red]x"


def test_hostile_names_print_literally(tmp_path: Path, unseen_exe: Path) -> None:
    case_dir = tmp_path / "case"
    done = cli(unseen_exe, "init", str(case_dir), "--name", HOSTILE)
    assert done.stderr == f"created case [bold red]x in {case_dir}\n"

    missing = tmp_path / "x[/]y"
    done = cli(unseen_exe, "add", str(case_dir), str(missing), check=False)
    assert (done.returncode, done.stderr) == (2, f"error: {missing} does not exist\n")

    evidence = tmp_path / "a[/]b"  # the folder "]b" inside the folder "a["
    evidence.mkdir(parents=True)
    (evidence / "[bold red]y.txt").write_text("x")
    done = cli(unseen_exe, "add", str(case_dir), str(evidence), "--label", HOSTILE)
    assert done.stderr.splitlines() == [
        f"fingerprinting {evidence} (read only) ...",
        f"added folder source [bold red]x: {evidence}",
    ]

    done = cli(unseen_exe, "status", str(case_dir))
    assert done.stdout.splitlines()[0].strip() == "case [bold red]x"
