"""The model card of a survival model (``outcome.type: survival``): JSON, Markdown, HTML.

:func:`build_survival_card` picks whitelisted fields from the run context and
``survival_metrics.json`` into one JSON-ready dict; :func:`write_survival_card`
renders only that dict, per language: natural frequencies at the horizon, the
outcome with its horizon and censoring, the follow-up, discrimination and
calibration at the horizon with intervals, observed (Kaplan-Meier) against
predicted risk by risk group, the decision curve, subgroups (and fairness,
acceptance and the comparison with the registered version where the run has
them), the small-data warning and the TRIPOD+AI items that differ for a
time-to-event model. Reporting computes no statistics: every number is one the
inputs hold, and they hold no patient identifier or patient-level row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clinai._utils import atomic_write_bytes, atomic_write_text, to_jsonable
from clinai.reporting import _sanitize as s
from clinai.reporting._acceptance_view import _required, _value_text
from clinai.reporting._card import _acceptance
from clinai.reporting._format import NumberFormatter
from clinai.reporting._locales import get_language_names
from clinai.reporting._plots import _png_bytes
from clinai.reporting._render import embedded_image, translator, write_html_and_markdown
from clinai.reporting._small_data_view import small_data_view
from clinai.reporting._survival_report import (
    _PLOTS,
    _ROWS,
    follow_up_caution,
    follow_up_time,
    risk_group_cells,
    size_caution,
    time_text,
    unit_in,
)

__all__ = [
    "SURVIVAL_CARD_PLOTS",
    "SURVIVAL_CARD_SCHEMA",
    "build_survival_card",
    "write_survival_card",
]

#: The ``schema`` of model_card.json written for a survival run.
SURVIVAL_CARD_SCHEMA = "clinai.survival_card/1"
#: The card's plots: its name -> the survival report's plot function it draws.
SURVIVAL_CARD_PLOTS = {
    "calibration": "calibration_curve",
    "risk_groups": "risk_groups",
    "decision_curve": "decision_curve",
}
_UNKNOWN_LANGUAGE = (
    "The 'languages' parameter of write_survival_card must hold codes from {valid} "
    "(see clinai.reporting.get_language_names()). Got {got!r} instead."
)
_NOT_SURVIVAL = (
    "The 'metrics' parameter of build_survival_card must be survival_metrics.json "
    "(schema 'clinai.survival_metrics/1'). Got schema {got!r}."
)

_DIGITS = dict(_ROWS)
_DISCRIMINATION = ("harrell_c", "uno_c", "time_auc")
_CALIBRATION = ("oe_ratio", "calibration_slope", "ici", "e50", "e90", "emax")
_OVERALL = ("brier", "null_brier", "ipa")
#: Decision-curve thresholds shown in the card's table (the plot shows them all).
_DECISION_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5)
_USE_CASE_TEXTS = (
    "title",
    "outcome",
    "prediction_time",
    "intended_use",
    "population",
    "setting",
    "event_phrase",
    "time_unit",
)
_USE_CASE_LISTS = ("not_for", "limitations", "users")
_FOLLOW_UP = (
    "n",
    "events",
    "events_by_horizon",
    "censored_before_horizon",
    "share_censored_before_horizon",
    "median_follow_up",
    "max_follow_up",
)
_INTERVAL = ("ci_low", "ci_high")
_RISK_GROUP = ("group", "risk_low", "risk_high", "predicted", "observed", *_INTERVAL, "n", "events")
_GROUP_METRICS = ("harrell_c", "oe_ratio")
#: Acceptance metric names of the survival run that name another key of the card.
_ALIASES = {"td_auc": "time_auc", "n": "patients", "events": "events_by_horizon"}


_COHORT = ("n", "events", "events_by_horizon", "censored_before_horizon")
_LINEAGE = (
    "config_sha256",
    "data_sha256",
    "code_version",
    "git_dirty",
    "pipeline",
    "pipeline_sha256",
)


def _pick(block: Any, keys: Sequence[str], clean: Any = s.number) -> dict[str, Any]:
    """Whitelist ``keys`` of a mapping, each cleaned (``s.number`` by default)."""
    block = s.mapping(block)
    return {key: clean(block.get(key)) for key in keys}


def _span(low: Any, high: Any, fmt: NumberFormatter) -> str:
    return f"{fmt.pct(low)}–{fmt.pct(high)}"


def _texts(block: Any) -> dict[str, Any]:
    block = s.mapping(block)
    out: dict[str, Any] = {key: s.text(block.get(key)) for key in _USE_CASE_TEXTS}
    out.update({key: s.texts(block.get(key)) for key in _USE_CASE_LISTS})
    return {key: value for key, value in out.items() if value}


def _group_rows(rows: Any) -> list[dict[str, Any]]:
    """Subgroup or fairness rows: no number at all for a suppressed cell.

    ``rows`` is survival_metrics.json's ``subgroups`` list, or its ``fairness``
    mapping of tables (``{table: {"groups": [...], ...}}``).
    """
    if isinstance(rows, Mapping):
        rows = [
            {**row, "attribute": table}
            for table, block in rows.items()
            for row in s.mapping(block).get("groups") or []
            if isinstance(row, Mapping)
        ]
    out = []
    for row in rows if isinstance(rows, Sequence) else []:
        if not isinstance(row, Mapping):
            continue
        entry: dict[str, Any] = {
            "attribute": s.text(row.get("attribute")),
            "group": s.text(row.get("group")),
            "suppressed": bool(row.get("suppressed")),
        }
        if not entry["suppressed"]:
            entry.update(n=s.number(row.get("n")), events=s.number(row.get("events")))
            entry.update({key: s.estimate(row.get(key)) for key in _GROUP_METRICS})
        out.append(entry)
    return out


def _fairness_gaps(value: Any) -> list[dict[str, Any]]:
    """Per fairness table: the largest minus the smallest C and O/E, and the O/E ratio."""
    return [
        {
            "table": str(table),
            "c_difference": s.estimate(
                s.mapping(s.mapping(block).get("harrell_c")).get("difference")
            ),
            "oe_difference": s.estimate(
                s.mapping(s.mapping(block).get("oe_ratio")).get("difference")
            ),
            "oe_ratio": s.estimate(s.mapping(s.mapping(block).get("oe_ratio")).get("ratio")),
        }
        for table, block in s.mapping(value).items()
    ]


def _risk_groups(rows: Any) -> list[dict[str, Any]]:
    out = []
    for row in rows if isinstance(rows, Sequence) else []:
        row = s.mapping(row)
        entry = {key: s.number(row.get(key)) for key in _RISK_GROUP}
        entry["suppressed"] = bool(row.get("suppressed"))
        if entry["suppressed"]:  # its observed risk and size would reveal its events
            entry.update(observed=None, ci_low=None, ci_high=None, n=None, events=None)
        out.append(entry)
    return out


def _points(rows: Any, keys: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {key: s.number(s.mapping(row).get(key)) for key in keys}
        for row in (rows if isinstance(rows, Sequence) else [])
    ]


def _comparison(value: Any) -> dict[str, Any] | None:
    """Whitelist the comparison with the registered version: each metric with its difference."""
    block = s.mapping(value)
    if not block:
        return None
    rows = [
        {"metric": str(name), **_pick(item, ("model", "registered", "difference"), s.estimate)}
        for name, item in block.items()
        if isinstance(item, Mapping) and "difference" in item
    ]
    return {
        **_pick(block, ("name", "alias"), s.text),
        "version": s.scalar(block.get("version")),
        "rows": rows,
    }


def build_survival_card(context: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Assemble the survival model card as a JSON-ready dict of whitelisted fields.

    Parameters
    ----------
    context : mapping
        The run's facts: ``experiment``, ``run_id``, ``created_at``, ``use_case``
        (texts and ``translations`` per language), ``dataset``, ``model`` (family,
        candidate families, tuning, ``small_data``), ``split``, ``cohort`` (events and
        censorings before the horizon), ``lineage``, ``registry``,
        ``acceptance_verdict`` and ``languages``.
    metrics : mapping
        survival_metrics.json (schema ``clinai.survival_metrics/1``), optionally with
        ``acceptance``, ``comparison`` and ``fairness`` blocks.

    Returns
    -------
    dict
        The card (``schema`` :data:`SURVIVAL_CARD_SCHEMA`); written as model_card.json.

    Raises
    ------
    ValueError
        If ``metrics`` is not survival_metrics.json.
    """
    if s.mapping(metrics).get("schema") != "clinai.survival_metrics/1":
        raise ValueError(_NOT_SURVIVAL.format(got=s.mapping(metrics).get("schema")))
    use_case = s.mapping(context.get("use_case"))
    model = s.mapping(context.get("model"))
    tuning = s.mapping(model.get("tuning"))
    registry = s.mapping(context.get("registry"))
    values = s.mapping(metrics.get("metrics"))
    return {
        "schema": SURVIVAL_CARD_SCHEMA,
        "experiment": s.text(context.get("experiment")),
        "run_id": s.text(context.get("run_id")),
        "created_at": s.text(context.get("created_at")),
        "languages": s.texts(context.get("languages")) or ["en"],
        "use_case": {
            **_texts(use_case),
            "translations": {
                str(k): _texts(v) for k, v in s.mapping(use_case.get("translations")).items()
            },
        },
        "dataset": {
            k: s.text(s.mapping(context.get("dataset")).get(k))
            for k in ("name", "title", "package", "licence", "citation", "url")
        },
        "model": {
            **_pick(model, ("family", "selection_metric", "output"), s.text),
            "families": s.texts(model.get("families")),
            "recalibration": _pick(model.get("recalibration"), ("method", "reason"), s.text)
            | _pick(model.get("recalibration"), ("slope", "oof_slope_before", "cv_folds"))
            if model.get("recalibration")
            else None,
            **_pick(tuning, ("n_trials", "cv_folds")),
            "small_data": model.get("small_data")
            if isinstance(model.get("small_data"), Mapping)
            else None,
        },
        "split": _pick(context.get("split"), ("n_train", "n_test", "events_train", "events_test")),
        "cohort": _pick(context.get("cohort"), _COHORT),
        "lineage": _pick(context.get("lineage"), _LINEAGE, s.scalar),
        "registry": _pick(registry, ("model_name", "version", "alias"), s.scalar)
        if registry
        else None,
        "validation": {
            **_pick(metrics, ("horizon", "n", "n_patients", "n_boot", "ci_level")),
            "calibration_covariate": s.text(metrics.get("calibration_covariate")),
            "metrics": {name: s.estimate(values.get(name)) for name in _DIGITS},
            "follow_up": _pick(metrics.get("follow_up"), _FOLLOW_UP),
            "natural_frequency": _pick(
                metrics.get("natural_frequency"),
                ("observed", "predicted", "observed_risk", "predicted_risk"),
            ),
            "risk_groups": _risk_groups(metrics.get("risk_groups")),
            "calibration_curve": _points(
                metrics.get("calibration_curve"), ("predicted", "observed", "ci_low", "ci_high")
            ),
            "decision_curve": _points(
                metrics.get("decision_curve"),
                (
                    "threshold",
                    "net_benefit",
                    "ci_low",
                    "ci_high",
                    "net_benefit_treat_all",
                    "proportion_above",
                ),
            ),
            "subgroups": _group_rows(metrics.get("subgroups")),
        },
        "acceptance": _acceptance(metrics, context.get("acceptance_verdict")),
        "comparison": _comparison(metrics.get("comparison")),
        "fairness": _group_rows(metrics.get("fairness")) if metrics.get("fairness") else None,
        "fairness_gaps": _fairness_gaps(metrics.get("fairness")),
        "integrated_brier": s.estimate(metrics.get("integrated_brier")),
    }


