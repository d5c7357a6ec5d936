from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinai.exceptions import PipelineError
from clinai.runs import find_pipeline_names, load_pipeline
from tests._helpers import ROOT, TABULAR_USE_CASES


def test_bundled_pipelines_are_found_by_name() -> None:
    assert set(TABULAR_USE_CASES) <= set(find_pipeline_names(ROOT))
    for name in TABULAR_USE_CASES:
        module = load_pipeline(name, base_dir=ROOT)
        assert module.METADATA["dataset"]


def test_pipeline_by_path(tmp_path: Path) -> None:
    module = load_pipeline(str(ROOT / "pipelines" / "icu_mortality.py"))
    assert module.METADATA["setting"] == "acute"


def test_unknown_pipeline_names_the_places_searched(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=re.escape("pipeline 'nope' not found: looked in")):
        load_pipeline("nope", base_dir=tmp_path)


def test_pipeline_missing_functions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "half.py"
    path.write_text("METADATA = {}\ndef outcome(c):\n    return c\n", encoding="utf-8")
    with pytest.raises(
        PipelineError, match="lacks the function\\(s\\) exclusions, features, sensitive_attributes"
    ):
        load_pipeline(str(path))


def test_pipeline_that_fails_to_import(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    with pytest.raises(PipelineError, match="failed to import: boom"):
        load_pipeline(str(path))


def test_search_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = (ROOT / "pipelines" / "icu_mortality.py").read_text(encoding="utf-8")
    (tmp_path / "site_case.py").write_text(source, encoding="utf-8")
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(tmp_path))
    assert load_pipeline("site_case", base_dir=tmp_path / "elsewhere").METADATA["title"]
