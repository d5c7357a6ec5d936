"""Validation plots as PNG files, drawn from the numbers in metrics.json.

The figures are built as :class:`matplotlib.figure.Figure` objects and drawn by
the Agg canvas directly, so they never touch pyplot's global figure registry
(no leaked figures) and never change the user's interactive backend (a
notebook keeps its inline backend). PNGs carry no software or time metadata,
so the same numbers give the same bytes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from clinai._utils import atomic_write_bytes
from clinai.reporting._economics_view import acceptability_curve
from clinai.reporting._format import estimate_parts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PLOT_NAMES", "render_plots"]

logger = logging.getLogger(__name__)

#: The plots :func:`render_plots` can draw, in report order.
PLOT_NAMES = ("roc", "calibration", "decision_curve", "shap_importance", "subgroups", "ceac")

_DPI = 110
_MODEL_COLOUR = "#1f4e79"
_OTHER_COLOUR = "#c0504d"
_GREY = "#7f7f7f"
_MAX_VARIABLES = 20
_SUPPRESSED_LABEL = "suppressed (< min cell)"
_CEAC_MIN_SHOWN = 0.01
_STRATEGY_NAMES = {"treat_none": "Treat none", "treat_all": "Treat all"}
_Importance = Mapping[str, Any] | None


def _new_figure(width: float = 5.5, height: float = 4.5) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=_DPI, layout="constrained")


def _png_bytes(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # metadata=None entries drop matplotlib's "Software" key: nothing varies between runs.
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _points(rows: Any, *keys: str) -> list[tuple[float, ...]]:
    """Keep the rows whose ``keys`` are all finite numbers, as tuples."""
    out: list[tuple[float, ...]] = []
    if not isinstance(rows, Sequence):
        return out
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        values = [estimate_parts(row.get(key))[0] for key in keys]
        if all(v is not None for v in values):
            out.append(tuple(v for v in values if v is not None))
    return out


def _line(ax: Axes, points: Sequence[tuple[float, ...]], **style: Any) -> None:
    """Draw ``points`` (x, y, ...) as a line."""
    ax.plot([p[0] for p in points], [p[1] for p in points], **style)


def _finish_square(ax: Axes, legend: Literal["lower right", "upper left"], **settings: Any) -> None:
    """Set the limits and labels of a plot of a probability against a probability, squared."""
    ax.set(**settings)
    ax.set_aspect("equal")
    ax.legend(loc=legend, frameon=False)


def _roc(metrics: Mapping[str, Any], importance: _Importance) -> Figure | None:
    points = _points(metrics.get("roc_curve"), "fpr", "tpr")
    if len(points) < 2:
        return None
    points.sort()
    auroc = estimate_parts(metrics.get("auroc"))[0]
    fig = _new_figure(4.8, 4.5)
    ax = fig.add_subplot()
    label = "Model" if auroc is None else f"Model (AUROC {auroc:.2f})"
    _line(ax, points, color=_MODEL_COLOUR, lw=2, label=label)
    ax.plot([0, 1], [0, 1], ls="--", color=_GREY, lw=1, label="Chance")
    _finish_square(
        ax,
        "lower right",
        xlim=(0, 1),
        ylim=(0, 1.01),
        xlabel="1 − specificity (false positive rate)",
        ylabel="Sensitivity (true positive rate)",
        title="ROC curve",
    )
    return fig


def _calibration(metrics: Mapping[str, Any], importance: _Importance) -> Figure | None:
    calibration = metrics.get("calibration")
    curve = calibration.get("curve") if isinstance(calibration, Mapping) else None
    points = _points(curve, "p", "observed")
    if len(points) < 2:
        return None
    points.sort()
    band = sorted(_points(curve, "p", "ci_low", "ci_high"))
    upper = max(max(p[0] for p in points), max(p[1] for p in points))
    if band:
        upper = max(upper, max(b[2] for b in band))
    limit = min(1.0, max(0.1, upper * 1.05))
    fig = _new_figure(4.8, 4.5)
    ax = fig.add_subplot()
    ax.plot([0, limit], [0, limit], ls="--", color=_GREY, lw=1, label="Perfect calibration")
    if len(band) >= 2:
        ax.fill_between(
            [b[0] for b in band],
            [b[1] for b in band],
            [b[2] for b in band],
            color=_MODEL_COLOUR,
            alpha=0.2,
            lw=0,
            label="95% confidence band",
        )
    _line(ax, points, color=_MODEL_COLOUR, lw=2, label="Smoothed (LOWESS)")
    _finish_square(
        ax,
        "upper left",
        xlim=(0, limit),
        ylim=(0, limit),
        xlabel="Predicted risk",
        ylabel="Observed proportion",
        title="Calibration",
    )
    return fig


def _decision_curve(metrics: Mapping[str, Any], importance: _Importance) -> Figure | None:
    points = sorted(_points(metrics.get("decision_curve"), "threshold", "net_benefit"))
    if len(points) < 2:
        return None
    treat_all = sorted(_points(metrics.get("decision_curve"), "threshold", "net_benefit_treat_all"))
    thresholds = [p[0] for p in points]
    values = [p[1] for p in points] + [t[1] for t in treat_all] + [0.0]
    top = max(values)
    top = top * 1.1 if top > 0 else 0.05
    bottom = -max(0.02, 0.25 * top)
    fig = _new_figure(5.5, 4.2)
    ax = fig.add_subplot()
    ax.plot(thresholds, [p[1] for p in points], color=_MODEL_COLOUR, lw=2, label="Model")
    if treat_all:
        _line(ax, treat_all, color=_OTHER_COLOUR, lw=1.5, label="Treat all")
    ax.axhline(0.0, color=_GREY, lw=1, ls="--", label="Treat none")
    ax.set(
        xlim=(min(thresholds), max(thresholds)),
        ylim=(bottom, top),
        xlabel="Threshold probability",
        ylabel="Net benefit",
        title="Decision curve",
    )
    ax.legend(loc="upper right", frameon=False)
    return fig


def _shap_importance(metrics: Mapping[str, Any], importance: _Importance) -> Figure | None:
    if not isinstance(importance, Mapping):
        return None
    rows = [
        (str(row.get("variable")), value, row.get("direction"))
        for row in importance.get("variables") or []
        if isinstance(row, Mapping)
        and (value := estimate_parts(row.get("mean_abs_shap"))[0]) is not None
    ]
    if not rows:
        return None
    rows.sort(key=lambda r: r[1], reverse=True)
    rows = rows[:_MAX_VARIABLES]
    rows.reverse()  # largest at the top of a horizontal bar chart
    fig = _new_figure(6.0, 1.2 + 0.32 * len(rows))
    ax = fig.add_subplot()
    positions = range(len(rows))
    ax.barh(list(positions), [r[1] for r in rows], color=_MODEL_COLOUR)
    ax.set_yticks(list(positions), [r[0] for r in rows])
    for pos, (_, value, direction) in zip(positions, rows, strict=True):
        if direction:
            ax.annotate(f" {direction}", (value, pos), va="center", fontsize=8, color=_GREY)
    ax.set(xlabel="Mean absolute SHAP value", title="Variable importance (SHAP)")
    longest = max((len(str(r[2])) for r in rows if r[2]), default=0)
    ax.margins(x=0.05 + 0.022 * longest)  # room for the direction labels
    return fig


def _subgroups(metrics: Mapping[str, Any], importance: _Importance) -> Figure | None:
    subgroups = metrics.get("subgroups")
    if not isinstance(subgroups, Mapping) or not subgroups:
        return None
    labels: list[str] = []
    estimates: list[tuple[int, float, float | None, float | None]] = []
    suppressed: list[int] = []
    missing: list[int] = []
    for attribute, rows in subgroups.items():
        for row in rows or []:
            if not isinstance(row, Mapping):
                continue
            position = len(labels)
            if row.get("suppressed"):
                labels.append(f"{attribute}: {row.get('group')}")
                suppressed.append(position)
                continue
            n = row.get("n")
            suffix = f" (n={n})" if n is not None else ""
            labels.append(f"{attribute}: {row.get('group')}{suffix}")
            estimate, low, high = estimate_parts(row.get("auroc"))
            if estimate is None:
                missing.append(position)
            else:
                estimates.append((position, estimate, low, high))
    if not labels:
        return None
    fig = _new_figure(6.0, 1.3 + 0.35 * len(labels))
    ax = fig.add_subplot()
    for position, estimate, low, high in estimates:
        if low is not None and high is not None:
            ax.plot([low, high], [position, position], color=_MODEL_COLOUR, lw=1.5)
        ax.plot([estimate], [position], "o", color=_MODEL_COLOUR)
    overall = estimate_parts(metrics.get("auroc"))[0]
    xlabel = "AUROC (95% CI)"
    if overall is not None:
        ax.axvline(overall, color=_GREY, ls="--", lw=1)
        xlabel += f"; dashed line: overall AUROC {overall:.2f}"
    low_x = min([0.5, *[e[2] if e[2] is not None else e[1] for e in estimates]])
    ax.set_xlim(max(0.0, low_x - 0.05), 1.0)
    for position in suppressed:
        ax.text(
            0.02,
            position,
            _SUPPRESSED_LABEL,
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=8,
            style="italic",
            color=_GREY,
        )
    for position in missing:
        ax.text(
            0.02,
            position,
            "n/a",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=8,
            color=_GREY,
        )
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first group at the top
    ax.set(xlabel=xlabel, title="Discrimination by subgroup")
    return fig


def _ceac(metrics: Mapping[str, Any], importance: _Importance) -> Figure | None:
    """Cost-effectiveness acceptability curve of the economics block (issue 17), if any."""
    curve = acceptability_curve(metrics.get("economics"))
    if curve is None:
        return None
    fig = _new_figure(6.0, 4.2)
    ax = fig.add_subplot()
    wtp = curve["willingness_to_pay"]
    # a strategy never best at any willingness to pay would only crowd the legend
    shown = {k: v for k, v in curve["lines"].items() if max(v) >= _CEAC_MIN_SHOWN}
    for label, values in shown.items():
        name = _STRATEGY_NAMES.get(label, label.replace(">=", "\u2265"))
        ax.plot(wtp, values, lw=2, label=name[:1].upper() + name[1:])
    if curve["configured"] is not None:
        ax.axvline(curve["configured"], color=_GREY, ls="--", lw=1, label="Configured value")
    ax.set_ylim(-0.02, 1.02)
    ax.set(
        xlabel=f"Willingness to pay per QALY (thousand {curve['currency']})",
        ylabel="Probability of the highest NMB",
        title="Cost-effectiveness acceptability curve",
    )
    ax.xaxis.set_major_formatter(lambda value, _: f"{value / 1000:,.0f}")
    ax.legend(loc="best", fontsize=8)
    return fig


def _dependence(entry: Mapping[str, Any]) -> Figure | None:
    """Scatter (numeric) or box plot per level (categorical) of a variable's SHAP values."""
    variable = str(entry.get("variable"))
    if entry.get("kind") == "numeric":
        points = [
            (x, y)
            for pair in entry.get("points") or []
            if isinstance(pair, Sequence)
            and len(pair) == 2
            and (x := estimate_parts(pair[0])[0]) is not None
            and (y := estimate_parts(pair[1])[0]) is not None
        ]
        if len(points) < 2:
            return None
        fig = _new_figure(5.5, 3.8)
        ax = fig.add_subplot()
        ax.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            s=12,
            alpha=0.6,
            color=_MODEL_COLOUR,
            linewidths=0,
        )
        ax.set(xlabel=variable, title=f"Dependence: {variable}")
    else:
        stats: list[dict[str, Any]] = []
        labels: list[str] = []
        hidden: list[str] = []
        for level in entry.get("levels") or []:
            if not isinstance(level, Mapping):
                continue
            keys = ("median", "q1", "q3", "whisker_low", "whisker_high", "mean_shap")
            values = [estimate_parts(level.get(k))[0] for k in keys]
            if level.get("suppressed") or any(v is None for v in values):
                hidden.append(str(level.get("level")))
                continue
            med, q1, q3, low, high, mean = values
            stats.append(
                {
                    "med": med,
                    "q1": q1,
                    "q3": q3,
                    "whislo": low,
                    "whishi": high,
                    "mean": mean,
                    "fliers": [],
                }
            )
            labels.append(str(level.get("level")))
        if not stats:
            return None
        fig = _new_figure(5.5, 3.8)
        ax = fig.add_subplot()
        ax.bxp(stats, showmeans=True, showfliers=False, patch_artist=False)
        ax.set_xticks(range(1, len(labels) + 1), labels)
        title = f"Dependence: {variable}"
        if hidden:
            title += f"\n{', '.join(hidden)}: {_SUPPRESSED_LABEL}"
        ax.set(xlabel=variable, title=title)
    ax.axhline(0.0, color=_GREY, lw=1, ls="--")
    ax.set_ylabel("SHAP value (contribution)")
    return fig


