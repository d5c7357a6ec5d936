"""The ``economics`` block of metrics.json: what acting on the model would cost and save.

Called by the evaluate stage and by ``clinai validate --config PLAN`` when the config
(or plan) has an ``economics:`` section; without one nothing here runs and no economic
number is written anywhere (clinai never invents costs). On the validation rows (the
test split of a run) it computes, with :mod:`clinai.evaluation.economics`:

- the model threshold with the highest expected net monetary benefit (NMB), searched
  over the decision-curve grid and the evaluation thresholds (a PSA without comparators);
- the alert burden, the NMB per 1,000 patients at the point values (each parameter's
  mean) and the probabilistic sensitivity analysis (PSA), at the evaluation thresholds
  and that best one, against treat-none, treat-all and the comparator score at its own
  alert cut-offs (e.g. NEWS2 >= 5 and >= 7).

The block also records the assumptions (each parameter's distribution and mean, the
currency, minutes per alert), so the documents can print them beside every number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from clinai import evaluation
from clinai.exceptions import ConfigError

# The five economic parameters of the ``economics:`` section, in the order the documents
# print them: one list for the stage that reads the section and the view that shows it.
from clinai.reporting._economics_view import ECONOMIC_PARAMETERS

__all__ = [
    "ECONOMIC_PARAMETERS",
    "EconomicsComparator",
    "check_validate_economics",
    "economics_block",
    "run_economics",
    "validate_economics",
]

#: Monte Carlo draws of the PSA when the section does not say.
DEFAULT_DRAWS = 10_000

ECONOMICS_EDITED_MSG = (
    "the economics: section of the config was edited after the train stage fixed it with the "
    "acceptance plan (sha256 differs): restore it, or run the train stage again"
)
NO_BASELINE_MSG = (
    "economics.comparator is {name!r}, but the use case has no baseline score in its data: "
    "remove economics.comparator or add the score (the pipeline's baseline())"
)
NO_BASELINE_COLUMN_MSG = (
    "the plan's economics.comparator is {name!r}: give its column with --baseline COLUMN, or "
    "remove economics.comparator to compare with treat-none and treat-all only"
)
OTHER_BASELINE_MSG = (
    "economics.comparator is {name!r}, but the use case's baseline score is {baseline!r}: "
    "set economics.comparator: {baseline} (the only score in use today the run can compare)"
)

#: A comparator score: its name, its values on the validation rows and its alert cut-offs
#: (None: every distinct value is a cut-off).
EconomicsComparator = tuple[str, np.ndarray, Sequence[float] | None]


def _section(spec: Any) -> dict[str, Any]:
    """Return the ``economics:`` section as a plain dict (a pydantic model is dumped)."""
    dump = getattr(spec, "model_dump", None)
    return dict(dump(mode="json") if dump is not None else spec)


def _grid(search: tuple[float, float, float], thresholds: Sequence[float]) -> np.ndarray:
    low, high, step = search
    grid = np.round(np.arange(low, high + step / 2, step), 6)
    return np.unique(np.concatenate([grid, np.asarray(thresholds, dtype=float)]))


def economics_block(
    spec: Any,
    y: Any,
    y_prob: Any,
    *,
    thresholds: Sequence[float],
    search: tuple[float, float, float],
    comparator: EconomicsComparator | None = None,
    admissions: int | None = None,
    admissions_basis: str = "rows",
    ward_days: float | None = None,
    seed: int = 0,
    basis: str = "test",
    patient_ids: Any = None,
) -> dict[str, Any]:
    """Compute the ``economics`` block of metrics.json.

    Parameters
    ----------
    spec : EconomicsConfig or mapping
        The config's ``economics:`` section: the five parameters (each a number,
        ``{"value": x}`` or ``{"distribution": ..., <its parameters>}``),
        ``minutes_per_alert``, ``currency`` and optionally ``n_draws``.
    y, y_prob : array-like
        Outcomes (0/1) and predicted risks of the validation rows.
    thresholds : sequence of float
        The evaluation's risk thresholds (reported as strategies).
    search : (low, high, step)
        Grid on which the threshold with the highest expected NMB is searched (the
        decision-curve range).
    comparator : (name, scores, cut-offs), optional
        The score in use today on the same rows; ``cut-offs`` None judges it at each of
        its values.
    admissions : int, optional
        Admissions behind the rows (default: the rows); ``admissions_basis`` says what was
        counted (``"rows"`` or ``"patients"``).
    ward_days : float, optional
        Ward-days the rows cover (gives the rates per ward-day).
    seed : int
        Seed of the PSA draws.
    basis : str
        What the rows are: ``"test"`` (the test split), ``"development"`` (no test split)
        or ``"predictions"`` (``clinai validate``).
    patient_ids : array-like, optional
        Patient of each row: the net monetary benefit and the PSA then count patients
        (an event if any of a patient's rows is one, acted on once if any of its rows
        reaches the threshold), not rows; hourly prediction times would otherwise count
        one event once an hour. The alert burden still counts every alert.

    Returns
    -------
    dict
        ``currency``, ``basis``, ``assumptions``, ``minutes_per_alert``,
        ``admissions_basis``, ``comparator``, ``best_threshold``, ``alert_burden``,
        ``net_monetary_benefit``, ``sensitivity``.
    """
    section = _section(spec)
    currency = str(section.get("currency") or "DKK")
    n_draws = int(section.get("n_draws") or DEFAULT_DRAWS)
    minutes = section.get("minutes_per_alert")
    distributions = {
        name: evaluation.parameter_distribution(section[name], name=f"economics.{name}")
        for name in ECONOMIC_PARAMETERS
    }
    # The point values are the means: the NMB at them equals the PSA's expected NMB.
    point = evaluation.EconomicParameters(
        **{name: dist.expected_value for name, dist in distributions.items()}, currency=currency
    )
    search_psa = evaluation.probabilistic_sensitivity(
        y,
        y_prob,
        _grid(search, thresholds),
        distributions,
        n_draws=n_draws,
        random_state=seed,
        currency=currency,
        patient_ids=patient_ids,
    )
    best = search_psa.strategy(f"model >= {search_psa.best_model_threshold:g}")
    reported = sorted({*map(float, thresholds), search_psa.best_model_threshold})
    comparators: dict[str, Any] = {}
    if comparator is not None:
        name, scores, cuts = comparator
        comparators[name] = scores if cuts is None else (scores, list(cuts))
    nmb = evaluation.net_monetary_benefit(
        y, y_prob, reported, point, comparators=comparators, patient_ids=patient_ids
    )
    psa = evaluation.probabilistic_sensitivity(
        y,
        y_prob,
        reported,
        distributions,
        n_draws=n_draws,
        random_state=seed,
        comparators=comparators,
        currency=currency,
        patient_ids=patient_ids,
    )
    burden = evaluation.alert_burden(
        y,
        y_prob,
        reported,
        minutes_per_alert=minutes,
        ward_days=ward_days,
        admissions=admissions,
    )
    return {
        "currency": currency,
        "basis": basis,
        "assumptions": {name: dist.to_dict() for name, dist in distributions.items()},
        "minutes_per_alert": minutes,
        "hours_per_row": section.get("hours_per_row"),
        "admissions_basis": admissions_basis if admissions is not None else "rows",
        "comparator": None
        if comparator is None
        else {
            "name": comparator[0],
            "thresholds": None if comparator[2] is None else [float(c) for c in comparator[2]],
        },
        "best_threshold": {
            "threshold": search_psa.best_model_threshold,
            "expected_nmb": best.nmb.to_dict(),
            "expected_incremental_nmb": best.incremental_nmb.to_dict(),
            "grid": [float(v) for v in search],
        },
        "alert_burden": burden.to_dict(),
        "net_monetary_benefit": nmb.to_dict(),
        "sensitivity": psa.to_dict(),
    }


def economics_sha256(config: Any) -> str | None:
    """Return the SHA-256 of the config's ``economics:`` section (canonical JSON), or None."""
    from clinai.runs._plan import plan_sha256

    spec = getattr(config, "economics", None)
    return None if spec is None else plan_sha256(spec.model_dump(mode="json"))


