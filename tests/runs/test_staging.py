"""The staged output folder shared by validate, validate-survival and meta-analyse."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinai.runs._staging import staged_folder


def test_a_failure_in_the_block_leaves_nothing_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with pytest.raises(RuntimeError, match="boom"), staged_folder(target) as staging:
        (staging / "metrics.json").write_text("{}")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_target_is_replaced_and_a_missing_parent_made(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with staged_folder(empty) as staging:
        (staging / "a.txt").write_text("a")
    nested = tmp_path / "x" / "y"
    with staged_folder(nested) as staging:
        (staging / "b.txt").write_text("b")
    assert [p.name for p in empty.iterdir()] == ["a.txt"]
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["y"]
