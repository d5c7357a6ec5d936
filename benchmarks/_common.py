"""What the benchmarks share: the repository root on ``sys.path`` and their JSON output.

A benchmark runs as ``python benchmarks/bench_x.py``, so Python puts only ``benchmarks/`` on
the path; importing this module first adds the repository root, so that the benchmarks can
use the test suite's helpers (``tests._helpers``, ``tests.integration._services``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def write_json(out: Path, rows: Any, *, lead: str = "") -> None:
    """Write a benchmark's result rows to ``out`` (its folder made) and print where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print(f"{lead}written {out}")