def check_economics_fixed(config: Any, acceptance_plan: Mapping[str, Any]) -> None:
    """Refuse an ``economics:`` section added, removed or edited since the train stage.

    The train stage fixes the section's hash in ``acceptance_plan.json`` beside the
    criteria (``economics_sha256``, None without a section); a run trained before that
    key existed is not checked.

    Raises
    ------
    ConfigError
        If the config's section does not hash to the fixed one.
    """
    fixed = acceptance_plan.get("economics_sha256", economics_sha256(config))
    if economics_sha256(config) != fixed:
        raise ConfigError(ECONOMICS_EDITED_MSG)


def run_economics(
    config: Any,
    manifest: Mapping[str, Any],
    y: np.ndarray,
    y_prob: np.ndarray,
    baseline: np.ndarray | None,
    patients: Any,
    *,
    basis: str,
) -> dict[str, Any] | None:
    """Return the evaluate stage's ``economics`` block, or None without an ``economics:``.

    The comparator named by ``economics.comparator`` must be the use case's baseline
    score (the pipeline's ``baseline()``, e.g. NEWS2), judged at its alert cut-offs
    (``economics.comparator_thresholds``, else ``METADATA["baseline"]["thresholds"]``);
    the model at ``economics.thresholds``, else the evaluation's. With ``data.patient_id``
    and several rows per patient the admissions are counted as distinct patients (rows may
    be hourly prediction times); otherwise each row is one admission.

    Raises
    ------
    ConfigError
        If ``economics.comparator`` names a score the run does not have.
    """
    spec = getattr(config, "economics", None)
    if spec is None:
        return None
    from clinai.runs._comparisons import baseline_spec

    name = _section(spec).get("comparator")
    comparator: EconomicsComparator | None = None
    if name:
        known = baseline_spec(dict(manifest))
        if baseline is None:
            raise ConfigError(NO_BASELINE_MSG.format(name=name))
        if str(name) != known["name"]:
            raise ConfigError(OTHER_BASELINE_MSG.format(name=name, baseline=known["name"]))
        cuts = spec.comparator_thresholds or known["thresholds"] or None
        comparator = (known["name"], baseline, cuts)
    options = _admission_options(patients if config.data.patient_id is not None else None, len(y))
    return _planned_block(
        spec, y, y_prob, config.evaluation, comparator, config.seed, basis, options
    )


