"""The data layer's shared numpydoc sections render as the text they replace."""

from __future__ import annotations

import re

import pytest

from clinai._utils._docstrings import UNKNOWN_BLOCK, doc_filler
from clinai.data import (
    check_all_missing,
    check_finite_features,
    get_dataset_info,
    load_dataset,
)
from clinai.data._docstrings import SHARED_DOCS

FEATURES = "    Parameters\n    ----------\n    X : pandas.DataFrame\n        The features.\n"
DATASET = (
    "    Parameters\n    ----------\n    name : str\n        One of :func:`get_dataset_names`.\n"
)


@pytest.mark.parametrize(
    ("func", "section"),
    [
        (check_finite_features, FEATURES),
        (check_all_missing, FEATURES),
        (get_dataset_info, DATASET),
        (load_dataset, DATASET),
    ],
)
def test_a_shared_section_renders_as_written_numpydoc(func: object, section: str) -> None:
    doc = func.__doc__ or ""
    assert section in doc
    assert "{" not in doc.split("Examples")[0]  # no placeholder left unfilled


def test_every_shared_section_is_a_titled_numpydoc_section() -> None:
    for name, block in SHARED_DOCS.items():
        title, underline, *entries = block.splitlines()
        assert underline == "-" * len(title), name
        assert entries and not entries[0].startswith(" "), name


def test_a_block_may_name_another_block() -> None:
    fill = doc_filler(
        {"x": "x : int\n    A number.", "section": "Parameters\n----------\n{x}"}, "T"
    )

    @fill
    def f() -> None:
        """Do nothing.

        {section}
        """

    assert f.__doc__ == "Do nothing.\n\n        Parameters\n        ----------\n" + (
        "        x : int\n            A number.\n        "
    )


def test_a_misspelt_placeholder_fails_at_import_naming_the_table() -> None:
    fill = doc_filler(SHARED_DOCS, "clinai.data._docstrings.SHARED_DOCS")
    message = UNKNOWN_BLOCK.format(
        owner="test_a_misspelt_placeholder_fails_at_import_naming_the_table.<locals>.f",
        name="feature_parameters",
        table="clinai.data._docstrings.SHARED_DOCS",
    )
    with pytest.raises(KeyError, match=re.escape(message)):

        @fill
        def f() -> None:
            """Do nothing.

            {feature_parameters}
            """


def test_a_blank_line_inside_a_block_stays_blank() -> None:
    from clinai._utils._docstrings import doc_filler

    fill = doc_filler({"both": "Returns\n-------\nint\n\nRaises\n------\nKeyError"}, "test")

    @fill
    def f() -> int:
        """Return one.

        {both}
        """
        return 1

    assert f.__doc__ is not None
    assert "\n        int\n\n        Raises\n" in f.__doc__
