"""The monitoring report's plots as PNG files, one set per language.

Each plot draws numbers already in monitoring.json (see
:func:`clinai.reporting._monitoring_view.period_series`): performance and calibration
over the periods with their confidence bands and the plan's limits, and the
risk-adjusted CUSUM with its signal limit. The figures are built and saved the way
the validation plots are (:mod:`clinai.reporting._plots`: no pyplot, no metadata, so
the same numbers give the same bytes); their words and decimal marks are the
reader's language.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import atomic_write_bytes
from clinai.reporting._format import NumberFormatter, estimate_parts
from clinai.reporting._monitoring_words import _cap, _limit_text, metric_label
from clinai.reporting._plots import _GREY, _MODEL_COLOUR, _OTHER_COLOUR, _new_figure, _png_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MONITORING_PLOT_NAMES", "render_monitoring_plots"]

logger = logging.getLogger(__name__)

#: The plots :func:`render_monitoring_plots` can draw, in report order.
MONITORING_PLOT_NAMES = ("performance", "calibration", "cusum")

_SECOND_COLOUR = "#2e7d32"
_LIMIT_COLOUR, _LIMIT_WIDTH = _GREY, 1.3
_ROTATE_AFTER = 6  # period labels are turned when more would collide
_MAX_LABELS = 13


def _localise_axis(ax: Axes, fmt: NumberFormatter, digits: int = 2) -> None:
    """Write the y tick labels with the language's decimal mark."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt.num(value, digits)))


def _legend_above(ax: Axes) -> None:
    """Put the legend over the axes, where it hides no line (the name is the y label)."""
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)


def _period_axis(ax: Axes, labels: Sequence[str], t: Mapping[str, str]) -> None:
    # at most _MAX_LABELS period names (every k-th): 52 weeks would overlap
    step = max(1, math.ceil(len(labels) / _MAX_LABELS))
    ax.set_xticks(
        range(len(labels)), [label if k % step == 0 else "" for k, label in enumerate(labels)]
    )
    if len(labels) > _ROTATE_AFTER:
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_xlabel(t["monitoring_period"])


def _series(
    ax: Axes,
    values: Sequence[Any],
    *,
    colour: str,
    label: str,
    dashed: bool = False,
    band: bool = True,
) -> bool:
    """Draw an estimate per period with its CI band; gaps where a period has none."""
    points = [(i, *estimate_parts(v)) for i, v in enumerate(values)]
    drawn = [(i, e, lo, hi) for i, e, lo, hi in points if e is not None]
    if not drawn:
        return False
    # None breaks the line at a period without a value (too few events, no outcomes)
    ys = [e if e is not None else float("nan") for _, e, _, _ in points]
    ax.plot(
        range(len(ys)),
        ys,
        color=colour,
        lw=2 if not dashed else 1.5,
        ls="--" if dashed else "-",
        marker="o" if not dashed else None,
        ms=4,
        label=label,
    )
    lows = [lo if lo is not None else float("nan") for _, _, lo, _ in points]
    highs = [hi if hi is not None else float("nan") for _, _, _, hi in points]
    if band and any(lo is not None for _, _, lo, _ in drawn):
        ax.fill_between(
            range(len(ys)), lows, highs, color=colour, alpha=0.15 if not dashed else 0.08, lw=0
        )
    return True


def _limit_lines(
    ax: Axes,
    limits: Sequence[Mapping[str, Any]],
    metric: str,
    t: Mapping[str, str],
    fmt: NumberFormatter,
) -> None:
    """Draw a plan's limits of ``metric`` as lines, each named by what it bounds."""
    for limit in limits:
        if limit.get("metric") != metric:
            continue
        text = _limit_text(limit, t, fmt)
        if limit.get("statistic") in ("ci_low", "ci_high"):
            text = f"{t['monitoring_bound_' + str(limit['statistic'])]} {text}"
        if metric.startswith("estimated."):
            text = f"{metric_label(metric, t)} {text}"
        style = "-." if metric.startswith("estimated.") else ":"
        label: str | None = f"{t['monitoring_plot_limit']}: {text}"
        for key in ("min", "max"):
            if limit.get(key) is not None:
                ax.axhline(limit[key], color=_LIMIT_COLOUR, lw=_LIMIT_WIDTH, ls=style, label=label)
                label = None  # one legend entry per limit


