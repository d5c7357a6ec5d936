from __future__ import annotations

import hashlib
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from clinai._utils import (
    atomic_write_bytes,
    atomic_write_text,
    sha256_file,
    sha256_text,
    to_jsonable,
)


def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


def test_atomic_write_uses_the_usual_file_mode(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / "b.bin", b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "c.txt"
    atomic_write_text(target, "old")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["c.txt"]


def test_hashes_match_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "d.bin"
    path.write_bytes(b"clinai" * 1000)
    assert sha256_file(path) == hashlib.sha256(b"clinai" * 1000).hexdigest()
    assert sha256_text("æøå") == hashlib.sha256("æøå".encode()).hexdigest()


def test_to_jsonable_makes_strict_json() -> None:
    value = {
        "a": np.float64(1.5),
        "b": [np.int64(2), math.nan],
        "c": np.array([1.0, math.inf]),
        "d": Path("x"),
        3: True,
    }
    assert to_jsonable(value) == {"a": 1.5, "b": [2, None], "c": [1.0, None], "d": "x", "3": True}


def test_redact_url_hides_only_the_password() -> None:
    from clinai._utils import redact_url

    assert redact_url("postgresql+psycopg2://ann:s3cret@db:5432/optuna") == (
        "postgresql+psycopg2://ann:***@db:5432/optuna"
    )
    assert redact_url("sqlite:///optuna.db") == "sqlite:///optuna.db"
    assert redact_url("http://mlflow.local:5000") == "http://mlflow.local:5000"
