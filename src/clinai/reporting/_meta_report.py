"""The meta-analysis report: HTML, PDF and Markdown in each language, from meta_analysis.json.

``clinai meta-analyse`` writes ``meta_analysis.json`` and calls
:func:`render_meta_report`, which writes what an approval board reads: the model
and the sites, the pooled performance with confidence and prediction intervals, a
forest plot and a table per metric, the calibration at each site, and a section
answering TRIPOD+AI 12d (how heterogeneity across clusters was handled) and 23b
(heterogeneity of performance across clusters: tau², I², prediction interval).
The HTML is self-contained (CSS inline, plots as data URIs) like the other reports;
the PDF is printed from it. Reporting computes no statistics: every number is one
meta_analysis.json holds, and it holds no patient-level data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from clinai._utils import atomic_write_bytes
from clinai.reporting._format import NumberFormatter
from clinai.reporting._locales import get_strings
from clinai.reporting._pdf import write_pdf
from clinai.reporting._plots import _GREY, _MODEL_COLOUR, _OTHER_COLOUR, _new_figure, _png_bytes
from clinai.reporting._render import embedded_image, translator, write_html_and_markdown

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["META_SCHEMA", "MetaReport", "render_meta_report"]

logger = logging.getLogger(__name__)

#: The ``schema`` of the meta_analysis.json this renderer reads.
META_SCHEMA = "clinai.meta_analysis/1"
_NOT_META = (
    "The 'document' parameter of render_meta_report must be the meta_analysis.json dict "
    "(schema {schema!r}, with metrics and sites). Got {got}."
)
# Where each metric's "no difference" or "ideal" value lies (a reference line in the plot).
_DASH = "–"
_REFERENCE = {"auroc": 0.5, "oe_ratio": 1.0, "calibration_intercept": 0.0, "calibration_slope": 1.0}


class MetaReport(NamedTuple):
    """What :func:`render_meta_report` did.

    Attributes
    ----------
    files : list of pathlib.Path
        The files written: per language HTML, Markdown (and PDF), then the plots.
    skipped : list of str
        One line per document not written, saying why (a PDF without WeasyPrint).
    """

    files: list[Path]
    skipped: list[str]


def _check(document: Any) -> None:
    if not isinstance(document, Mapping):
        got = type(document).__name__
    elif document.get("schema") != META_SCHEMA:
        got = f"schema {document.get('schema')!r}"
    elif not isinstance(document.get("metrics"), Mapping) or not isinstance(
        document.get("sites"), Sequence
    ):
        got = "no metrics or no sites"
    else:
        return
    raise ValueError(_NOT_META.format(schema=META_SCHEMA, got=got))


def _interval(fmt: NumberFormatter, low: Any, high: Any, digits: int) -> str:
    return fmt.ci({"estimate": 0.0, "ci_low": low, "ci_high": high}, digits) or fmt.na


def _metric_view(
    name: str, pooled: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> dict[str, Any]:
    """One metric's rows, pooled numbers and TRIPOD 23b sentence, formatted for reading."""
    analysis = pooled["analysis"]
    digits = 3 if name == "auroc" else 2
    label = t[name]
    ci = _interval(fmt, pooled["ci_low"], pooled["ci_high"], digits)
    pi = (
        _interval(fmt, pooled["pi_low"], pooled["pi_high"], digits)
        if pooled.get("pi_low") is not None
        else t["meta_not_estimable"]
    )
    i2 = fmt.pct(analysis["i2"], 0)
    tau2 = fmt.num(analysis["tau2"], 4)
    q_p = fmt.num(analysis["q_pvalue"], 3)
    return {
        "name": name,
        "label": label,
        "estimate": fmt.num(pooled["estimate"], digits),
        "ci": ci,
        "pi": pi,
        "tau2": tau2,
        "i2": i2,
        "q": f"{fmt.num(analysis['q'], 2)} ({q_p})",
        "rows": [
            {
                "site": site["label"],
                "estimate": fmt.num(site["estimate"], digits),
                "ci": _interval(fmt, site["ci_low"], site["ci_high"], digits),
                "weight": fmt.pct(site["weight"], 1),
            }
            for site in pooled["sites"]
        ],
        "tripod": t["meta_tripod_23b_row"].format(
            metric=label,
            k=analysis["k"],
            tau2=tau2,
            i2=i2,
            q=fmt.num(analysis["q"], 2),
            q_df=analysis["q_df"],
            q_p=q_p,
            estimate=fmt.num(pooled["estimate"], digits),
            ci=ci,
            pi=pi,
        ),
    }


