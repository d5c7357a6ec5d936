"""Frozen result records of the explainability functions, each with a JSON ``to_dict()``.

The records cover rank stability, subgroup importance, dependence data and
synthetic profiles.

Together they make ``importance.json``: :meth:`Explanation.to_dict` is the
:class:`~clinai.evaluation.ShapImportance` dict (``method``, ``n_rows``,
``variables``) plus the blocks below. No record holds a patient identifier or a
patient's row: dependence points are single (value, SHAP) pairs of one variable,
sorted by value so they cannot be joined across variables, and profiles are
synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinai.evaluation._estimate import _num

__all__ = [
    "ContributionItem",
    "Dependence",
    "DependenceLevel",
    "Explanation",
    "LocalExplanation",
    "RankInterval",
    "RankIntervals",
    "ShapImportance",
    "SubgroupImportance",
    "SubgroupImportanceCell",
    "VariableImportance",
]


@dataclass(frozen=True)
class VariableImportance:
    """Mean absolute SHAP value of one clinical variable.

    Attributes
    ----------
    variable : str
        Clinical variable (its encoded columns summed back together).
    mean_abs_shap : float
        Mean over rows of ``|sum of the variable's columns' SHAP values|``.
    direction : str
        ``"positive"`` or ``"negative"``: sign of the Spearman correlation between
        the variable's summed SHAP value and its first encoded column;
        ``"mixed"`` when that correlation is weak (``|rho| < 0.1``) or undefined;
        ``"by_category"`` for an unordered categorical variable.
    """

    variable: str
    mean_abs_shap: float
    direction: str

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"variable", "mean_abs_shap", "direction"}``."""
        return {
            "variable": self.variable,
            "mean_abs_shap": _num(self.mean_abs_shap),
            "direction": self.direction,
        }


@dataclass(frozen=True)
class ShapImportance:
    """SHAP importance per clinical variable, sorted by ``mean_abs_shap`` (descending).

    Attributes
    ----------
    method : str
        Explainer and the scale of the SHAP values, e.g. ``"shap.TreeExplainer (log-odds)"``.
    n_rows : int
        Rows explained.
    variables : tuple of VariableImportance
    """

    method: str
    n_rows: int
    variables: tuple[VariableImportance, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"method", "n_rows", "variables": [...]}``."""
        return {
            "method": self.method,
            "n_rows": int(self.n_rows),
            "variables": [v.to_dict() for v in self.variables],
        }


def _value(value: Any) -> Any:
    """Return a profile value as a JSON scalar (number, text, or None when missing)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return _num(value)
    try:
        return _num(float(value))
    except (TypeError, ValueError):
        text = str(value)
        return None if text in {"nan", "<NA>", "NaT", "None"} else text


@dataclass(frozen=True)
class RankInterval:
    """The importance rank of one variable and its bootstrap percentile interval.

    Attributes
    ----------
    variable : str
    mean_abs_shap : float
        Mean absolute SHAP value on all explained rows.
    rank : float
        Rank on all explained rows (1 = most important; ties share the mean rank).
    rank_low, rank_high : float
        Lower and upper percentiles (e.g. 2.5 and 97.5) of the rank over the
        bootstrap replicates.
    """

    variable: str
    mean_abs_shap: float
    rank: float
    rank_low: float
    rank_high: float

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"variable", "mean_abs_shap", "rank", "rank_low", "rank_high"}``."""
        return {
            "variable": self.variable,
            "mean_abs_shap": _num(self.mean_abs_shap),
            "rank": _num(self.rank),
            "rank_low": _num(self.rank_low),
            "rank_high": _num(self.rank_high),
        }


@dataclass(frozen=True)
class RankIntervals:
    """Bootstrap stability of the importance ranking (see :func:`importance_rank_intervals`)."""

    n_boot: int
    ci_level: float
    n_rows: int
    variables: tuple[RankInterval, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"n_boot", "ci_level", "n_rows", "variables": [...]}``."""
        return {
            "n_boot": int(self.n_boot),
            "ci_level": float(self.ci_level),
            "n_rows": int(self.n_rows),
            "variables": [v.to_dict() for v in self.variables],
        }


@dataclass(frozen=True)
class SubgroupImportanceCell:
    """Mean absolute SHAP value per variable within one group of a sensitive attribute.

    A suppressed cell (fewer than ``min_cell`` rows, or events or non-events when
    the outcome is known) holds no numbers; ``n`` is also ``None`` in every group
    of an attribute that has a suppressed group (so it cannot be derived by subtraction).
    """

    group: str
    n: int | None
    suppressed: bool
    importance: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"group", "n", "suppressed", "importance": {variable: value}}``."""
        return {
            "group": self.group,
            "n": None if self.n is None else int(self.n),
            "suppressed": bool(self.suppressed),
            "importance": {} if self.suppressed else {k: _num(v) for k, v in self.importance},
        }


@dataclass(frozen=True)
class SubgroupImportance:
    """Per-group importance of one sensitive attribute (see :func:`subgroup_importance`)."""

    attribute: str
    min_cell: int
    groups: tuple[SubgroupImportanceCell, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"attribute", "min_cell", "groups": [...]}``."""
        return {
            "attribute": self.attribute,
            "min_cell": int(self.min_cell),
            "groups": [g.to_dict() for g in self.groups],
        }


