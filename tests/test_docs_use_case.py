"""What a user adding a use case needs is in the docs, not only in docstrings (issue 13, 15g)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import yaml

from clinai.data import age_band

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
LOCALES = ROOT / "src" / "clinai" / "reporting" / "locales"


def _section(title: str) -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert title in text, f"docs/architecture.md has no section {title!r}"
    return " ".join(text.split(title, 1)[1].split("\n#", 1)[0].split())  # one line of words


def test_age_band_defaults_and_cuts_are_documented() -> None:
    section = _section('### `METADATA["setting"]` and `age_band`')
    default = inspect.signature(age_band).parameters["cuts"].default
    assert f"cuts={tuple(default)!r}".replace(" ", "") in section.replace(" ", "")
    adult = age_band(pd.Series([50, 60, 80]))
    for label in adult:  # the documented bands are the function's
        assert f"`{label}`" in section, label
    assert "`unknown`" in section
    children = age_band(pd.Series([0, 3, 8, 15, 30]), cuts=(1, 5, 12, 18))
    assert "cuts=(1, 5, 12, 18)" in section
    for label in children:
        assert f"`{label}`" in section, label


def test_every_setting_with_a_label_is_documented() -> None:
    section = _section('### `METADATA["setting"]` and `age_band`')
    codes = {
        key.removeprefix("setting_")
        for path in LOCALES.glob("*.yaml")
        for key in yaml.safe_load(path.read_text(encoding="utf-8"))
        if key.startswith("setting_")
    }
    assert codes
    for code in codes:
        assert f"`{code}`" in section, code
    assert "printed as written" in section
