"""The matching benchmark runs end to end at a tiny size and agrees with the flat scan.

No timing is asserted (the numbers belong to ``benchmarks/matching.py``): this guards
the benchmark against rot and checks its recall lines.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "matching.py"


def test_the_benchmark_runs_and_recalls_everything() -> None:
    args = ["--refs", "30000", "--queries", "3000", "--sample", "300", "--threads", "1"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "identical to the flat scan on the sample: True" in done.stdout
    found = re.search(r"planted copies within the radius found: ([\d,]+) of ([\d,]+)", done.stdout)
    assert found is not None and found.group(1) == found.group(2) != "0"
    assert re.search(r"speed ratio \(flat scan / ours\): [\d.]+x wall time", done.stdout)
