"""Age bands and attribute tables for subgroup (fairness) analysis."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["age_band", "attribute_frame"]

#: What a missing attribute value reads as in every subgroup table.
UNKNOWN = "unknown"


def age_band(age: pd.Series, *, cuts: Sequence[float] = (60, 75)) -> pd.Series:
    """Label ages with bands: ``<60``, ``60-74``, ``>=75`` for the default cuts.

    Parameters
    ----------
    age : pandas.Series
        Age in whole years; missing ages become ``"unknown"``.
    cuts : sequence of float
        Increasing lower bounds of the bands after the first.

    Returns
    -------
    pandas.Series
        String labels on ``age``'s index. Subgroup tables list them in the order
        of their lower bound (``<60``, ``60-74``, ``>=75``), not as text.

    Examples
    --------
    >>> import pandas as pd
    >>> age_band(pd.Series([45, 60, 74, 75, None])).tolist()
    ['<60', '60-74', '60-74', '>=75', 'unknown']
    """
    bounds = [float(c) for c in cuts]
    labels = [f"<{bounds[0]:g}"]
    labels += [f"{low:g}-{high - 1:g}" for low, high in itertools.pairwise(bounds)]
    conditions = [age < bound for bound in bounds]
    bands = np.select(conditions, labels, f">={bounds[-1]:g}")
    return pd.Series(bands, index=age.index, dtype=object).where(age.notna(), UNKNOWN)


def attribute_frame(cohort: pd.DataFrame, **attributes: pd.Series) -> pd.DataFrame:
    """Collect a pipeline's sensitive attributes as text on the cohort's index.

    Parameters
    ----------
    cohort : pandas.DataFrame
        The cohort whose index the table takes.
    **attributes : pandas.Series
        One Series per attribute (on the cohort's index), named by the keyword;
        a missing value becomes ``"unknown"``.

    Returns
    -------
    pandas.DataFrame
        One string column per attribute, in the order given.

    Examples
    --------
    >>> import pandas as pd
    >>> cohort = pd.DataFrame({"sex": [1, 0, None]})
    >>> attribute_frame(cohort, sex=cohort["sex"].map({1: "male", 0: "female"}))["sex"].tolist()
    ['male', 'female', 'unknown']
    """
    columns = {name: values.fillna(UNKNOWN) for name, values in attributes.items()}
    return pd.DataFrame(columns, index=cohort.index).astype(str)
