"""What the card and the report say when the development data were too small (issue 16, item 6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["small_data_view"]

_COUNTS = ("n_parameters", "n_required", "events_required", "n_available", "events_available")
#: training.json's ``small_data.outcome`` of a survival run (binary records have none).
_SURVIVAL = "survival"


def small_data_view(model: Mapping[str, Any], *, survival: bool = False) -> dict[str, Any] | None:
    """Return training.json's ``small_data`` facts for the documents, or None when adequate.

    Parameters
    ----------
    model : mapping
        The run context's ``model`` section; its ``small_data`` block is the train
        stage's record of Riley's criteria and the shrinkage applied.
    survival : bool, default=False
        The document is a survival model's (its card): the survival wording even
        for a record written before records said ``outcome: survival``.

    Returns
    -------
    dict or None
        The counts, the shrinkage factor (None when none was applied),
        ``applied`` (whether the predictions were shrunk) and the locale keys of
        the two sentences (``text_key``, ``note_key``): a survival record
        (``outcome: survival``) has its own, which speak of the log relative hazard
        and Riley et al.'s time-to-event criteria; None when the criteria were met
        or not recorded.
    """
    block = s.mapping(model.get("small_data"))
    if block.get("criteria_met") is not False:
        return None
    shrinkage = s.number(block.get("shrinkage"))
    survival = survival or block.get("outcome") == _SURVIVAL
    if shrinkage is None:
        # survival and auto: the model was not recalibrated (its record says why)
        note = "not_recalibrated" if survival and block.get("mode") == "auto" else "off"
    elif 0.995 <= shrinkage <= 1.005:
        note = "no_further"  # about 1: no shrinkage needed
    elif shrinkage > 1.005:
        note = "expanded"  # the calibration spread a too cautious model out
    else:
        note = "shrunk"
    suffix = "_survival" if survival else ""
    return {
        **{key: s.number(block.get(key)) for key in _COUNTS},
        "shrinkage": shrinkage,
        "applied": shrinkage is not None,
        "no_further_shrinkage": note == "no_further",
        "expanded": note == "expanded",
        "survival": survival,
        "text_key": f"small_data_text{suffix}",
        "note_key": f"small_data_{note}{suffix}",
    }
