"""The categorical levels a fitted model knows: what ``clinai score`` compares new data with."""

from __future__ import annotations

from typing import Any

from clinai.exceptions import ModelError
from clinai.models._explain_inputs import _pipelines

__all__ = ["known_levels"]


def known_levels(fitted: Any) -> dict[str, frozenset[str]]:
    """Return each categorical input's levels that the fitted model's encoder knows.

    The one-hot encoder ignores a level unseen in training (its columns are all zero, as
    for no level), so a new code or a change of case (``YES`` for ``yes``) is scored
    without a word; the scorer compares new data with these levels. Levels are the
    strings the preprocessing makes of the values (``1`` becomes ``"1"``). With several
    fold models (a calibration ensemble), a level any of them knows counts as known.

    Parameters
    ----------
    fitted : estimator
        A fitted model from :func:`get_model` (calibrated or shrunk as the train stage
        leaves it).

    Returns
    -------
    dict of str to frozenset of str
        Per categorical column; empty for a model without that preprocessing (a survival
        model, or any other estimator).
    """
    try:
        pipes = _pipelines(fitted)
    except (ModelError, ValueError, TypeError, AttributeError):
        return {}
    levels: dict[str, set[str]] = {}
    for pipe in pipes:
        for label, transformer, columns in pipe.named_steps["preprocess"].transformers_:
            if label != "cat":
                continue
            # the imputer drops columns that were all missing in training
            kept = transformer.named_steps["impute"].get_feature_names_out(
                [str(c) for c in columns]
            )
            encoder = transformer.named_steps["onehot"]
            for column, categories in zip(kept, encoder.categories_, strict=True):
                levels.setdefault(str(column), set()).update(str(c) for c in categories)
    return {column: frozenset(known) for column, known in levels.items()}