def _admission_options(patients: Any, n_rows: int) -> dict[str, Any]:
    """Count the admissions as distinct patients when rows repeat a patient (hourly times)."""
    options: dict[str, Any] = {"admissions": None, "admissions_basis": "patients"}
    if patients is not None:
        admissions = len(np.unique(np.asarray(patients)))
        if admissions < n_rows:
            options.update(admissions=admissions, patient_ids=np.asarray(patients))
    return options


def _planned_block(
    spec: Any,
    y: np.ndarray,
    y_prob: np.ndarray,
    plan: Any,
    comparator: EconomicsComparator | None,
    seed: int,
    basis: str,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """Compute the block at ``economics.thresholds`` (else the plan's) over its decision curve."""
    thresholds = spec.thresholds or plan.thresholds
    search = tuple(plan.decision_curve)
    if spec.hours_per_row is not None:  # hourly prediction times: 24 rows per ward-day
        options = {**options, "ward_days": len(y) * spec.hours_per_row / 24.0}
    return economics_block(
        spec,
        y,
        y_prob,
        thresholds=thresholds,
        search=search,
        comparator=comparator,
        seed=seed,
        basis=basis,
        **options,
    )


def check_validate_economics(spec: Any, baseline: str | None) -> None:
    """Refuse, before anything is read, a plan whose comparator has no ``--baseline`` column.

    Raises
    ------
    ConfigError
        If ``economics.comparator`` is set and ``baseline`` is None.
    """
    if spec is not None and spec.comparator and baseline is None:
        raise ConfigError(NO_BASELINE_COLUMN_MSG.format(name=spec.comparator))


def validate_economics(
    spec: Any,
    y: np.ndarray,
    y_prob: np.ndarray,
    *,
    plan: Any,
    baseline: tuple[str, np.ndarray] | None,
    seed: int,
    patients: Any = None,
) -> dict[str, Any] | None:
    """Return ``clinai validate``'s ``economics`` block, or None without an ``economics:``.

    The comparator is the ``--baseline`` column (named ``economics.comparator`` when set),
    judged at ``economics.comparator_thresholds`` or else at each of its values; the model
    at ``economics.thresholds`` or else the plan's thresholds. With ``--patient``
    (``patients``) and several rows per patient the admissions are the distinct patients,
    as in the evaluate stage; otherwise each row counts as one admission.
    """
    if spec is None:
        return None
    comparator: EconomicsComparator | None = None
    if baseline is not None:
        column, scores = baseline
        comparator = (spec.comparator or column, scores, spec.comparator_thresholds)
    options = _admission_options(patients, len(y)) if patients is not None else {}
    return _planned_block(spec, y, y_prob, plan, comparator, seed, "predictions", options)