def _performance(
    series: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> Figure | None:
    measured, estimated = series["measured"], series["estimated"]
    labels = series["periods"]
    if not labels:
        return None
    fig = _new_figure(6.6, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True)
    drew = _series(
        top, measured["auroc"], colour=_MODEL_COLOUR, label=t["monitoring_plot_measured"]
    )
    drew |= _series(
        top,
        estimated["auroc"],
        colour=_MODEL_COLOUR,
        dashed=True,
        label=t["monitoring_plot_estimated"],
    )
    _limit_lines(top, series["limits"], "auroc", t, fmt)
    _limit_lines(top, series["limits"], "estimated.auroc", t, fmt)
    top.set_ylabel(metric_label("auroc", t))
    for key, colour in (("sensitivity", _SECOND_COLOUR), ("ppv", _OTHER_COLOUR)):
        name = metric_label(key, t)
        drew |= _series(
            bottom, measured[key], colour=colour, label=f"{name}: {t['monitoring_plot_measured']}"
        )
        drew |= _series(
            bottom,
            estimated[key],
            colour=colour,
            dashed=True,
            band=False,
            label=f"{name}: {t['monitoring_plot_estimated']}",
        )
        _limit_lines(bottom, series["limits"], key, t, fmt)
    if not drew:
        return None
    bottom.set_ylabel(_cap(f"{metric_label('sensitivity', t)}, {metric_label('ppv', t)}"))
    for ax in (top, bottom):
        _localise_axis(ax, fmt)
        _legend_above(ax)
    _period_axis(bottom, labels, t)
    return fig


def _calibration(
    series: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter
) -> Figure | None:
    measured, labels = series["measured"], series["periods"]
    if not labels or not any(v is not None for v in measured["oe_ratio"]):
        return None
    fig = _new_figure(6.6, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for ax, metric, ideal in ((top, "oe_ratio", 1.0), (bottom, "calibration.slope", 1.0)):
        _series(ax, measured[metric], colour=_MODEL_COLOUR, label=t["monitoring_plot_measured"])
        ax.axhline(ideal, color=_GREY, lw=0.8)
        _limit_lines(ax, series["limits"], metric, t, fmt)
        ax.set_ylabel(_cap(metric_label(metric, t)))
        _localise_axis(ax, fmt)
        _legend_above(ax)
    _period_axis(bottom, labels, t)
    return fig


def _cusum(series: Mapping[str, Any], t: Mapping[str, str], fmt: NumberFormatter) -> Figure | None:
    cusum, labels = series["cusum"], series["periods"]
    values = cusum["values"]
    if not labels or not any(v is not None for v in values):
        return None
    fig = _new_figure(6.6, 3.6)
    ax = fig.add_subplot()
    ys = [float("nan") if v is None else v for v in values]
    ax.plot(range(len(ys)), ys, color=_MODEL_COLOUR, lw=2, marker="o", ms=4, label="CUSUM")
    signals = [
        (i, v)
        for i, (v, hit) in enumerate(zip(values, cusum["signalled"], strict=True))
        if hit and v is not None
    ]
    if signals:
        ax.plot(
            [i for i, _ in signals],
            [v for _, v in signals],
            "o",
            color=_OTHER_COLOUR,
            ms=8,
            label=t["monitoring_plot_signal"],
        )
    if cusum["limit"] is not None:
        ax.axhline(
            cusum["limit"],
            color=_LIMIT_COLOUR,
            lw=_LIMIT_WIDTH,
            ls=":",
            label=f"{t['monitoring_plot_limit']} ({fmt.num(cusum['limit'])})",
        )
    ax.set_ylim(bottom=0)
    ax.set_ylabel("CUSUM")  # the section heading names the chart
    _localise_axis(ax, fmt, 1)
    _legend_above(ax)
    _period_axis(ax, labels, t)
    return fig


_PLOTTERS = {"performance": _performance, "calibration": _calibration, "cusum": _cusum}


def render_monitoring_plots(
    series: Mapping[str, Any],
    *,
    t: Mapping[str, str],
    fmt: NumberFormatter,
    out_dir: str | Path,
    suffix: str = "",
) -> dict[str, Path]:
    """Draw the monitoring plots of one language as PNG files.

    Parameters
    ----------
    series : mapping
        From :func:`clinai.reporting._monitoring_view.period_series`.
    t : mapping
        The language's reviewed strings.
    fmt : NumberFormatter
        The language's number formatter (decimal mark of the axes).
    out_dir : str or path-like
        Folder for the PNGs; created if needed.
    suffix : str, default=""
        Added before ``.png`` (``".da"`` for Danish), as the documents are named.

    Returns
    -------
    dict of str to pathlib.Path
        Plot name to file, for the plots whose numbers are there: ``performance``
        (AUROC, sensitivity and PPV, measured with CI bands, estimated dashed),
        ``calibration`` (O/E and calibration slope with CI bands) and ``cusum``.
    """
    folder = Path(out_dir)
    written: dict[str, Path] = {}
    for name, plotter in _PLOTTERS.items():
        fig = plotter(series, t, fmt)
        if fig is None:
            logger.info("monitoring plot %s skipped: its numbers are missing", name)
            continue
        written[name] = atomic_write_bytes(folder / f"{name}{suffix}.png", _png_bytes(fig))
    return written
