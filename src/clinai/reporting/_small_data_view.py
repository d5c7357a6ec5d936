"""What the card and the report say when the development data were too small (issue 16, item 6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["small_data_view"]

_COUNTS = ("n_parameters", "n_required", "events_required", "n_available", "events_available")


def small_data_view(model: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return training.json's ``small_data`` facts for the documents, or None when adequate.

    Parameters
    ----------
    model : mapping
        The run context's ``model`` section; its ``small_data`` block is the train
        stage's record of Riley's criteria and the shrinkage applied.

    Returns
    -------
    dict or None
        The counts, the shrinkage factor (None when none was applied) and
        ``applied`` (whether the predictions were shrunk); None when the criteria
        were met or not recorded.
    """
    block = s.mapping(model.get("small_data"))
    if block.get("criteria_met") is not False:
        return None
    shrinkage = s.number(block.get("shrinkage"))
    return {
        **{key: s.number(block.get(key)) for key in _COUNTS},
        "shrinkage": shrinkage,
        "applied": shrinkage is not None,
        # about 1: no shrinkage needed; above 1: the calibration spread a too cautious model out
        "no_further_shrinkage": shrinkage is not None and 0.995 <= shrinkage <= 1.005,
        "expanded": shrinkage is not None and shrinkage > 1.005,
    }
