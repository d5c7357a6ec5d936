"""_fields: the JSON of a flat result record, written from its fields."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from clinai.evaluation._estimate import _fields


@dataclass(frozen=True)
class _Record:
    label: str
    estimate: float
    bound: float | None
    count: float
    n: int
    values: np.ndarray
    labels: tuple[str, ...]
    cause: int | None = None


def test_fields_in_order_as_plain_json() -> None:
    record = _Record(
        label="site a",
        estimate=math.nan,
        bound=3,  # an int in a float field is still written as a float
        count=12.0,
        n=np.int64(40),
        values=np.array([0.5, math.inf]),
        labels=("a", "b"),
    )
    out = _fields(record, counts=("count",))
    assert list(out) == ["label", "estimate", "bound", "count", "n", "values", "labels", "cause"]
    assert json.dumps(out, allow_nan=False) == (
        '{"label": "site a", "estimate": null, "bound": 3.0, "count": 12, "n": 40, '
        '"values": [0.5, null], "labels": ["a", "b"], "cause": null}'
    )
