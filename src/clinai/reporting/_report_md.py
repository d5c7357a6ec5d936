"""The validation report in Markdown, beside the HTML and PDF versions.

The same whitelisted view as the HTML report (see :func:`write_validation_report`),
rendered with the Markdown conventions of the model card: every text from the
inputs escaped, suppressed cells without numbers, the calibration plot linked by
its path relative to the report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clinai._utils import atomic_write_text
from clinai.reporting._docstrings import fill_doc
from clinai.reporting._fairness_view import calibration_image
from clinai.reporting._render import render
from clinai.reporting._report import report_texts

__all__ = ["write_validation_report_markdown"]

logger = logging.getLogger(__name__)


@fill_doc
def write_validation_report_markdown(
    context: Mapping[str, Any],
    metrics: Mapping[str, Any],
    *,
    out_path: str | Path,
    importance: Mapping[str, Any] | None = None,
    plots: Mapping[str, Path | str] | None = None,
    language: str = "en",
) -> Path:
    """Write the validation report as Markdown (``validation_report.md``).

    Sections as in the HTML report: summary and acceptance, discrimination,
    calibration, thresholds, decision curve, subgroups, fairness (groups,
    intersections, differences and ratios with CIs, mitigation beside the
    model), explainability, cohort flow, provenance and lineage, model and
    tuning, internal validation, change log, risks and limitations, TRIPOD+AI
    and EU AI Act Annex IV maps.

    Parameters
    ----------
    context : mapping
        The run context (see :func:`write_validation_report`).
    metrics : mapping
        The validation result, metrics.json schema v1.
    out_path : str or path-like
        The Markdown file to write (atomically).
    importance : mapping or None, default=None
        SHAP importance ``{"method", "n_rows", "variables": [...]}``.
    plots : mapping of str to path, optional
        From :func:`render_plots`; the calibration plot is linked by relative path.
    {report_language}

    {returns_out_path}

    {raises_unknown_language}
    """
    strings, fmt, view = report_texts(context, metrics, importance, language)
    path = Path(out_path)
    image = calibration_image(plots, path.parent)
    text = render(
        "validation_report.md.j2",
        r=view,
        t=strings,
        fmt=fmt,
        lang=language,
        calibration_plot=None if image is None else image["path"],
        ceac_plot=(calibration_image(plots, path.parent, name="ceac") or {}).get("path"),
    )
    written = atomic_write_text(path, text)
    logger.info("validation report (Markdown) written to %s", written)
    return written
