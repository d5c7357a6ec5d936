"""Render validation results into model cards, validation reports and plots.

Reporting computes no statistics: it renders numbers it is given, as plain
dicts (``metrics.json`` schema v1, the SHAP importance and a run context).
Only whitelisted fields are rendered, so no patient identifier or patient-level
row reaches a card or a report. Headings and clinical terms come from reviewed
strings files per language (``locales/en.yaml``, ``locales/da.yaml``).

jinja2, matplotlib and WeasyPrint are imported inside the functions that need them, so
``import clinai.reporting`` stays cheap.
"""

from __future__ import annotations

from clinai.reporting._card import CARD_SCHEMA_VERSION, build_model_card, write_model_card
from clinai.reporting._explain_view import importance_with_labels
from clinai.reporting._format import NumberFormatter
from clinai.reporting._locales import get_language_names, get_strings
from clinai.reporting._monitoring_report import render_monitoring_report
from clinai.reporting._pdf import check_pdf_support, write_pdf
from clinai.reporting._plots import PLOT_NAMES, render_plots
from clinai.reporting._regulatory import annex_iv_map, tripod_checklist
from clinai.reporting._report import write_validation_report
from clinai.reporting._report_md import write_validation_report_markdown
from clinai.reporting._schema import model_card_schema

__all__ = [
    "CARD_SCHEMA_VERSION",
    "PLOT_NAMES",
    "NumberFormatter",
    "annex_iv_map",
    "build_model_card",
    "check_pdf_support",
    "get_language_names",
    "get_strings",
    "importance_with_labels",
    "model_card_schema",
    "render_monitoring_report",
    "render_plots",
    "tripod_checklist",
    "write_model_card",
    "write_pdf",
    "write_validation_report",
    "write_validation_report_markdown",
]
