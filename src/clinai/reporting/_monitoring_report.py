"""The monitoring report: HTML, PDF and Markdown in each language, from monitoring.json.

``clinai monitor`` writes ``monitoring.json`` (schema v1) and calls
:func:`render_monitoring_report`, which writes the documents an approval board and a
clinician read: the model and the plan, the latest period's verdict with its reasons
in words, a table per period, the plots, the drift of the patients' data, the
subgroups and what each verdict means. The HTML is self-contained (CSS inline, plots
as data URIs) like the validation report; the PDF is printed from it. Reporting
computes no statistics: every number is one monitoring.json holds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clinai.reporting._locales import get_strings
from clinai.reporting._monitoring_plots import render_monitoring_plots
from clinai.reporting._monitoring_view import monitoring_view, period_series
from clinai.reporting._pdf import write_pdf
from clinai.reporting._render import embedded_image, translator, write_html_and_markdown

__all__ = ["MONITORING_SCHEMA_VERSION", "render_monitoring_report", "write_monitoring_documents"]

logger = logging.getLogger(__name__)

# The alt text (and caption) of each plot.
_PLOT_ALTS = {
    "performance": "monitoring_plot_performance_alt",
    "calibration": "monitoring_plot_calibration_alt",
    "cusum": "monitoring_plot_cusum_alt",
}

#: The monitoring.json schema version this renderer reads.
MONITORING_SCHEMA_VERSION = 1
_NOT_MONITORING = (
    "The 'monitoring' parameter of render_monitoring_report must be the monitoring.json dict "
    "(schema_version {version}, with a list of periods). Got {got}."
)


def _check(monitoring: Any) -> None:
    if not isinstance(monitoring, Mapping):
        got = type(monitoring).__name__
    elif monitoring.get("schema_version") != MONITORING_SCHEMA_VERSION:
        got = f"schema_version {monitoring.get('schema_version')!r}"
    elif not isinstance(monitoring.get("periods"), Sequence) or isinstance(
        monitoring.get("periods"), str
    ):
        got = "no list of periods"
    else:
        return
    raise ValueError(_NOT_MONITORING.format(version=MONITORING_SCHEMA_VERSION, got=got))


def _languages(languages: Sequence[str]) -> list[str]:
    """English first (the reference document), then the others, each once; all checked first."""
    wanted = list(
        dict.fromkeys(["en", *([languages] if isinstance(languages, str) else languages)])
    )
    for language in wanted:
        get_strings(language)  # an unknown code stops here, before anything is written
    return wanted


def _images(plots: Mapping[str, Path], t: Mapping[str, str], folder: Path) -> dict[str, Any]:
    """Each plot as a data URI (HTML) and as a path relative to the documents (Markdown)."""
    return {
        name: embedded_image(path, folder, " ".join(t[_PLOT_ALTS[name]].split()))
        for name, path in plots.items()
    }


def render_monitoring_report(
    monitoring: Mapping[str, Any],
    out_dir: Path,
    *,
    languages: Sequence[str] = ("en", "da"),
    pdf: bool = True,
) -> list[Path]:
    """Write the monitoring report as HTML, PDF and Markdown in each language.

    English is always written, as ``monitoring_report.html``, ``.pdf`` and ``.md``;
    each other language adds ``monitoring_report.<lang>.html``, ``.pdf`` and ``.md``
    (the suffix convention of the model card and the validation report). The plots go
    to ``out_dir/plots/`` (``performance.png``, ``calibration.png``, ``cusum.png``;
    ``performance.da.png`` and so on for Danish, whose axes use its decimal comma).

    Content: the model and its version; the plan (period, limits with their actions,
    the control chart, SHA-256); the latest period's verdict with its reasons in
    words; a verdict per period; the plots (performance and calibration with CI bands
    and the plan's limits, the CUSUM with its limit); a table per period (measured
    values with CIs, "not assessable" where the plan's minimum of events is not met,
    estimates before the outcomes arrive labelled as estimates); a heat table of the
    drift (PSI); the subgroups of the latest period with outcomes (suppressed cells
    without numbers); what each verdict means; the data read. Only named fields of
    ``monitoring`` are read, so no patient identifier reaches a document.

    Parameters
    ----------
    monitoring : mapping
        monitoring.json (schema v1, MONITORING.md section 4).
    out_dir : path-like
        The monitoring folder; created if needed.
    languages : sequence of str, default=("en", "da")
        Codes from :func:`get_language_names`; English is always included.
    pdf : bool, default=True
        Whether to print each HTML report to PDF; ``False`` where WeasyPrint cannot
        run (see :func:`check_pdf_support`), so that HTML and Markdown are written.

    Returns
    -------
    list of pathlib.Path
        The files written: per language the HTML, the Markdown and the PDF (if
        ``pdf``), then the plots.

    Raises
    ------
    ValueError
        If ``monitoring`` is not a schema-v1 monitoring dict, or a language has no
        strings file.
    ImportError
        If ``pdf`` and WeasyPrint or its system libraries are missing (the message
        says what to install), as for the validation report's PDF.
    """
    _check(monitoring)
    wanted = _languages(languages)
    folder = Path(out_dir)
    series = period_series(monitoring)
    documents: list[Path] = []
    plot_files: list[Path] = []
    for language in wanted:
        html, markdown, plots = write_monitoring_documents(monitoring, folder, language, series)
        documents += [html, markdown]
        if pdf:
            documents.append(write_pdf(html, html.with_suffix(".pdf")))
        plot_files += plots
    return documents + plot_files


def write_monitoring_documents(
    monitoring: Mapping[str, Any],
    folder: Path,
    language: str,
    series: Mapping[str, Any] | None = None,
) -> tuple[Path, Path, list[Path]]:
    """Write one language's HTML and Markdown report and its plots (no PDF).

    The part of :func:`render_monitoring_report` that needs no WeasyPrint; see there.

    Returns
    -------
    tuple
        The HTML file, the Markdown file and the plot files.
    """
    t, fmt = translator(language)
    suffix = "" if language == "en" else f".{language}"
    view = monitoring_view(monitoring, t, fmt)
    plots = render_monitoring_plots(
        period_series(monitoring) if series is None else series,
        t=t,
        fmt=fmt,
        out_dir=folder / "plots",
        suffix=suffix,
    )
    variables = {
        "r": view,
        "t": t,
        "fmt": fmt,
        "lang": language,
        "images": _images(plots, t, folder),
    }
    html, markdown = write_html_and_markdown(
        folder, f"monitoring_report{suffix}", "monitoring_report", variables
    )
    logger.info("monitoring report (%s) written to %s", language, html)
    return html, markdown, list(plots.values())
