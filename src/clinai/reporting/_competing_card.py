"""The card of a competing-risk run, and the report of ``clinai validate --competing-code``.

Both are Markdown per language (EN, DA) written from survival_metrics.json of a
competing-risk validation; nothing is computed here. The run's card starts with the
use case's texts; the validation report with the predictions file's name. Both then
show the same blocks: natural frequencies by the horizon (Aalen-Johansen), the
metrics, and, where the document has them, the acceptance criteria with their
verdict, the comparison with the registered version and the fairness tables (a
suppressed group shows no number).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinai.reporting._acceptance_view import compared_name
from clinai.reporting._format import NumberFormatter

__all__ = ["competing_body", "competing_card", "competing_report"]

#: The reader's name of each metric (a criterion's ``metric`` or a comparison's key): EN, DA.
LABELS = {
    "wolbers_c": ("Wolbers' C", "Wolbers' C"),
    "time_auc": ("time-dependent AUC", "tidsafhængig AUC"),
    "td_auc": ("time-dependent AUC", "tidsafhængig AUC"),
    "oe_ratio": (
        "observed/expected risk (Aalen-Johansen)",
        "observeret/forventet risiko (Aalen-Johansen)",
    ),
    "calibration_slope": ("calibration slope (Fine-Gray)", "kalibreringshældning (Fine-Gray)"),
    "brier": ("Brier score", "Brier-score"),
    "null_brier": ("Brier score of the null model", "Brier-score for nulmodellen"),
    "scaled_brier": ("scaled Brier score (IPA)", "skaleret Brier-score (IPA)"),
    "ipa": ("scaled Brier score (IPA)", "skaleret Brier-score (IPA)"),
    "observed_risk": ("observed risk", "observeret risiko"),
    "expected_risk": ("mean predicted risk", "gennemsnitlig forudsagt risiko"),
    "n": ("patients", "patienter"),
    "events": ("events by the horizon", "hændelser inden for horisonten"),
}
#: The card's and the report's words: EN, DA.
WORDS = {
    "frequency": (
        "Of 100 patients like these, about **{observed}** had the event within {horizon:g} "
        "days (Aalen-Johansen cumulative incidence: censoring and the competing event "
        "accounted for); the model expected about **{predicted}**.",
        "Af 100 patienter som disse fik omkring **{observed}** hændelsen inden for "
        "{horizon:g} dage (Aalen-Johansen kumuleret incidens: censurering og den "
        "konkurrerende hændelse taget i betragtning); modellen forventede omkring "
        "**{predicted}**.",
    ),
    "metrics": (
        "## How well it ranks and how well it is calibrated (n = {n})",
        "## Hvor godt den rangordner, og hvor godt den er kalibreret (n = {n})",
    ),
    "follow_up": (
        "By {horizon:g} days there were {events} events, {competing} competing events and "
        "{censored} patients censored.",
        "Inden for {horizon:g} dage var der {events} hændelser, {competing} konkurrerende "
        "hændelser og {censored} censurerede patienter.",
    ),
    "acceptance": (
        "## Acceptance criteria (fixed before the test data were evaluated)",
        "## Acceptkriterier (fastlagt før testdata blev evalueret)",
    ),
    "verdict": ("Verdict: **{verdict}**.", "Konklusion: **{verdict}**."),
    "criteria_head": (
        "| criterion | measure | value | required | result |",
        "| kriterium | mål | værdi | krav | resultat |",
    ),
    "comparison": ("## Compared with {name}", "## Sammenlignet med {name}"),
    "registered_name": (
        "registered version {version} ({alias})",
        "den registrerede version {version} ({alias})",
    ),
    "comparison_head": (
        "| measure | this model | registered | difference (this - registered) |",
        "| mål | denne model | registreret | forskel (denne - registreret) |",
    ),
    "comparison_note": (
        "Paired bootstrap: both models scored on the same resampled patients.",
        "Parret bootstrap: begge modeller på de samme gentrukne patienter.",
    ),
    "fairness": ("## Fairness: {table}", "## Retfærdighed: {table}"),
    "fairness_head": (
        "| group | patients | events | Wolbers' C | observed/expected |",
        "| gruppe | patienter | hændelser | Wolbers' C | observeret/forventet |",
    ),
    "suppressed": ("suppressed (fewer than {min_cell})", "skjult (færre end {min_cell})"),
    "gaps": (
        "Largest minus smallest: Wolbers' C {c}, observed/expected {oe} "
        "(smallest/largest observed/expected {ratio}).",
        "Største minus mindste: Wolbers' C {c}, observeret/forventet {oe} "
        "(mindste/største observeret/forventet {ratio}).",
    ),
    "ci_low": ("lower CI bound of {m}", "nedre CI-grænse for {m}"),
    "ci_high": ("upper CI bound of {m}", "øvre CI-grænse for {m}"),
    "pass": ("pass", "opfyldt"),
    "fail": ("fail", "ikke opfyldt"),
    "not_applicable": ("not applicable", "ikke relevant"),
    "accepted": ("accepted", "godkendt"),
    "not accepted": ("not accepted", "ikke godkendt"),
    "no criteria": ("no criteria", "ingen kriterier"),
    "between": ("{min} to {max}", "{min} til {max}"),
    "report_title": (
        "# Validation of {score} by {horizon:g} (competing risks)",
        "# Validering af {score} inden for {horizon:g} (konkurrerende risici)",
    ),
    "report_source": (
        "Predictions: {source}; created {created}.",
        "Forudsigelser: {source}; dannet {created}.",
    ),
}
LANGUAGES = ("en", "da")


def _in(table: Mapping[str, tuple[str, str]], language: str) -> dict[str, str]:
    """One language's column of a table of (EN, DA) texts."""
    column = LANGUAGES.index(language)
    return {key: texts[column] for key, texts in table.items()}


