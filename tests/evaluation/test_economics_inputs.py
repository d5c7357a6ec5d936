"""Hand-typed `economics:` sections: refused at load with the field named, or read as meant.

Met by a health economist filling in a copy of configs/acute_deterioration.yaml (session 14):
a currency typo (DDK), 1.2e5 (YAML reads it as text), n_draws: true, a lognormal's mean
given as its meanlog (an internal OverflowError, exit 1), and a model that flags nobody or
everybody at a threshold (its NMB must equal treat-none or treat-all).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clinai.config._load import load_plan_economics
from clinai.evaluation import EconomicParameters, net_monetary_benefit, parameter_distribution
from clinai.exceptions import ConfigError, DataError

POINT = {
    "cost_alert": 320,
    "cost_outcome": 120_000,
    "relative_risk_reduction": 0.2,
    "qalys_lost_per_event": 1.0,
    "willingness_to_pay": 750_000,
}
SECTION = """economics:
  cost_alert: {distribution: gamma, shape: 16, scale: 20}
  cost_outcome: {cost_outcome}
  relative_risk_reduction: {distribution: beta, alpha: 6, beta: 24}
  qalys_lost_per_event: {distribution: gamma, shape: 4, scale: 0.25}
  willingness_to_pay: 750000
  currency: {currency}
"""


def _plan(
    tmp_path: Path, *, cost_outcome: str = "120000", currency: str = "DKK", extra: str = ""
) -> Path:
    text = SECTION.replace("{cost_outcome}", cost_outcome).replace("{currency}", currency)
    path = tmp_path / "plan.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # was accepted: every table said DDK
        ({"currency": "DDK"}, "'DDK' is not an ISO 4217 currency code"),
        # was accepted as one draw: a PSA of a single world
        ({"extra": "  n_draws: true\n"}, "'economics.n_draws'"),
        # was an internal error (OverflowError: math range error), exit 1
        (
            {"cost_outcome": "{distribution: lognormal, meanlog: 120000, sdlog: 0.3}"},
            "meanlog and sdlog are on the log scale",
        ),
        ({"cost_outcome": "{distribution: gamma, shape: 1.0e+308, scale: 1.0e+308}"}, "too large"),
    ],
)
def test_a_mistyped_section_is_refused_naming_the_field(
    tmp_path: Path, edit: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_plan_economics(_plan(tmp_path, **edit))
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_a_number_yaml_reads_as_text_is_a_number(tmp_path: Path) -> None:
    # YAML 1.1 reads 1.2e5 (no sign in the exponent) as the text '1.2e5': it was refused
    # with "give a number" although a number was given
    spec = load_plan_economics(_plan(tmp_path, cost_outcome="1.2e5"))
    assert spec is not None and spec.cost_outcome.value == 120000.0
    with pytest.raises(ConfigError, match="give a number"):
        load_plan_economics(_plan(tmp_path, cost_outcome="120.000 kr"))


def test_the_evaluation_layer_refuses_an_overflowing_lognormal_with_one_line() -> None:
    spec = {"distribution": "lognormal", "meanlog": 800.0, "sdlog": 1.0}
    with pytest.raises(DataError, match=r"economics.cost_outcome: .* too large"):
        parameter_distribution(spec, name="economics.cost_outcome")
    assert parameter_distribution(
        {"distribution": "lognormal", "meanlog": 11.7, "sdlog": 0.3}
    ).expected_value == pytest.approx(np.exp(11.7 + 0.045))


def test_a_threshold_that_flags_nobody_or_everybody_equals_treat_none_or_all() -> None:
    rng = np.random.default_rng(3)
    risk = rng.uniform(0.05, 0.8, 400)
    outcome = rng.binomial(1, risk)
    point = EconomicParameters(**POINT)
    result = net_monetary_benefit(outcome, risk, [0.001, 0.99], point).to_dict()
    nmb = {s["label"]: s["nmb_per_1000"] for s in result["strategies"]}
    events, n = int(outcome.sum()), outcome.shape[0]
    harm = 120_000 + 750_000
    assert nmb["treat_none"] == pytest.approx(-events * harm / n * 1000)
    assert nmb["treat_all"] == pytest.approx(-(n * 320 + events * 0.8 * harm) / n * 1000)
    assert nmb["model >= 0.99"] == pytest.approx(nmb["treat_none"])
    assert nmb["model >= 0.001"] == pytest.approx(nmb["treat_all"])
