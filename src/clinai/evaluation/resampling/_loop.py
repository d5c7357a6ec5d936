"""Bootstrap replicates of metrics computed on resampled rows, one resample at a time.

For metrics without a vectorised form (survival comparisons and fairness tables), on
the same resamples as every other interval of clinai (:func:`bootstrap_indices`:
patients resampled when given) and with the same interval rule
(:func:`contained_interval`: percentile, extended to contain the estimate).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

import numpy as np

from clinai.evaluation._estimate import Estimate
from clinai.evaluation.resampling._bootstrap import bootstrap_indices
from clinai.evaluation.resampling.engine import RandomState, contained_interval
from clinai.exceptions import DataError

__all__ = ["loop_replicates", "with_intervals"]


def loop_replicates(
    compute: Callable[[np.ndarray], Any],
    shape: tuple[int, ...],
    n: int,
    *,
    patient_ids: Any = None,
    n_boot: int = 200,
    random_state: RandomState = 0,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Return ``compute(rows)`` for each resample, shape ``(n_boot, *shape)``.

    A resample where ``compute`` raises :class:`DataError` (e.g. no event by the
    horizon in a group) is NaN throughout; NaN values are undefined replicates.
    """
    replicates = np.full((int(n_boot), *shape), np.nan)
    resamples = bootstrap_indices(
        n, patient_ids=patient_ids, n_boot=n_boot, random_state=random_state
    )
    for b, rows in enumerate(resamples):
        with suppress(DataError):
            replicates[b] = compute(rows)
        if progress is not None:
            progress(b + 1, int(n_boot))
    return replicates


def with_intervals(replicates: np.ndarray, estimates: Any, ci_level: float) -> list[Estimate]:
    """Return an :class:`Estimate` per estimate (flattened) with its bootstrap interval."""
    point = np.asarray(estimates, dtype=np.float64).ravel()
    if replicates.shape[0] == 0:
        return [Estimate(float(value)) for value in point]
    low, high, _ = contained_interval(replicates.reshape(replicates.shape[0], -1), point, ci_level)
    return [
        Estimate(float(value), float(lo), float(hi))
        for value, lo, hi in zip(point, low, high, strict=True)
    ]
