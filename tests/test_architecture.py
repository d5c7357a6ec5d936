"""The layer rules of DESIGN.md, checked with import-linter and on a fresh interpreter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None, "import-linter is part of the dev extra"
    result = subprocess.run(
        [lint_imports, str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module",
    [
        "clinai",
        "clinai.cli",
        "clinai.config",
        "clinai.data",
        "clinai.models",
        "clinai.evaluation",
        "clinai.reporting",
        "clinai.tracking",
    ],
)
def test_importing_a_layer_does_not_load_heavy_dependencies(module: str) -> None:
    heavy = ["mlflow", "torch", "shap", "lightgbm", "optuna", "weasyprint", "fairlearn", "jinja2"]
    code = (
        f"import sys, {module}; heavy = {heavy!r}; "
        "print(','.join(h for h in heavy if h in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"{module} imported {result.stdout.strip()} at import time"


def test_src_never_imports_pipelines_tests_or_notebooks() -> None:
    offenders = []
    for path in (ROOT / "src" / "clinai").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                f" {name}" in stripped.split(" import ")[0]
                for name in ("pipelines", "tests", "notebooks")
            ):
                offenders.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert offenders == []
