"""``data.source.path`` is read from the config file's folder, whatever the current folder."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from clinai.config import load_config


def _config(folder: Path, path: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "my_case.yaml"
    payload = {
        "experiment": "my_case",
        "pipeline": "my_case",
        "data": {"source": {"type": "csv", "path": path}},
    }
    config.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return config


def test_relative_path_is_read_from_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = _config(tmp_path / "project" / "configs", "data/x.csv")
    data_file = tmp_path / "project" / "configs" / "data" / "x.csv"
    data_file.parent.mkdir()
    data_file.write_text("a,b\n1,2\n")
    monkeypatch.chdir(tmp_path)  # neither the config's folder nor the data's

    source = load_config(config_path).data.source

    assert source.file == data_file.resolve()
    assert source.path == "data/x.csv"  # kept as written


def test_missing_file_is_named_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = _config(tmp_path / "configs", "data/x.csv")
    monkeypatch.chdir(tmp_path)
    source = load_config(config_path).data.source
    assert source.file is not None and source.file.is_absolute()
    assert source.file == (tmp_path / "configs" / "data" / "x.csv").resolve()


def test_path_relative_to_the_current_folder_still_works_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """How clinai read the path before: accepted, and the user is told to move to the rule."""
    config_path = _config(tmp_path / "configs", "data/x.csv")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a,b\n1,2\n")
    monkeypatch.chdir(tmp_path)

    with caplog.at_level(logging.WARNING, logger="clinai.config"):
        source = load_config(config_path).data.source

    assert source.file == (tmp_path / "data" / "x.csv").resolve()
    assert "found from the current folder" in caplog.text
    assert str((tmp_path / "configs").resolve()) in caplog.text


def test_no_warning_when_the_config_folder_is_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config_path = _config(tmp_path, "x.csv")
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING, logger="clinai.config"):
        source = load_config(config_path).data.source
    assert source.file == (tmp_path / "x.csv").resolve()
    assert caplog.text == ""


def test_absolute_path_and_hash_do_not_depend_on_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_file = tmp_path / "elsewhere" / "x.csv"
    config_path = _config(tmp_path / "configs", str(data_file))
    monkeypatch.chdir(tmp_path)
    first = load_config(config_path)
    assert first.data.source.file == data_file.resolve()

    # The resolved file is not part of the config's content (its hash and config.resolved.yaml).
    relative = _config(tmp_path / "a", "x.csv")
    moved = _config(tmp_path / "b", "x.csv")
    assert load_config(relative).model_dump() == load_config(moved).model_dump()
    assert "file" not in load_config(relative).data.source.model_dump()
