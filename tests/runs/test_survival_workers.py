"""Survival families are tuned through the same workers as binary ones (``--workers N``).

A survival run recorded ``workers`` in training.json but tuned in one process; the
survival tuner now takes the study's budget lock, so several workers share one budget.
"""

from __future__ import annotations

from pathlib import Path

from sksurv.datasets import load_whas500

from clinai.models import survival_target
from clinai.runs._workers import tune_with_workers


def _options(tmp_path: Path) -> dict:
    X, y0 = load_whas500()
    X = X[["age", "bmi", "hr", "sysbp"]].iloc[:200]
    y = survival_target(y0["lenfol"][:200], y0["fstat"][:200].astype(int))
    return {"X": X, "y": y, "numeric": list(X.columns), "categorical": [], "cv_folds": 3,
            "timeout_s": 600, "storage": f"sqlite:///{tmp_path / 'optuna.db'}"}  # fmt: skip


def test_a_survival_family_tunes_under_the_study_lock(tmp_path: Path) -> None:
    seen: list[int] = []
    result = tune_with_workers(
        "cox_net", workers=1, n_trials=2, study_name="surv",
        on_trial=lambda r: seen.append(r.number), **_options(tmp_path),
    )  # fmt: skip
    assert result.model_name == "cox_net" and result.n_trials == 2
    assert seen == [0, 1]
    assert result.trials[0].params == {"alpha": 0.01, "l1_ratio": 0.1}  # the default first


def test_two_workers_share_one_survival_budget(tmp_path: Path) -> None:
    seen: list[int] = []
    result = tune_with_workers(
        "cox_net", workers=2, n_trials=6, study_name="surv2",
        on_trial=lambda r: seen.append(r.number), **_options(tmp_path),
    )  # fmt: skip
    complete = [t for t in result.trials if t.state == "COMPLETE"]
    assert len(complete) == 6 == result.n_trials  # exactly the budget, all workers together
    assert sorted(seen) == sorted(t.number for t in complete)  # every trial reached the caller
