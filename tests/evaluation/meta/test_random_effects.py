"""random_effects_meta against a published worked example, statsmodels and its definitions."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from clinai.evaluation import MetaAnalysis, random_effects_meta
from clinai.evaluation.meta import _random_effects as re_module
from clinai.exceptions import DataError

# The BCG vaccine trials (Colditz et al. 1994, JAMA 271:698; metafor's dat.bcg):
# tuberculosis cases and non-cases among the vaccinated (tpos, tneg) and the
# unvaccinated (cpos, cneg) of the 13 trials.
BCG_TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
BCG_TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
BCG_CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
BCG_CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]


@pytest.fixture(scope="module")
def bcg() -> tuple[np.ndarray, np.ndarray]:
    """The trials' log risk ratios and their variances (metafor's escalc(measure="RR"))."""
    tpos, tneg, cpos, cneg = np.array([BCG_TPOS, BCG_TNEG, BCG_CPOS, BCG_CNEG], dtype=float)
    log_rr = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    variance = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return log_rr, variance


def _heterogeneous(seed: int, k: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Estimates from k studies with between-study variance 0.04 and known variances."""
    rng = np.random.default_rng(seed)
    variances = rng.uniform(0.005, 0.05, size=k)
    estimates = rng.normal(0.5, 0.2, size=k) + rng.normal(0.0, np.sqrt(variances))
    return estimates, variances


