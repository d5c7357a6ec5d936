"""Shared numpydoc text of the data functions, filled into their docstrings at import.

Functions that take the same input document it in the same words: the section is
written once in :data:`SHARED_DOCS` and a docstring names it by a line holding only
its placeholder, e.g. ``{features_parameters}``, which :func:`fill_doc` replaces
(see :func:`clinai._utils._docstrings.doc_filler`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clinai._utils._docstrings import doc_filler

__all__ = ["SHARED_DOCS", "fill_doc"]

#: The shared blocks, by placeholder name: whole sections, as numpydoc writes them.
SHARED_DOCS: Mapping[str, str] = MappingProxyType(
    {
        # the checks that look at every feature column
        "features_parameters": "Parameters\n----------\nX : pandas.DataFrame\n    The features.",
        # the bundled datasets, looked up by name
        "dataset_parameters": (
            "Parameters\n----------\nname : str\n    One of :func:`get_dataset_names`."
        ),
    }
)

fill_doc = doc_filler(SHARED_DOCS, "clinai.data._docstrings.SHARED_DOCS")
