"""The packaged TRIPOD+AI and Annex IV checklists: complete, each row with its rule, shipped."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from clinai.reporting import _regulatory

ROOT = Path(__file__).resolve().parents[2]


def test_every_checklist_row_has_a_rule_and_every_rule_a_row() -> None:
    items = [item for item, _, _ in _regulatory.TRIPOD_AI_ITEMS]
    points = [point for point, _ in _regulatory.ANNEX_IV_POINTS]
    assert len(items) == len(set(items)) == 52
    assert items[:3] == ["1", "2", "3a"] and items[-1] == "27c"
    assert set(items) == set(_regulatory._TRIPOD_RULES)
    assert points == [str(i) for i in range(1, 10)]
    assert set(points) == set(_regulatory._ANNEX_RULES)
    assert all(text.strip() for _, _, text in _regulatory.TRIPOD_AI_ITEMS)
    assert "BMJ 2024;385:e078378" in _regulatory.TRIPOD_AI_CITATION
    assert "2024/1689" in _regulatory.ANNEX_IV_CITATION


def test_the_package_data_patterns_ship_every_reporting_data_file() -> None:
    """A wheel built from pyproject.toml holds the checklists, locales, schemas and templates."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["clinai"]
    package = ROOT / "src" / "clinai"
    data_files = [
        path.relative_to(package).as_posix()
        for folder in ("checklists", "locales", "schemas", "templates")
        for path in (package / "reporting" / folder).iterdir()
        if path.is_file()
    ]
    assert any(name.startswith("reporting/checklists/") for name in data_files)
    missing = [name for name in data_files if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert missing == []
