"""Data and by-definition O(n^2) versions shared by the survival metric tests.

The slow versions follow the published definitions pair by pair (no sorting,
no trees), so the fast O(n log n) code is checked against the formulas too,
not only against scikit-survival.
"""

from __future__ import annotations

import numpy as np
from sksurv.datasets import load_gbsg2, load_veterans_lung_cancer, load_whas500

LOADERS = {"whas500": load_whas500, "veterans": load_veterans_lung_cancer, "gbsg2": load_gbsg2}


def shipped(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (time, event, score) of a dataset shipped with scikit-survival.

    The score is a fixed linear combination of the numeric columns (z-scored),
    a stand-in for a model's linear predictor.
    """
    features, outcome = LOADERS[name]()
    event_field, time_field = outcome.dtype.names
    numeric = features.select_dtypes("number").to_numpy(float)
    z = (numeric - numeric.mean(axis=0)) / numeric.std(axis=0)
    weights = np.linspace(1.0, -0.5, z.shape[1])
    return outcome[time_field].astype(float), outcome[event_field].astype(bool), z @ weights


def risk_at(time: np.ndarray, event: np.ndarray, score: np.ndarray, t: float) -> np.ndarray:
    """Proportional-hazards style absolute risk by ``t``: 1 - S_KM(t) ** exp(score - mean)."""
    at_risk = np.array([(time >= s).sum() for s in np.unique(time[event])])
    deaths = np.array([((time == s) & event).sum() for s in np.unique(time[event])])
    base = np.prod((1 - deaths / at_risk)[np.unique(time[event]) <= t])
    return 1.0 - base ** np.exp(np.clip(score - score.mean(), -5, 5))


def random_survival(
    seed: int, n: int = 120, *, ties: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random (time, event, score): with ``ties``, integer times and scores (many ties)."""
    rng = np.random.default_rng(seed)
    if ties:
        time = rng.integers(1, 12, n).astype(float)
        score = rng.integers(0, 6, n).astype(float)
    else:
        time = rng.exponential(5.0, n)
        score = rng.normal(size=n)
    event = rng.random(n) < 0.6
    event[0] = True
    # one patient followed beyond everyone, censored: G > 0 at every event time
    time[-1], event[-1] = time.max() + 1.0, False
    return time, event, score


def slow_km(time: np.ndarray, event: np.ndarray, t: float, *, censoring: bool = False) -> float:
    """Product-limit estimate at ``t`` from counts (censoring: events leave first at ties)."""
    value = 1.0
    for s in np.unique(time[time <= t]):
        at_risk = (time >= s).sum()
        deaths = ((time == s) & event).sum()
        if censoring:
            lost = ((time == s) & ~event).sum()
            value *= 1.0 - lost / (at_risk - deaths) if at_risk > deaths else 1.0
        else:
            value *= 1.0 - deaths / at_risk
    return value


def slow_concordance(
    time: np.ndarray, event: np.ndarray, score: np.ndarray, *, tau: float | None = None
) -> tuple[float, float]:
    """(Harrell's C, Uno's C) pair by pair; ties in score count 1/2."""
    horizon = np.inf if tau is None else tau
    sums = np.zeros(4)
    for i in np.flatnonzero(event):
        later = (time > time[i]) | ((time == time[i]) & ~event)
        credit = (score[i] > score[later]) + 0.5 * (score[i] == score[later])
        uno = slow_km(time, event, time[i], censoring=True) ** -2.0 if time[i] < horizon else 0.0
        sums += [credit.sum(), later.sum(), uno * credit.sum(), uno * later.sum()]
    return sums[0] / sums[1], sums[2] / sums[3]


def slow_auc(time: np.ndarray, event: np.ndarray, risk: np.ndarray, t: float) -> float:
    """Uno's cumulative/dynamic AUC(t), pair by pair, cases weighted by 1 / G(T_i)."""
    numerator = denominator = 0.0
    for i in np.flatnonzero(event & (time <= t)):
        weight = 1.0 / slow_km(time, event, time[i], censoring=True)
        for j in np.flatnonzero(time > t):
            numerator += weight * ((risk[i] > risk[j]) + 0.5 * (risk[i] == risk[j]))
            denominator += weight
    return numerator / denominator


def slow_brier(time: np.ndarray, event: np.ndarray, risk: np.ndarray, t: float) -> float:
    """Graf's IPCW Brier score at ``t``, patient by patient."""
    g_t = slow_km(time, event, t, censoring=True)
    total = 0.0
    for ti, ei, ri in zip(time, event, risk, strict=True):
        if ti <= t and ei:
            total += (1.0 - ri) ** 2 / slow_km(time, event, ti, censoring=True)
        elif ti > t:
            total += ri**2 / g_t
    return total / time.shape[0]


def replicate(seed: int, counts: list[int]) -> tuple[np.ndarray, ...]:
    """A bootstrap replicate two ways: row counts as weights, and the rows repeated.

    Returns ``(time, event, score, rows, data, weights)``: ``rows`` indexes the
    repeated sample; ``data`` is the original sorted once; ``weights`` the counts
    in its time order.
    """
    from clinai.evaluation.survival._kaplan_meier import sort_survival

    time, event, score = random_survival(seed, len(counts))
    rows = np.repeat(np.arange(len(counts)), counts)
    data = sort_survival(time, event)
    return time, event, score, rows, data, np.asarray(counts, dtype=float)[data.order]
