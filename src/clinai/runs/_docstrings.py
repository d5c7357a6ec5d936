"""Shared numpydoc text of the runs entry points, filled into their docstrings at import.

Entry points that take the same first arguments document them in the same words: each
block is written once in :data:`SHARED_DOCS` and a docstring names it by a line holding
only its placeholder, e.g. ``{parameters_config}``, which :func:`fill_doc` replaces
(see :func:`clinai._utils._docstrings.doc_filler`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clinai._utils._docstrings import doc_filler

__all__ = ["SHARED_DOCS", "fill_doc"]

#: The shared blocks, by placeholder name, as numpydoc writes them.
SHARED_DOCS: Mapping[str, str] = MappingProxyType(
    {
        # the stages that read an experiment config as the CLI gives it (path and --set)
        "parameters_config": (
            "Parameters\n----------\nconfig_path : path-like\n    The experiment YAML.\n"
            "overrides : iterable of str\n    ``key=value`` overrides (``--set``)."
        ),
        # ``clinai validate``'s readers of a predictions file (binary and survival)
        "parameters_predictions_file": (
            "Parameters\n----------\npredictions : path-like\n"
            "    CSV or Parquet with one row per prediction."
        ),
    }
)

fill_doc = doc_filler(SHARED_DOCS, "clinai.runs._docstrings.SHARED_DOCS")
