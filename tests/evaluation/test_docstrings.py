"""The shared numpydoc blocks: every placeholder is filled, and a misspelt one fails at import."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import clinai.evaluation
from clinai.evaluation import auroc_score, brier_score, calibration_slope
from clinai.evaluation._docstrings import SHARED_DOCS, UNKNOWN_BLOCK_MSG, fill_doc

# a docstring line holding only ``{name}``, as fill_doc would replace it
PLACEHOLDER = re.compile(r"^[ ]*\{\w+\}[ ]*$", re.MULTILINE)

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(clinai.evaluation.__path__, prefix="clinai.evaluation.")
)


def _documented(module_name: str) -> list[tuple[str, str]]:
    """Return ``(qualified name, docstring)`` of each function, class and method of a module."""
    module = importlib.import_module(module_name)
    found = []
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module_name:
            continue
        members = [(name, obj)]
        if inspect.isclass(obj):
            members += [(f"{name}.{m}", f) for m, f in vars(obj).items() if inspect.isfunction(f)]
        found += [(n, o.__doc__) for n, o in members if callable(o) and o.__doc__]
    return found


@pytest.mark.parametrize("module_name", MODULES)
def test_no_placeholder_is_left_unfilled(module_name: str) -> None:
    unfilled = [name for name, doc in _documented(module_name) if PLACEHOLDER.search(doc)]
    assert unfilled == []


def test_filled_docstrings_read_as_numpydoc_parameters() -> None:
    doc = inspect.getdoc(brier_score)
    assert doc is not None
    assert (
        "Parameters\n----------\n"
        "y_true : array-like of shape (n,)\n    Observed outcome, 0 or 1.\n"
        "y_prob : array-like of shape (n,)\n    Predicted probability of the event.\n"
    ) in doc
    # a function keeps its own wording where it differs from the shared block
    assert "Observed outcome, 0 (non-event) or 1 (event)." in (auroc_score.__doc__ or "")
    raises = "DataError\n        On invalid or one-class input.\n"
    assert raises in (calibration_slope.__doc__ or "")


def test_each_block_is_a_numpydoc_entry_or_section() -> None:
    for name, block in SHARED_DOCS.items():
        first, *description = block.splitlines()
        if set(description[0]) == {"-"}:  # a whole section: its title underlined
            assert len(description[0]) == len(first), name
            continue
        assert first and not first.startswith(" "), name
        assert description and all(line.startswith("    ") for line in description), name


def test_a_block_keeps_the_placeholder_indentation() -> None:
    @fill_doc
    def method() -> None:
        """Do nothing.

        Parameters
        ----------
        {background}
        """

    assert method.__doc__ is not None
    assert (
        "        background : array-like of shape (k, m), optional\n"
        "            Rows to draw the background sample from (e.g. transformed training\n"
        "            rows); default ``X_transformed``.\n"
    ) in method.__doc__


def test_a_section_block_renders_as_its_written_entries() -> None:
    def written() -> None:
        """Do nothing.

        Parameters
        ----------
        {y_true}
        {y_prob}
        """

    def shared() -> None:
        """Do nothing.

        {binary_metric_parameters}
        """

    assert fill_doc(shared).__doc__ == fill_doc(written).__doc__


def test_an_unknown_placeholder_fails_when_the_function_is_defined() -> None:
    def misspelt() -> None:
        """Do nothing.

        Parameters
        ----------
        {y_ture}
        """

    with pytest.raises(KeyError) as caught:
        fill_doc(misspelt)
    message = UNKNOWN_BLOCK_MSG.format(owner=misspelt.__qualname__, name="y_ture")
    assert caught.value.args == (message,)


def test_braces_inside_text_are_left_alone() -> None:
    def with_braces() -> None:
        """Return ``{"fpr", "tpr"}`` for ``R_{k-1}``."""

    assert fill_doc(with_braces).__doc__ == 'Return ``{"fpr", "tpr"}`` for ``R_{k-1}``.'
