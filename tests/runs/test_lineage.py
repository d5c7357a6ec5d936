"""Lineage: the clinai code and the pipeline module are identified in and outside git."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

import clinai
from clinai.runs._lineage import code_version, describe_code, pipeline_lineage, source_sha256
from clinai.runs._plugins import load_pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "integration" / "fixtures"
PACKAGE = Path(clinai.__file__).resolve().parent


def _copy_package(target: Path) -> Path:
    """A copy of the installed clinai sources, as a wheel install would lay them out."""
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def _git(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_source_hash_is_sha256sum_of_the_files_sorted_by_path(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b" / "c.j2").write_text("{{ x }}\n")
    lines = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {name}\n"
        for name, p in (("a.py", tmp_path / "a.py"), ("b/c.j2", tmp_path / "b" / "c.j2"))
    )
    expected = hashlib.sha256(lines.encode()).hexdigest()
    assert source_sha256(tmp_path) == expected
    # Caches beside the sources are not code.
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\x00")
    (tmp_path / "b" / "kernel.nbi").write_bytes(b"\x00")
    assert source_sha256(tmp_path) == expected
    (tmp_path / "a.py").write_text("x = 2\n")
    assert source_sha256(tmp_path) != expected


def test_a_non_git_install_is_identified_by_version_and_source_hash(tmp_path: Path) -> None:
    installed = _copy_package(tmp_path / "site-packages" / "clinai")
    code = code_version(installed)
    assert code["git_commit"] is None and code["git_dirty"] is None
    assert code["clinai_version"] == metadata.version("clinai")
    # The same sources give the same hash wherever they are installed.
    assert code["source_sha256"] == source_sha256(PACKAGE)
    assert describe_code(code) == (
        f"clinai {code['clinai_version']} (source sha256 {code['source_sha256'][:16]})"
    )


def test_a_repository_that_does_not_track_clinai_gives_no_commit(tmp_path: Path) -> None:
    # A virtual environment inside the user's own repository: its HEAD is not clinai's.
    _git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("a hospital project\n")
    _git(tmp_path, "add", "README")
    _git(tmp_path, "commit", "-q", "-m", "init")
    installed = _copy_package(tmp_path / ".venv" / "clinai")
    assert code_version(installed)["git_commit"] is None


def test_a_checkout_gives_its_commit_and_dirty_flag(tmp_path: Path) -> None:
    checkout = _copy_package(tmp_path / "src" / "clinai")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "clinai")
    head = _git(tmp_path, "rev-parse", "HEAD").strip()
    code = code_version(checkout)
    assert (code["git_commit"], code["git_dirty"]) == (head, False)
    assert describe_code(code) == f"clinai {code['clinai_version']} (git {head[:12]})"
    # a changed tracked file outside the package (a model card, a pipeline) is not the code
    (tmp_path / "model_card.md").write_text("card\n", encoding="utf-8")
    _git(tmp_path, "add", "model_card.md")
    _git(tmp_path, "commit", "-q", "-m", "card")
    (tmp_path / "model_card.md").write_text("rewritten by clinai demo\n", encoding="utf-8")
    assert code_version(checkout)["git_dirty"] is False
    (checkout / "__init__.py").write_text("# changed\n", encoding="utf-8")
    assert code_version(checkout)["git_dirty"] is True


def test_pipeline_module_is_hashed() -> None:
    path = FIXTURES / "tiny_pipeline.py"
    lineage = pipeline_lineage(load_pipeline(str(path)))
    assert lineage == {
        "name": "tiny_pipeline",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


@pytest.mark.parametrize("code", [{}, {"clinai_version": None, "source_sha256": None}])
def test_describe_code_never_empty(code: dict[str, object]) -> None:
    assert describe_code(code) == "clinai unknown"