def horizon_words(
    horizon: float | None,
    unit: str | None,
    t: Mapping[str, str],
    fmt: NumberFormatter,
    shown_unit: str | None = None,
) -> str:
    """Say the horizon as a reader would: ``1826`` days is "5 years"; other units as given.

    ``unit`` is the pipeline's English ``time_unit`` (it decides); ``shown_unit`` the
    reader's word for a unit other than days (default ``unit``): 2.5 with "years" is
    "2.5 years", never a rounded "2" or "2.50 (time unit of the data)".
    """
    if horizon is None:
        return t["na"]
    if unit and unit != "days":
        return time_text(horizon, fmt, shown_unit or unit)
    if unit == "days":
        for days_per_year in (365.25, 365.0):
            years = horizon / days_per_year
            if round(years) >= 1 and abs(years - round(years)) < 0.01:
                key = "scard_years_one" if round(years) == 1 else "scard_years"
                return t[key].format(n=round(years))
        return t["scard_days"].format(n=fmt.count(horizon))
    return t["scard_time"].format(n=fmt.num(horizon, 0 if float(horizon).is_integer() else 2))


def _recalibration(
    record: Mapping[str, Any] | None, t: Mapping[str, str], fmt: NumberFormatter
) -> str | None:
    """Say how the risks were recalibrated at training (TRIPOD+AI 12f), if the run says."""
    if not record or not record.get("method"):
        return None
    if record["method"] == "none":
        return t["scard_recalibration_none"].format(reason=record.get("reason") or t["na"])
    return t["scard_recalibration"].format(
        slope=fmt.num(record.get("slope")),
        before=fmt.num(record.get("oof_slope_before")),
        folds=fmt.count(record.get("cv_folds")),
    )