#: The metrics listed under the headline, in order.
SHOWN = ("wolbers_c", "time_auc", "oe_ratio", "scaled_brier")


def _label(metric: str, language: str) -> str:
    """Name a metric, a comparison path or a fairness path for a reader."""
    labels = _in(LABELS, language)
    parts = metric.removeprefix("metrics.").split(".")
    if parts[0] in ("comparison", "fairness") and len(parts) >= 3:
        return f"{parts[0]} {parts[1]}: {labels.get(parts[-2], parts[-2])} {parts[-1]}"
    return labels.get(parts[0], metric)


def _required(row: Mapping[str, Any], words: Mapping[str, str], fmt: NumberFormatter) -> str:
    low, high = row.get("min"), row.get("max")
    if low is not None and high is not None:
        return words["between"].format(min=fmt.num(low), max=fmt.num(high))
    if low is not None:
        return f"≥ {fmt.num(low)}"
    return f"≤ {fmt.num(high)}" if high is not None else ""


def _acceptance(metrics: Mapping[str, Any], language: str, fmt: NumberFormatter) -> list[str]:
    rows = metrics.get("acceptance")
    if not rows:
        return []
    words = _in(WORDS, language)
    verdict = metrics.get("acceptance_verdict") or "no criteria"
    lines = [words["acceptance"], "", words["verdict"].format(verdict=words[verdict])]
    lines += ["", words["criteria_head"], "|---|---|---|---|---|"]
    for row in rows:
        measure = _label(str(row.get("metric")), language)
        if row.get("statistic") in ("ci_low", "ci_high"):
            measure = words[row["statistic"]].format(m=measure)
        status = words[row.get("status") or "not_applicable"]
        value = fmt.num(row.get("value"), 3)
        required = _required(row, words, fmt)
        lines.append(f"| {row.get('criterion')} | {measure} | {value} | {required} | {status} |")
    return lines


def _comparison(metrics: Mapping[str, Any], language: str, fmt: NumberFormatter) -> list[str]:
    block = metrics.get("comparison")
    if not block:
        return []
    words = _in(WORDS, language)
    name = compared_name(block, words["registered_name"])
    lines = [words["comparison"].format(name=name), "", words["comparison_head"]]
    lines.append("|---|---|---|---|")
    for name, item in block.items():
        if isinstance(item, Mapping) and "difference" in item:
            cells = (fmt.est(item[part], 3) for part in ("model", "registered", "difference"))
            lines.append(f"| {_label(name, language)} | {' | '.join(cells)} |")
    return [*lines, "", words["comparison_note"]]


