from __future__ import annotations

from clinai.models import TuningResult
from clinai.runs._train import select_family


def _result(name: str, score: float, se: float | None) -> TuningResult:
    return TuningResult(
        model_name=name,
        best_params={},
        best_score=score,
        n_trials=5,
        trials=[],
        study_name=name,
        storage=None,
        best_score_se=se,
    )


def test_simplest_family_within_one_standard_error_wins() -> None:
    candidates = [_result("lightgbm", 0.80, 0.03), _result("logistic", 0.78, 0.02)]
    assert select_family(candidates).model_name == "logistic"


def test_clearly_better_flexible_family_wins() -> None:
    candidates = [
        _result("lightgbm", 0.85, 0.02),
        _result("logistic", 0.78, 0.02),
        _result("mlp", 0.80, 0.02),
    ]
    assert select_family(candidates).model_name == "lightgbm"


def test_within_the_margin_the_order_is_logistic_lightgbm_mlp() -> None:
    candidates = [_result("mlp", 0.82, 0.05), _result("lightgbm", 0.79, 0.01)]
    assert select_family(candidates).model_name == "lightgbm"


def test_without_a_standard_error_the_top_score_wins() -> None:
    candidates = [_result("lightgbm", 0.80, None), _result("logistic", 0.79, None)]
    assert select_family(candidates).model_name == "lightgbm"