def _metric_rows(
    names: Sequence[str], values: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> list[dict[str, str]]:
    return [
        {
            "label": _label(name, t),
            "estimate": fmt.num(values.get(name), _DIGITS.get(name, 3)),
            "ci": fmt.ci(values.get(name), _DIGITS.get(name, 3)) or t["na"],
        }
        for name in names
    ]


def _label(name: str | None, t: Mapping[str, str]) -> str:
    """Return the reader's name of a survival acceptance metric (``harrell_c``: Harrell's C).

    Also the paths of the comparison (``comparison.harrell_c.difference``) and of the
    fairness tables (``fairness.sex.oe_ratio.ratio``); an unknown name is shown as is.
    """
    parts = (name or "").removeprefix("metrics.").split(".")
    key = _ALIASES.get(parts[-1], parts[-1])
    if len(parts) == 3 and parts[0] == "comparison":
        return t["scard_criterion_comparison"].format(metric=_label(parts[1], t))
    if len(parts) == 4 and parts[0] == "fairness":
        return t[f"scard_criterion_fairness_{parts[3]}"].format(
            metric=_label(parts[2], t), table=parts[1]
        )
    if len(parts) == 1 and key:
        return t.get(f"surv_{key}") or t.get(f"scard_{key}") or key
    return name or t["na"]


def _criteria(
    rows: Sequence[Mapping[str, Any]], t: Mapping[str, str], fmt: NumberFormatter
) -> list[dict[str, str]]:
    out = []
    for row in rows:
        label = _label(row.get("metric"), t)
        statistic = row.get("statistic")
        if statistic in ("ci_low", "ci_high"):
            label = t["criterion_measure"].format(
                metric=label, statistic=t[f"statistic_{statistic}"]
            )
        low, high = row.get("min"), row.get("max")
        out.append(
            {
                "criterion": row.get("criterion") or row.get("metric") or t["na"],
                "measure": label,
                "code": " ".join(p for p in (row.get("metric"), statistic) if p),
                "value": _value_text(row.get("value"), (low, high), fmt),
                "required": _required(low, high, t, fmt) or (row.get("rule") or ""),
                "status": row.get("status") or "not_applicable",
            }
        )
    return out


def _groups_view(
    rows: Sequence[Mapping[str, Any]], t: Mapping[str, str], fmt: NumberFormatter
) -> list[dict[str, str]]:
    return [
        {
            "attribute": row.get("attribute") or "",
            "group": row.get("group") or "",
            "n": t["surv_suppressed"] if row["suppressed"] else fmt.count(row.get("n")),
            "events": "" if row["suppressed"] else fmt.count(row.get("events")),
            "c": "" if row["suppressed"] else fmt.est(row.get("harrell_c"), 3),
            "oe": "" if row["suppressed"] else fmt.est(row.get("oe_ratio"), 2),
        }
        for row in rows
    ]


def _risk_group_view(row: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter) -> dict:
    """Format one risk group; a suppressed one shows neither its observed risk nor its size."""
    observed, size = risk_group_cells(row, t, fmt)
    no_interval = row["ci_low"] is None
    return {
        "group": fmt.count(row["group"]),
        "range": _span(row["risk_low"], row["risk_high"], fmt),
        "predicted": fmt.pct(row["predicted"]),
        "observed": observed,
        "ci": t["na"] if no_interval else _span(row["ci_low"], row["ci_high"], fmt),
        "n": size,
    }


def _decision_rows(points: Sequence[Mapping[str, Any]], fmt: NumberFormatter) -> list[dict]:
    rows = []
    for wanted in _DECISION_THRESHOLDS:
        near = [
            p for p in points if p["threshold"] is not None and abs(p["threshold"] - wanted) < 0.006
        ]
        if near:
            p = near[0]
            rows.append(
                {
                    "threshold": fmt.pct(p["threshold"], 0),
                    "model": fmt.est(
                        {
                            "estimate": p["net_benefit"],
                            "ci_low": p["ci_low"],
                            "ci_high": p["ci_high"],
                        },
                        3,
                    ),
                    "all": fmt.num(p["net_benefit_treat_all"], 3),
                }
            )
    return rows


def _tripod(
    card: Mapping[str, Any],
    uc: Mapping[str, Any],
    horizon: str,
    t: Mapping[str, str],
    fmt: NumberFormatter,
) -> list[dict[str, str]]:
    """Answer the TRIPOD+AI 2024 items that differ for a time-to-event model from the card."""
    v, cohort, split, model = card["validation"], card["cohort"], card["split"], card["model"]
    follow = v["follow_up"]
    unit = uc.get("time_unit") or None
    answers: dict[str, dict[str, Any]] = {
        "8a": {"outcome": uc.get("outcome") or "", "horizon": horizon},
        "10": {
            "n": fmt.count(cohort["n"]),
            "events": fmt.count(cohort["events_by_horizon"]),
            "censored": fmt.count(cohort["censored_before_horizon"]),
        },
        "12c": {
            "family": model["family"] or t["na"],
            "families": ", ".join(model["families"]) or t["na"],
            "folds": fmt.count(model["cv_folds"]),
            "trials": fmt.count(model["n_trials"]),
        },
        "12e": {"n_boot": fmt.count(v["n_boot"])},
        "12f": {"recalibration": _recalibration(model["recalibration"], t, fmt)},
        "12g": {},
        "15": {"horizon": horizon},
        "20a": {
            "events": fmt.count(follow["events_by_horizon"]),
            "censored": fmt.count(follow["censored_before_horizon"]),
            "n": fmt.count(follow["n"]),
            "median": follow_up_time(follow["median_follow_up"], unit, t, fmt),
            "longest": follow_up_time(follow["max_follow_up"], unit, t, fmt),
        },
        "21": {k: fmt.count(split[k]) for k in split},
        "23a": {},
    }
    return [
        {
            "item": item,
            "topic": t[f"scard_tripod_topic_{item}"],
            "text": t[f"scard_tripod_{item}"].format(**fields),
        }
        for item, fields in answers.items()
        if item != "12f" or fields["recalibration"]
    ]


def _view(card: Mapping[str, Any], language: str) -> dict[str, Any]:
    """Format every number and text of the card in one language (nothing computed)."""
    t, fmt = translator(language)
    base = card["use_case"]
    uc = {**base, **card["use_case"]["translations"].get(language, {})}
    # a unit given in English only is said in the card's language ("months": "måneder")
    uc["time_unit"] = card["use_case"]["translations"].get(language, {}).get(
        "time_unit"
    ) or unit_in(base.get("time_unit"), language)
    v = card["validation"]
    # the English unit decides (1826 days is 5 years); the reader sees the translated one
    unit = uc.get("time_unit") or None
    horizon = horizon_words(v["horizon"], base.get("time_unit"), t, fmt, unit)
    # the horizon in the data's unit (1,826 days), not rounded (2.5 years stays 2.5)
    exact = time_text(v["horizon"], fmt, unit) if v["horizon"] is not None else t["na"]
    label = horizon if exact == horizon else f"{horizon} ({exact})"
    nf = v["natural_frequency"]
    follow, cohort = v["follow_up"], card["cohort"]
    values = v["metrics"]
    return {
        "uc": uc,
        "english_only": language != "en" and language not in card["use_case"]["translations"],
        "horizon": horizon,
        "horizon_exact": exact,
        # "5 years (1,826 days)"; "2.5 years" once where the two are the same
        "horizon_label": label,
        "headline": t["scard_natural_frequency"].format(
            observed=nf["observed"],
            predicted=nf["predicted"],
            horizon=horizon,
            event=uc.get("event_phrase") or t["scard_event_default"],
        ),
        "caution": follow_up_caution(follow, t, fmt),
        "size_caution": size_caution(follow, t, fmt),
        "facts": [
            t["scard_facts_discrimination"].format(
                c=fmt.est(values["harrell_c"], 3),
                horizon=horizon,
                auc=fmt.est(values["time_auc"], 3),
            ),
            t["scard_facts_calibration"].format(
                horizon=horizon,
                oe=fmt.est(values["oe_ratio"]),
                slope=fmt.est(values["calibration_slope"]),
            ),
        ],
        "follow_up": [
            (t["surv_patients"], fmt.count(cohort["n"]), fmt.count(follow["n"])),
            (t["scard_all_events"], fmt.count(cohort["events"]), fmt.count(follow["events"])),
            (
                t["surv_events_by_horizon"],
                fmt.count(cohort["events_by_horizon"]),
                fmt.count(follow["events_by_horizon"]),
            ),
            (
                t["surv_censored_before_horizon"],
                fmt.count(cohort["censored_before_horizon"]),
                f"{fmt.count(follow['censored_before_horizon'])} "
                f"({fmt.pct(follow['share_censored_before_horizon'])})",
            ),
            (
                t["surv_median_follow_up"],
                "",
                follow_up_time(follow["median_follow_up"], unit, t, fmt),
            ),
            (t["surv_max_follow_up"], "", follow_up_time(follow["max_follow_up"], unit, t, fmt)),
        ],
        "discrimination": _metric_rows(_DISCRIMINATION, values, t, fmt),
        "calibration": _metric_rows(_CALIBRATION, values, t, fmt),
        "overall": _metric_rows(
            (*_OVERALL, "integrated_brier") if card["integrated_brier"] else _OVERALL,
            {**values, "integrated_brier": card["integrated_brier"]},
            t,
            fmt,
        ),
        "fairness_gaps": [
            t["scard_fairness_gap"].format(
                table=gap["table"],
                c=fmt.est(gap["c_difference"], 3),
                oe=fmt.est(gap["oe_difference"]),
                ratio=fmt.est(gap["oe_ratio"]),
            )
            if gap["c_difference"] or gap["oe_difference"]
            # fewer than two groups shown: no gap to give ("differs by n/a" read as a number)
            else t["scard_fairness_gap_none"].format(table=gap["table"])
            for gap in card["fairness_gaps"]
        ],
        "recalibration": _recalibration(card["model"]["recalibration"], t, fmt),
        "risk_groups": [_risk_group_view(row, t, fmt) for row in v["risk_groups"]],
        "decision": _decision_rows(v["decision_curve"], fmt),
        "subgroups": _groups_view(v["subgroups"], t, fmt),
        "fairness": _groups_view(card["fairness"], t, fmt) if card["fairness"] else [],
        "comparison": card["comparison"]
        and {
            **card["comparison"],
            "rows": [
                {
                    "label": _label(r["metric"], t),
                    "model": fmt.est(r["model"], 3) if r["model"] else "",
                    "registered": fmt.est(r["registered"], 3) if r["registered"] else "",
                    "difference": fmt.est(r["difference"], 3),
                }
                for r in card["comparison"]["rows"]
            ],
        },
        "criteria": _criteria(card["acceptance"]["criteria"], t, fmt),
        "small_data": small_data_view(card["model"], survival=True),
        "tripod": _tripod(card, uc, label, t, fmt),
        "report": t["scard_see_report"].format(suffix="" if language == "en" else f".{language}"),
    }


def _plots(card: Mapping[str, Any], folder: Path, language: str) -> dict[str, Path]:
    """Draw the card's plots with the survival report's plot functions (localised labels)."""
    t, _ = translator(language)
    suffix = "" if language == "en" else f".{language}"
    prefix = card["experiment"] or "model"
    written = {}
    for name, source in SURVIVAL_CARD_PLOTS.items():
        figure = _PLOTS[source](card["validation"], t)
        if figure is not None:
            path = folder / "plots" / f"{prefix}.{name}{suffix}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            written[name] = atomic_write_bytes(path, _png_bytes(figure))
    return written


def write_survival_card(
    card: Mapping[str, Any], out_dir: str | Path, *, languages: Sequence[str] = ("en", "da")
) -> dict[str, Path]:
    """Write the card as model_card.json and, per language, Markdown, HTML and its plots.

    English is ``model_card.md``/``.html``; another language adds e.g.
    ``model_card.da.md``. Plots go to ``out_dir/plots/<experiment>.<name>[.<lang>].png``
    (:data:`SURVIVAL_CARD_PLOTS`): the Markdown links them, the HTML embeds them.
    PDFs are printed by the caller from the HTML files.

    Parameters
    ----------
    card : mapping
        :func:`build_survival_card`'s dict.
    out_dir : path-like
        The folder (the run directory); created if needed.
    languages : sequence of str, default ("en", "da")
        Codes from :func:`~clinai.reporting.get_language_names`; English is always written.

    Returns
    -------
    dict of str to Path
        Every file written, by its path relative to ``out_dir``.

    Raises
    ------
    ValueError
        If a language has no strings file.
    """
    valid = get_language_names()
    unknown = [code for code in languages if code not in valid]
    if unknown:
        raise ValueError(_UNKNOWN_LANGUAGE.format(valid=valid, got=unknown))
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "model_card.json": atomic_write_text(
            folder / "model_card.json", json.dumps(to_jsonable(card), indent=2) + "\n"
        )
    }
    for language in ["en", *(code for code in languages if code != "en")]:
        t, fmt = translator(language)
        plots = _plots(card, folder, language)
        images = {
            name: embedded_image(path, folder, t[f"surv_plot_{SURVIVAL_CARD_PLOTS[name]}"])
            for name, path in plots.items()
        }
        variables = {
            "card": card,
            "r": _view(card, language),
            "t": t,
            "fmt": fmt,
            "lang": language,
            "images": images,
        }
        suffix = "" if language == "en" else f".{language}"
        html, markdown = write_html_and_markdown(
            folder, f"model_card{suffix}", "survival_card", variables
        )
        files.update({markdown.name: markdown, html.name: html})
        files.update({path.relative_to(folder).as_posix(): path for path in plots.values()})
    return files