def _curve_cells(
    site_points: Sequence[Mapping[str, Any]], points: Sequence[float], fmt: NumberFormatter
) -> list[str]:
    """One site's observed rates at ``points``; a dash where it read none or had too few."""
    observed = {float(point["p"]): point["observed"] for point in site_points}
    return [_DASH if observed.get(p) is None else fmt.num(observed[p], 2) for p in points]


def meta_view(
    document: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> dict[str, Any]:
    """Everything the templates show, formatted in the reader's language.

    Only named fields of ``document`` are read, so nothing else reaches a document.
    """
    method_text = t["meta_method_text"].format(
        method=t[f"meta_method_{document['method'].lower()}"],
        ci=t[f"meta_ci_{document['ci']}"],
        level=fmt.pct(document["level"], 0),
    )
    sites = document["sites"]
    curves = document.get("calibration_curves") or []
    # every risk point any site read, in order: a site that read another grid (its own
    # calibration_points) shows a dash where it has no point, never a value under another's
    points = sorted({float(p["p"]) for curve in curves for p in curve["points"]})
    return {
        "model": document["model"],
        "plan_sha256": document.get("plan_sha256"),
        "created": document.get("created"),
        "clinai_version": document.get("clinai_version"),
        "method_text": method_text,
        "tripod_12d": t["meta_tripod_12d_text"].format(method_text=method_text),
        "sites": [
            {
                "site": site["site"],
                "n": fmt.count(site["n"]) if site["n"] is not None else t["suppressed"],
                "events": (
                    fmt.count(site["events"]) if site["events"] is not None else t["suppressed"]
                ),
                "file": site["file"],
                "sha256": site["sha256"],
            }
            for site in sites
        ],
        "metrics": [
            _metric_view(name, pooled, t, fmt) for name, pooled in document["metrics"].items()
        ],
        "calibration": {
            "points": [fmt.num(p, 2) for p in points],
            "rows": [
                {
                    "site": curve["site"],
                    # a dash, not "n/a": eleven columns must fit a page
                    "cells": _curve_cells(curve["points"], points, fmt),
                }
                for curve in curves
            ],
        },
    }


def _forest(
    pooled: Mapping[str, Any], name: str, t: Mapping[str, str], fmt: NumberFormatter
) -> Figure:
    """Draw a forest plot: sites (squares by weight), pooled diamond, prediction interval."""
    from matplotlib.ticker import FuncFormatter

    sites = pooled["sites"]
    k = len(sites)
    fig = _new_figure(6.5, 1.6 + 0.38 * (k + 2))
    ax = fig.add_subplot()
    for row, site in enumerate(sites):
        y = k + 1 - row
        ax.plot([site["ci_low"], site["ci_high"]], [y, y], color=_MODEL_COLOUR, linewidth=1.2)
        size = 30 + 250 * float(site["weight"] or 0.0)
        ax.scatter([site["estimate"]], [y], s=size, marker="s", color=_MODEL_COLOUR, zorder=3)
    estimate, low, high = pooled["estimate"], pooled["ci_low"], pooled["ci_high"]
    ax.fill([low, estimate, high, estimate], [0.5, 0.75, 0.5, 0.25], color=_OTHER_COLOUR, zorder=3)
    if pooled.get("pi_low") is not None:
        ax.plot([pooled["pi_low"], pooled["pi_high"]], [0.5, 0.5], color=_OTHER_COLOUR, lw=1.0)
    ax.axvline(_REFERENCE[name], color=_GREY, linestyle=":", linewidth=1.0)
    ax.axvline(estimate, color=_OTHER_COLOUR, linestyle="--", linewidth=0.8)
    labels = [f"{site['label']} ({fmt.pct(site['weight'], 0)})" for site in sites]
    ax.set_yticks([k + 1 - r for r in range(k)] + [0.5], [*labels, t["meta_pooled"]])
    ax.set_ylim(-0.2, k + 1.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt.num(value, 2)))
    ax.set_xlabel(t[name])
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    return fig


def _languages(languages: Sequence[str]) -> list[str]:
    """English first, then the others, each once; every code checked before writing."""
    wanted = list(
        dict.fromkeys(["en", *([languages] if isinstance(languages, str) else languages)])
    )
    for language in wanted:
        get_strings(language)
    return wanted


