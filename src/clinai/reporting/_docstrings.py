"""Shared numpydoc text of the reporting functions, filled into their docstrings at import.

Writers with the same contract document it in the same words: each section is written
once in :data:`SHARED_DOCS` and a docstring names it by a line holding only its
placeholder, e.g. ``{returns_out_path}``, which :func:`fill_doc` replaces
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
        # the validation report's writers (HTML and Markdown): one language, one file
        "report_language": (
            'language : str, default="en"\n    A code from :func:`get_language_names`.'
        ),
        "returns_out_path": "Returns\n-------\npathlib.Path\n    ``out_path``.",
        "raises_unknown_language": (
            "Raises\n------\nValueError\n    If ``language`` has no strings file."
        ),
    }
)

fill_doc = doc_filler(SHARED_DOCS, "clinai.reporting._docstrings.SHARED_DOCS")
