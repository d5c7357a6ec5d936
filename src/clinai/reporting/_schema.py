"""The published JSON Schema of ``model_card.json``.

The schema (JSON Schema draft 2020-12) ships as package data,
``clinai/reporting/schemas/model_card.schema.json``. Its sections
``model_details``, ``model_parameters``, ``quantitative_analysis`` and
``considerations`` carry Model Card Toolkit's field names; ``clinai`` holds the
clinician's view. Validating needs a JSON Schema validator such as
``jsonschema``, which clinai does not require at run time.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["MODEL_CARD_SCHEMA_FILE", "model_card_schema"]

#: Path of the schema inside the package.
MODEL_CARD_SCHEMA_FILE = "schemas/model_card.schema.json"


@functools.lru_cache(maxsize=1)
def _text() -> str:
    return (
        resources.files("clinai.reporting")
        .joinpath(MODEL_CARD_SCHEMA_FILE)
        .read_text(encoding="utf-8")
    )


def model_card_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of ``model_card.json``.

    Returns
    -------
    dict
        A fresh copy of the schema; ``schema["$id"]`` names its version.

    Examples
    --------
    >>> from clinai.reporting import model_card_schema
    >>> schema = model_card_schema()
    >>> schema["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    >>> {"model_details", "quantitative_analysis", "considerations"} <= set(schema["properties"])
    True
    """
    schema: dict[str, Any] = json.loads(_text())
    return schema