def _write_language(
    document: Mapping[str, Any], folder: Path, language: str
) -> tuple[Path, Path, list[Path]]:
    """Write one language's forest plots, HTML and Markdown."""
    t, fmt = translator(language)
    suffix = "" if language == "en" else f".{language}"
    view = meta_view(document, t, fmt)
    figures = (
        (
            name,
            f"forest_{name}{suffix}",
            _forest(pooled, name, t, fmt),
            " ".join(t["meta_forest_alt"].format(metric=t[name]).split()),
        )
        for name, pooled in document["metrics"].items()
    )
    variables = {"r": view, "t": t, "fmt": fmt, "lang": language}
    return write_plots_and_documents(
        folder, f"meta_report{suffix}", "meta_report", variables, figures
    )


def write_plots_and_documents(
    folder: Path,
    name: str,
    template: str,
    variables: Mapping[str, Any],
    figures: Iterable[tuple[str, str, Figure | None, str]],
) -> tuple[Path, Path, list[Path]]:
    """Write the plots, then ``<name>.html`` and ``.md`` showing them (one language).

    ``figures`` yields ``(key, file stem, figure, alt text)``: each figure is written to
    ``folder/plots/<file stem>.png`` (None: skipped) and rendered from the template's
    ``images[key]``. Returns ``(html, markdown, plots)``, as ``write_languages`` wants.
    """
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    images: dict[str, dict[str, str]] = {}
    plots: list[Path] = []
    for key, stem, figure, alt in figures:
        if figure is None:
            continue
        path = atomic_write_bytes(folder / "plots" / f"{stem}.png", _png_bytes(figure))
        plots.append(path)
        images[key] = embedded_image(path, folder, alt)
    html, markdown = write_html_and_markdown(
        folder, name, template, {**variables, "images": images}
    )
    return html, markdown, plots


def render_meta_report(
    document: Mapping[str, Any],
    out_dir: str | Path,
    *,
    languages: Sequence[str] = ("en", "da"),
    pdf: bool = True,
) -> MetaReport:
    """Write the meta-analysis report as HTML, Markdown and PDF in each language.

    English is written as ``meta_report.html``, ``.md`` and ``.pdf``; each other
    language adds ``meta_report.<lang>.html`` and so on. The forest plots go to
    ``out_dir/plots/forest_<metric>.png`` (``forest_<metric>.da.png`` for Danish,
    whose axes use its decimal comma).

    Parameters
    ----------
    document : mapping
        meta_analysis.json (schema ``clinai.meta_analysis/1``).
    out_dir : path-like
        The folder; created if needed.
    languages : sequence of str, default=("en", "da")
        Codes from :func:`get_language_names`; English is always included.
    pdf : bool, default=True
        Print a PDF of each HTML. When WeasyPrint or its system libraries are
        missing, the PDF is skipped and :attr:`MetaReport.skipped` says why.

    Returns
    -------
    MetaReport
        The files written and the lines of what was skipped.

    Raises
    ------
    ValueError
        If ``document`` is not a meta_analysis.json dict or a language is unknown.
    """
    _check(document)
    folder = Path(out_dir)
    return write_languages(
        lambda language: _write_language(document, folder, language), languages, pdf=pdf
    )


def write_languages(
    write_language: Callable[[str], tuple[Path, Path, list[Path]]],
    languages: Sequence[str],
    *,
    pdf: bool,
) -> MetaReport:
    """Call ``write_language(code)`` per language (English first), then print each HTML as PDF.

    ``write_language`` returns ``(html, markdown, plots)``. Without WeasyPrint's
    libraries the PDFs are skipped with one warning line (in ``skipped``).
    """
    documents: list[Path] = []
    plots: list[Path] = []
    skipped: list[str] = []
    for language in _languages(languages):
        html, markdown, written = write_language(language)
        documents += [html, markdown]
        plots += written
        if pdf and not skipped:
            try:
                documents.append(write_pdf(html, html.with_suffix(".pdf")))
            except ImportError as exc:
                # the HTML and Markdown stand; say why the PDF is missing, once
                skipped.append(get_strings("en")["meta_pdf_skipped"].format(reason=exc))
                logger.warning("%s", skipped[-1])
    return MetaReport(documents + plots, skipped)
