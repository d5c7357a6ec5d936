"""The numpydoc blocks runs and models share render as the text they replace, all filled."""

from __future__ import annotations

import pytest

from clinai.models._preprocess import check_columns, make_preprocessor
from clinai.models._torch_core import TorchClassifier
from clinai.runs import check_data, run_experiment, validate_predictions_file
from clinai.runs._docstrings import SHARED_DOCS
from clinai.runs._validate_survival import validate_survival_file

CONFIG = (
    "    Parameters\n    ----------\n    config_path : path-like\n        The experiment YAML.\n"
    "    overrides : iterable of str\n        ``key=value`` overrides (``--set``).\n"
)
PREDICTIONS = (
    "    Parameters\n    ----------\n    predictions : path-like\n"
    "        CSV or Parquet with one row per prediction.\n"
)
COLUMNS = (
    "    Parameters\n    ----------\n    numeric : sequence of str\n        Numeric columns.\n"
    "    categorical : sequence of str\n        Categorical columns.\n"
)
X_PREDICT = (
    "        Parameters\n        ----------\n"
    "        X : array-like or pandas.DataFrame of shape (n_samples, n_features)\n"
    "            Features, as in :meth:`fit`.\n"
)


@pytest.mark.parametrize(
    ("func", "section"),
    [
        (check_data, CONFIG),
        (run_experiment, CONFIG),
        (validate_predictions_file, PREDICTIONS),
        (validate_survival_file, PREDICTIONS),
        (check_columns, COLUMNS),
        (make_preprocessor, COLUMNS),
        (TorchClassifier.predict_proba, X_PREDICT),
        (TorchClassifier.predict, X_PREDICT),
    ],
)
def test_a_shared_block_renders_in_place_of_its_placeholder(func: object, section: str) -> None:
    doc = func.__doc__ or ""
    assert section in doc
    assert "{parameters_" not in doc


def test_each_runs_block_opens_the_parameters_section() -> None:
    for name, block in SHARED_DOCS.items():
        assert block.startswith("Parameters\n----------\n"), name