def _fairness(metrics: Mapping[str, Any], language: str, fmt: NumberFormatter) -> list[str]:
    words = _in(WORDS, language)
    lines: list[str] = []
    for table, block in (metrics.get("fairness") or {}).items():
        lines += [
            words["fairness"].format(table=table),
            "",
            words["fairness_head"],
            "|---|---|---|---|---|",
        ]
        for group in block.get("groups", []):
            if group.get("suppressed"):
                hidden = words["suppressed"].format(min_cell=block.get("min_cell"))
                lines.append(f"| {group['group']} | {hidden} | | | |")
                continue
            lines.append(
                f"| {group['group']} | {fmt.count(group['n'])} | {fmt.count(group['events'])} "
                f"| {fmt.est(group['wolbers_c'], 3)} | {fmt.est(group['oe_ratio'], 2)} |"
            )
        if "difference" in block.get("wolbers_c", {}):
            lines += [
                "",
                words["gaps"].format(
                    c=fmt.est(block["wolbers_c"]["difference"], 3),
                    oe=fmt.est(block["oe_ratio"]["difference"], 2),
                    ratio=fmt.est(block["oe_ratio"]["ratio"], 2),
                ),
            ]
        lines.append("")
    return lines


def competing_body(metrics: Mapping[str, Any], language: str) -> str:
    """Return the card's and the report's common blocks, from natural frequencies on."""
    words, fmt = _in(WORDS, language), NumberFormatter(language)
    frequency = metrics["natural_frequency"]
    follow_up = metrics["competing"]["follow_up"]
    values = {**metrics["metrics"], "calibration_slope": metrics["competing"]["calibration_slope"]}
    lines = [
        words["frequency"].format(
            observed=frequency["observed"],
            predicted=frequency["predicted"],
            horizon=metrics["horizon"],
        ),
        "",
        words["metrics"].format(n=metrics["n"]),
        "",
        *(
            f"- {_in(LABELS, language)[name]}: {fmt.est(values[name], 2)}"
            for name in (*SHOWN, "calibration_slope")
        ),
        "",
        words["follow_up"].format(
            horizon=metrics["horizon"],
            events=follow_up["events_by_horizon"],
            competing=follow_up["competing_by_horizon"],
            censored=follow_up["censored_before_horizon"],
        ),
        "",
    ]
    for block in (_acceptance, _comparison, _fairness):
        part = block(metrics, language, fmt)
        lines += [*part, ""] if part else []
    return "\n".join(lines).rstrip() + "\n"


# The model card's opening, per language (the use case's texts).
CARD = {
    "en": (
        "# {title}\n\n{outcome}\n\n**Intended use:** {intended_use}\n\n"
        "## What the model says\n\n"
        "The model predicts each patient's risk of the event within {horizon:g} days, with "
        "{competing_event} as a competing event: a patient who has it first can no longer "
        "have the event. Test split; selected model: {selected}.\n\n"
    ),
    "da": (
        "# {title}\n\n{outcome}\n\n**Tilsigtet brug:** {intended_use}\n\n"
        "## Hvad modellen siger\n\n"
        "Modellen forudsiger hver patients risiko for hændelsen inden for {horizon:g} dage, "
        "med {competing_event} som konkurrerende hændelse: en patient, der får den først, "
        "kan ikke længere få hændelsen. Testdelen; valgt model: {selected}.\n\n"
    ),
}


def competing_card(
    metrics: Mapping[str, Any], texts: Mapping[str, str], language: str, *, selected: str
) -> str:
    """Return a competing-risk run's model card in one language (Markdown).

    ``texts``: the use case's ``title``, ``outcome``, ``intended_use`` and
    ``competing_event`` (the event that competes, in the card's language).
    """
    opening = CARD[language].format(
        **{key: texts[key] for key in ("title", "outcome", "intended_use", "competing_event")},
        horizon=metrics["horizon"],
        selected=selected,
    )
    return opening + competing_body(metrics, language)


def competing_report(
    metrics: Mapping[str, Any], language: str, *, source: str, created: str
) -> str:
    """Return ``clinai validate``'s competing-risk report in one language (Markdown)."""
    words = _in(WORDS, language)
    title = words["report_title"].format(score=metrics["score"], horizon=metrics["horizon"])
    lines = [title, "", words["report_source"].format(source=source, created=created), ""]
    return "\n".join(lines) + "\n" + competing_body(metrics, language)