def _dependence_plots(importance: _Importance, folder: Path) -> dict[str, Path]:
    """Write ``dependence_<rank>.png`` for each variable of ``importance["dependence"]``."""
    written: dict[str, Path] = {}
    entries = importance.get("dependence") if isinstance(importance, Mapping) else None
    for entry in entries if isinstance(entries, Sequence) else []:
        rank = estimate_parts(entry.get("rank"))[0] if isinstance(entry, Mapping) else None
        fig = _dependence(entry) if rank is not None else None
        if fig is None or rank is None:
            continue
        name = f"dependence_{int(rank)}"
        written[name] = atomic_write_bytes(folder / f"{name}.png", _png_bytes(fig))
    return written


_PLOTTERS: dict[str, Callable[[Mapping[str, Any], _Importance], Figure | None]] = {
    "roc": _roc,
    "calibration": _calibration,
    "decision_curve": _decision_curve,
    "shap_importance": _shap_importance,
    "subgroups": _subgroups,
    "ceac": _ceac,
}


def render_plots(
    metrics: Mapping[str, Any],
    *,
    importance: Mapping[str, Any] | None = None,
    out_dir: str | Path,
) -> dict[str, Path]:
    """Draw the validation plots as PNG files.

    Reporting computes no statistics: each plot draws numbers already in
    ``metrics`` (metrics.json schema v1) or ``importance``. A plot whose data
    are missing is skipped (and logged), not drawn empty.

    Parameters
    ----------
    metrics : mapping
        The validation result (metrics.json): ``roc_curve``, ``calibration.curve``,
        ``decision_curve``, ``subgroups`` and ``auroc`` are used.
    importance : mapping or None, default=None
        ``{"method", "n_rows", "variables": [{"variable", "mean_abs_shap", "direction"}]}``.
    out_dir : str or path-like
        Folder for the PNGs; created if needed.

    Returns
    -------
    dict of str to pathlib.Path
        Plot name to file, for the plots drawn: ``roc`` (roc.png), ``calibration``
        (calibration.png; smoothed LOWESS curve with its CI band and the diagonal),
        ``decision_curve`` (model, treat all, treat none), ``shap_importance``
        (horizontal bars) and ``subgroups`` (AUROC with CI per subgroup; a suppressed
        group is labelled "suppressed (< min cell)" and shows no number), and
        ``dependence_<rank>`` for each entry of ``importance["dependence"]`` (value
        against SHAP value: a scatter for a numeric variable, a box plot per level for
        a categorical one; suppressed levels are named, not drawn), and ``ceac`` (the
        cost-effectiveness acceptability curve of ``metrics["economics"]``, only when
        the config had an ``economics:`` section).

    Examples
    --------
    >>> import tempfile
    >>> metrics = {"roc_curve": [{"fpr": 0.0, "tpr": 0.0}, {"fpr": 1.0, "tpr": 1.0}]}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(render_plots(metrics, out_dir=tmp))
    ['roc']
    """
    folder = Path(out_dir)
    written: dict[str, Path] = {}
    for name, plotter in _PLOTTERS.items():
        fig = plotter(metrics, importance)
        if fig is None:
            logger.info("plot %s skipped: its data are missing", name)
            continue
        written[name] = atomic_write_bytes(folder / f"{name}.png", _png_bytes(fig))
        logger.debug("plot %s written to %s", name, written[name])
    written.update(_dependence_plots(importance, folder))
    return written