def test_bcg_reml_matches_metafor(bcg: tuple[np.ndarray, np.ndarray]) -> None:
    # metafor's documentation, rma(yi, vi, data=dat.bcg): estimate -0.7145, se 0.1798,
    # CI -1.0669 to -0.3622, tau^2 0.3132, Q(df = 12) = 152.2330
    result = random_effects_meta(*bcg, method="REML", ci="wald")
    assert result.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert result.se == pytest.approx(0.1798, abs=5e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx((-1.0669, -0.3622), abs=5e-5)
    assert result.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert (result.q, result.q_df) == (pytest.approx(152.2330, abs=5e-5), 12)


def test_bcg_dl_matches_metafor(bcg: tuple[np.ndarray, np.ndarray]) -> None:
    # metafor, rma(yi, vi, data=dat.bcg, method="DL"): estimate -0.7141, se 0.1787, tau^2 0.3088
    result = random_effects_meta(*bcg, method="DL", ci="wald")
    assert result.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert result.se == pytest.approx(0.1787, abs=5e-5)
    assert result.tau2 == pytest.approx(0.3088, abs=5e-5)


@pytest.mark.parametrize("ci", ["wald", "hksj"])
@pytest.mark.parametrize("seed", [0, 1, 2, "bcg"])
def test_dl_matches_statsmodels(
    ci: str, seed: int | str, bcg: tuple[np.ndarray, np.ndarray]
) -> None:
    # statsmodels' combine_effects offers DL ("dl") and Paule-Mandel, not REML; its
    # "random effect wls" interval is HKSJ without the max(1, q) modification
    estimates, variances = bcg if seed == "bcg" else _heterogeneous(int(seed))
    reference = combine_effects(estimates, variances, method_re="dl", use_t=ci == "hksj")
    ours = random_effects_meta(estimates, variances, method="DL", ci=ci)
    assert reference.tau2 > 0  # statsmodels does not truncate at 0: compare where it is positive
    assert ours.tau2 == pytest.approx(reference.tau2, rel=1e-10)
    assert ours.estimate == pytest.approx(reference.mean_effect_re, rel=1e-10)
    interval = reference.conf_int(alpha=0.05)[3 if ci == "hksj" else 1]
    assert (ours.ci_low, ours.ci_high) == pytest.approx(tuple(interval), rel=1e-10)
    assert ours.se == pytest.approx(
        reference.sd_eff_w_re_hksj if ci == "hksj" else reference.sd_eff_w_re, rel=1e-10
    )
    assert ours.q == pytest.approx(reference.q, rel=1e-10)
    assert ours.q_pvalue == pytest.approx(reference.test_homogeneity().pvalue, rel=1e-8)
    assert ours.weights == pytest.approx(tuple(reference.weights_rel_re), rel=1e-10)


def _reml_by_search(estimates: np.ndarray, variances: np.ndarray) -> float:
    """Maximise the restricted log-likelihood over tau^2 >= 0 by a fine search, then Brent."""

    def negative_loglik(tau2: float) -> float:
        w = 1 / (variances + tau2)
        mu = np.sum(w * estimates) / np.sum(w)
        return 0.5 * (
            np.sum(np.log(variances + tau2)) + np.log(np.sum(w)) + np.sum(w * (estimates - mu) ** 2)
        )

    grid = np.linspace(0.0, 2.0, 4001)
    best = grid[int(np.argmin([negative_loglik(t) for t in grid]))]
    low, high = max(0.0, best - 0.001), best + 0.001
    found = optimize.minimize_scalar(
        negative_loglik, bounds=(low, high), method="bounded", options={"xatol": 1e-12}
    )
    return float(found.x) if negative_loglik(found.x) < negative_loglik(0.0) else 0.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_reml_maximises_the_restricted_likelihood(seed: int) -> None:
    estimates, variances = _heterogeneous(seed, k=5 + seed)
    result = random_effects_meta(estimates, variances, method="REML")
    assert result.tau2 == pytest.approx(_reml_by_search(estimates, variances), abs=1e-7)


def test_reml_falls_back_to_brent_when_scoring_does_not_settle(
    monkeypatch: pytest.MonkeyPatch, bcg: tuple[np.ndarray, np.ndarray]
) -> None:
    monkeypatch.setattr(re_module, "REML_MAX_ITER", 0)
    assert random_effects_meta(*bcg).tau2 == pytest.approx(0.3132, abs=5e-5)


@pytest.mark.parametrize("ci", ["wald", "hksj"])
def test_intervals_and_weights_by_definition(ci: str) -> None:
    estimates, variances = _heterogeneous(7)
    result = random_effects_meta(estimates, variances, method="DL", ci=ci, level=0.9)
    k = estimates.shape[0]
    w = 1 / (variances + result.tau2)
    mu = np.sum(w * estimates) / np.sum(w)
    if ci == "hksj":
        se = math.sqrt(np.sum(w * (estimates - mu) ** 2) / ((k - 1) * np.sum(w)))
        crit = stats.t.ppf(0.95, k - 1)
    else:
        se, crit = math.sqrt(1 / np.sum(w)), stats.norm.ppf(0.95)
    assert (result.estimate, result.se) == pytest.approx((mu, se), rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx((mu - crit * se, mu + crit * se))
    half = stats.t.ppf(0.95, k - 2) * math.sqrt(result.tau2 + se**2)
    assert (result.pi_low, result.pi_high) == pytest.approx((mu - half, mu + half))
    assert sum(result.weights) == pytest.approx(1.0, abs=1e-12)
    assert result.weights == pytest.approx(tuple(w / np.sum(w)), rel=1e-12)
    assert result.i2 == pytest.approx(max(0.0, (result.q - (k - 1)) / result.q))
    assert result.tau == pytest.approx(math.sqrt(result.tau2))


def test_two_sites_have_no_prediction_interval() -> None:
    result = random_effects_meta([0.2, 0.9], [0.01, 0.02], labels=["A", "B"])
    assert (result.k, result.pi_low, result.pi_high) == (2, None, None)
    assert result.labels == ("A", "B")
    assert math.isfinite(result.ci_low) and result.ci_low < result.estimate < result.ci_high


@pytest.mark.parametrize("method", ["REML", "DL", "reml", "dl"])
@pytest.mark.parametrize("estimates", [[0.4, 0.4, 0.4, 0.4], [0.40, 0.41, 0.39, 0.40]])
def test_homogeneous_sites_give_no_heterogeneity(method: str, estimates: list[float]) -> None:
    result = random_effects_meta(estimates, [0.01, 0.02, 0.015, 0.01], method=method)
    assert (result.tau2, result.tau, result.i2) == (0.0, 0.0, 0.0)
    assert result.method == method.upper()
    assert result.q < result.q_df


def test_to_dict_is_plain_json() -> None:
    result = random_effects_meta([0.2, 0.9], [0.01, 0.02])
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert as_dict["pi_low"] is None and as_dict["labels"] == ["site 1", "site 2"]
    assert set(as_dict) == {field for field in MetaAnalysis.__dataclass_fields__}


BAD_INPUTS = [
    ({"estimates": [0.5], "variances": [0.01]}, re_module.FEW_STUDIES_MSG.format(k=1)),
    ({"estimates": [], "variances": []}, re_module.FEW_STUDIES_MSG.format(k=0)),
    ({"variances": [0.01, 0.02]}, "estimates and variances have different lengths (3 and 2)"),
    ({"variances": [0.01, 0.0, 0.02]}, "variances must be finite and greater than 0"),
    ({"variances": [0.01, -0.1, 0.02]}, "variances must be finite and greater than 0"),
    ({"variances": [0.01, np.inf, 0.02]}, "variances must be finite and greater than 0"),
    ({"variances": [0.01, np.nan, 0.02]}, "variances must be finite and greater than 0"),
    ({"estimates": [0.1, np.nan, 0.3]}, "estimates must be one finite number per site"),
    ({"estimates": ["a", "b", "c"]}, "estimates must be one finite number per site"),
    ({"estimates": [[0.1, 0.2, 0.3]] * 2}, "estimates must be one finite number per site"),
    ({"method": "PM"}, "method must be one of REML, DL; got 'PM'"),
    ({"ci": "z"}, "ci must be one of hksj, wald; got 'z'"),
    ({"level": 95}, re_module.LEVEL_MSG.format(value=95)),
    ({"labels": ["A", "B"]}, re_module.LABELS_MSG.format(n_labels=2, k=3)),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUTS)
def test_bad_input_is_one_line(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"estimates": [0.1, 0.2, 0.3], "variances": [0.01, 0.02, 0.03]}
    arguments.update(change)
    with pytest.raises(DataError, match=re.escape(message)) as raised:
        random_effects_meta(**arguments)  # type: ignore[arg-type]
    assert "\n" not in str(raised.value)
