"""The lock file of a SQLite study: used while tuning, removed afterwards, still exclusive.

Every study used to leave a ``clinai-optuna-<hash>.lock`` in the system temp folder
(40 after one demo and one test run).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

import pytest

from clinai.runs._workers import _sweep_stale_locks, study_lock, tune_with_workers
from tests.models.conftest import CATEGORICAL, NUMERIC, make_data

pytest.importorskip("optuna")


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private system temp folder, so other processes' lock files do not count."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _locks(folder: Path) -> list[Path]:
    return sorted(folder.glob("clinai-optuna-*.lock"))


def test_a_study_leaves_no_lock_file(tmp_path: Path, temp_dir: Path) -> None:
    X, y = make_data(80, seed=1)
    seen_during: list[int] = []
    result = tune_with_workers(
        "logistic",
        workers=1,
        X=X,
        y=y,
        numeric=NUMERIC,
        categorical=CATEGORICAL,
        n_trials=2,
        timeout_s=600,
        cv_folds=3,
        storage=f"sqlite:///{tmp_path / 'optuna.db'}",
        study_name="lock-study",
        on_trial=lambda record: seen_during.append(len(_locks(temp_dir))),
    )
    assert result.n_trials == 2
    assert seen_during == [1, 1]  # the lock file guards the study while it runs
    assert _locks(temp_dir) == []


def _locked_by_someone(path: Path) -> bool:
    with path.open("a") as other:
        try:
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
        return False


def test_the_lock_excludes_after_another_worker_removed_its_file(
    tmp_path: Path, temp_dir: Path
) -> None:
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    first = contextlib.ExitStack()
    first_hold = first.enter_context(study_lock(storage, "shared"))
    with study_lock(storage, "shared") as second_hold:  # both opened the same file
        with first_hold():
            (path,) = _locks(temp_dir)
            assert _locked_by_someone(path)
        assert not _locked_by_someone(path)
        first.close()  # the first worker is done while the second still tunes
        assert _locks(temp_dir) == []
        with second_hold():
            # The second worker locks the file now at the path, not the removed one, so a
            # third worker arriving now is excluded.
            (path,) = _locks(temp_dir)
            assert _locked_by_someone(path)
    assert _locks(temp_dir) == []


def _stale(path: Path, *, age_s: float = 2 * 3600) -> Path:
    path.touch()
    old = path.stat().st_mtime - age_s
    os.utime(path, (old, old))
    return path


def test_a_killed_processs_old_lock_file_is_removed_by_the_next_study(temp_dir: Path) -> None:
    stale = _stale(temp_dir / "clinai-optuna-0123456789abcdef01234567.lock")
    young = temp_dir / "clinai-optuna-fedcba9876543210fedcba98.lock"
    young.touch()  # may belong to a live worker between two trials
    held = _stale(temp_dir / "clinai-optuna-00000000000000000000000a.lock")
    with held.open("a") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # a live worker holds it now
        with study_lock(f"sqlite:///{temp_dir / 'optuna.db'}", "next-study"):
            pass
    assert not stale.exists()
    assert young.exists()
    assert held.exists()
    assert _sweep_stale_locks(temp_dir) == 1  # once unheld, the old one goes too
