"""What every replicate of the fast bootstrap shares: the rows in canonical order and fixed sums."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clinai.evaluation.resampling._fast_lowess import _Lowess


@dataclass
class _Baseline:
    """Fixed quantities of a baseline score in canonical order."""

    codes1: np.ndarray
    codes0: np.ndarray
    values: np.ndarray
    probability: bool
    nb_index: np.ndarray


@dataclass
class _Layout:
    """Everything a replicate needs that does not depend on its counts."""

    n1: int
    n0: int
    codes: np.ndarray | None
    n_clusters: int
    lo0: np.ndarray
    hi0: np.ndarray | None
    lo1: np.ndarray | None
    thr_lo1: np.ndarray
    thr_lo0: np.ndarray
    #: The LOWESS bins' edges per class (``lowess.edges1.shape[0]``).
    n_edges: int
    #: Where a replicate's running class counts are read: the LOWESS bins' edges, the
    #: thresholds' positions, the class size (``at1``/``at0`` of the fused chunks).
    positions1: np.ndarray
    positions0: np.ndarray
    #: Each row's resampling unit (its patient, or itself), as uint64.
    unit_codes: np.ndarray
    thresholds: np.ndarray
    nb_thresholds: np.ndarray
    columns: dict[str, int]
    features: np.ndarray
    y: np.ndarray
    x: np.ndarray
    a0: float
    c0: float
    b0: float
    x_max: float
    order: int
    lowess: _Lowess
    baseline: _Baseline | None