@dataclass(frozen=True)
class DependenceLevel:
    """The SHAP values of one level of a categorical variable, as box-plot statistics.

    ``whisker_low`` and ``whisker_high`` are the most extreme values within 1.5
    interquartile ranges of the quartiles (Tukey). A suppressed level (fewer than
    ``min_cell`` rows) holds no numbers.
    """

    level: str
    n: int | None
    suppressed: bool
    mean_shap: float | None = None
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    whisker_low: float | None = None
    whisker_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the level, its count and its statistics (``None`` when suppressed)."""
        keys = ("mean_shap", "q1", "median", "q3", "whisker_low", "whisker_high")
        return {
            "level": self.level,
            "n": None if self.n is None else int(self.n),
            "suppressed": bool(self.suppressed),
            **{k: None if self.suppressed else _num(getattr(self, k)) for k in keys},
        }


@dataclass(frozen=True)
class Dependence:
    """What a dependence plot of one variable needs: its values against its SHAP values.

    Attributes
    ----------
    variable : str
    kind : {"numeric", "categorical"}
    rank : int
        Position in the importance ranking (1 = most important).
    direction : str
        Numeric: ``"positive"`` (higher values, higher predicted risk),
        ``"negative"`` or ``"mixed"`` (sign of the Spearman correlation of value and
        SHAP value; mixed when ``|rho| < 0.1``). Categorical: ``"levels"``.
    x, shap : tuple of float
        Numeric only: the (value, summed SHAP value) points, tails trimmed, at most
        ``max_points``, sorted by value.
    n_missing : int
        Numeric only: explained rows with a missing value (not plotted).
    levels : tuple of DependenceLevel
        Categorical only: box-plot statistics of each level.
    highest_level, lowest_level : str or None
        Categorical only: the non-suppressed levels with the highest and lowest mean SHAP value.
    """

    variable: str
    kind: str
    rank: int
    direction: str
    x: tuple[float, ...] = ()
    shap: tuple[float, ...] = ()
    n_missing: int = 0
    levels: tuple[DependenceLevel, ...] = ()
    highest_level: str | None = None
    lowest_level: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the plot data: ``points`` ([x, shap] pairs) or ``levels``."""
        out: dict[str, Any] = {
            "variable": self.variable,
            "kind": self.kind,
            "rank": int(self.rank),
            "direction": self.direction,
        }
        if self.kind == "numeric":
            out["points"] = [[_num(a), _num(b)] for a, b in zip(self.x, self.shap, strict=True)]
            out["n_missing"] = int(self.n_missing)
        else:
            out["levels"] = [level.to_dict() for level in self.levels]
            out["highest_level"] = self.highest_level
            out["lowest_level"] = self.lowest_level
        return out


@dataclass(frozen=True)
class ContributionItem:
    """One clinical variable's contribution to one synthetic profile's prediction.

    ``direction`` is ``"raises"`` (contribution > 0: towards a higher predicted
    risk), ``"lowers"`` or ``"none"`` (exactly 0).
    """

    variable: str
    value: Any
    contribution: float
    direction: str

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"variable", "value", "contribution", "direction"}``."""
        return {
            "variable": self.variable,
            "value": _value(self.value),
            "contribution": _num(self.contribution),
            "direction": self.direction,
        }


@dataclass(frozen=True)
class LocalExplanation:
    """A synthetic example profile at a percentile of predicted risk, explained locally.

    Attributes
    ----------
    percentile : float
        The percentile of predicted risk the profile was built at (10, 50, 90).
    target_risk : float
        That percentile of the predicted risks.
    n_rows : int
        Rows (at least ``min_cell``) whose per-variable medians and modes form the profile.
    predicted_risk : float
        The model's predicted risk for the synthetic profile.
    base_value : float
        Expected model output over the background, on ``scale``.
    scale : str
        Scale of the contributions: ``"log-odds"`` or ``"probability"``.
    profile : tuple of (str, value)
        The synthetic profile's value of every clinical variable.
    contributions : tuple of ContributionItem
        The ``top_k`` variables by absolute contribution, largest first.
    """

    percentile: float
    target_risk: float
    n_rows: int
    predicted_risk: float
    base_value: float
    scale: str
    profile: tuple[tuple[str, Any], ...]
    contributions: tuple[ContributionItem, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the profile, its predicted risk and its top contributions."""
        return {
            "percentile": _num(self.percentile),
            "target_risk": _num(self.target_risk),
            "n_rows": int(self.n_rows),
            "predicted_risk": _num(self.predicted_risk),
            "base_value": _num(self.base_value),
            "scale": self.scale,
            "synthetic": True,
            "profile": {k: _value(v) for k, v in self.profile},
            "contributions": [c.to_dict() for c in self.contributions],
        }


@dataclass(frozen=True)
class Explanation:
    """Everything the explainability part of a validation reports (``importance.json``).

    Attributes
    ----------
    importance : ShapImportance
        Mean absolute SHAP value per clinical variable.
    scale : str
        ``"log-odds"`` or ``"probability"``.
    rank_intervals : RankIntervals or None
    subgroups : tuple of SubgroupImportance
    dependence : tuple of Dependence
    profiles : tuple of LocalExplanation
    """

    importance: ShapImportance
    scale: str
    rank_intervals: RankIntervals | None = None
    subgroups: tuple[SubgroupImportance, ...] = ()
    dependence: tuple[Dependence, ...] = ()
    profiles: tuple[LocalExplanation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return ``importance.json``.

        Keys: ``method``, ``n_rows``, ``variables``, ``scale``, ``rank_intervals``,
        ``subgroup_importance``, ``dependence`` and ``profiles``.
        """
        return {
            **self.importance.to_dict(),
            "scale": self.scale,
            "rank_intervals": (
                None if self.rank_intervals is None else self.rank_intervals.to_dict()
            ),
            "subgroup_importance": [s.to_dict() for s in self.subgroups],
            "dependence": [d.to_dict() for d in self.dependence],
            "profiles": [p.to_dict() for p in self.profiles],
        }
