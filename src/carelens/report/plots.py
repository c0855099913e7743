"""The report's figures as PNG bytes (matplotlib, Agg backend), drawn from the analysis tables.

One colour meaning per report: colour is the group, in every figure, from one mapping (``GroupColours``).
Significance is shown by the marker's fill (filled: significant after correction; open: not), never by
colour. Intervals are drawn as the tables give them and clipped to the metric's scale.
"""

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

# Colour-blind-safe hues that stay clear of the verdict colours (green, amber, red, purple, grey).
PALETTE = ("#0072B2", "#CC79A7", "#117777", "#56B4E9", "#332288", "#88CCEE", "#444444", "#AA9944")
Scale = tuple[float, float] | None


class GroupColours:
    """The colour of each group, fixed for the whole report (reference group first)."""

    def __init__(self, groups: Sequence[str]) -> None:
        self.order = list(dict.fromkeys(str(g) for g in groups))
        self.colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(self.order)}

    def __call__(self, group: str) -> str:
        if group not in self.colours:
            self.order.append(group)
            self.colours[group] = PALETTE[(len(self.order) - 1) % len(PALETTE)]
        return self.colours[group]


def clip(low: float, high: float, scale: Scale) -> tuple[float, float]:
    """An interval clipped to the metric's scale (a 0-2 metric's mean interval never goes below 0)."""
    if scale is None:
        return low, high
    return float(np.clip(low, *scale)), float(np.clip(high, *scale))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _axes_labels(axis: Axes, labels: list[str]) -> None:
    longest = max((len(line) for label in labels for line in label.split("\n")), default=0)
    tilt = longest * len(labels) > 60
    axis.set_xticks(
        range(len(labels)), labels, rotation=25 if tilt else 0, ha="right" if tilt else "center", fontsize=9
    )


def means_plot(
    cells: pd.DataFrame,
    x: str,
    x_order: Sequence[str],
    colours: GroupColours,
    title: str,
    ylabel: str,
    scale: Scale,
) -> bytes:
    """One mean per ``x`` level and group (``mean``, ``ci_low``, ``ci_high``, ``group`` columns), side by
    side, each with its interval as a line, clipped to ``scale``."""
    groups = [g for g in colours.order if g in set(cells["group"])]
    groups += sorted(set(cells["group"]) - set(groups))
    width = 0.7 / max(1, len(groups))
    figure, axis = plt.subplots(figsize=(max(6.5, 1.0 * len(x_order) * max(1, len(groups)) ** 0.5 + 2), 4.0))
    for j, group in enumerate(groups):
        colour = colours(group)
        offset = (j - (len(groups) - 1) / 2) * width
        rows = cells[cells["group"] == group]
        for i, level in enumerate(x_order):
            row = rows[rows[x] == level]
            if row.empty or pd.isna(row["mean"].iloc[0]):
                continue
            mean, low, high = (float(row[c].iloc[0]) for c in ("mean", "ci_low", "ci_high"))
            if np.isfinite(low) and np.isfinite(high):
                low, high = clip(low, high, scale)
                axis.plot([i + offset, i + offset], [low, high], color=colour, linewidth=2)
            axis.plot(i + offset, mean, "o", color=colour, markersize=6)
        axis.plot([], [], "o-", color=colour, label=group)
    _axes_labels(axis, list(x_order))
    axis.set_xlim(-0.6, len(x_order) - 0.4)
    if scale is not None:
        pad = 0.04 * (scale[1] - scale[0])
        axis.set_ylim(scale[0] - pad, scale[1] + pad)
    axis.set_title(title, fontsize=11)
    axis.set_ylabel(ylabel)
    axis.grid(axis="y", alpha=0.3)
    axis.legend(title="group", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(figure)


def forest(rows: pd.DataFrame, title: str, colours: GroupColours, xlabel: str) -> bytes:
    """One line per comparison (``label``): the % gap and its CI in the group's colour; filled marker
    where significant after correction, open where not; an undefined % gap is written out."""
    rows = rows.reset_index(drop=True)
    height = max(2.2, 0.3 * len(rows) + 1.3)
    figure, axis = plt.subplots(figsize=(9.0, height))
    y = np.arange(len(rows))[::-1]
    for yi, (_, row) in zip(y, rows.iterrows(), strict=True):
        colour = colours(str(row["group"]))
        significant = bool(row["significant"]) if pd.notna(row.get("significant")) else False
        low, high = row.get("pct_ci_low"), row.get("pct_ci_high")
        if pd.isna(row["pct_diff"]):
            raw = row.get("estimate")
            note = "% undefined (reference mean 0)"
            if pd.notna(raw):
                note += f"; Δ = {float(raw):+.3f}"
            axis.text(
                0,
                yi,
                note,
                va="center",
                fontsize=8,
                color="#333333",
                bbox={"facecolor": "white", "edgecolor": "#999999", "pad": 1.5, "linewidth": 0.5},
            )
            continue
        if pd.notna(low) and pd.notna(high):
            axis.plot([low, high], [yi, yi], color=colour, linewidth=1.8)
        axis.plot(
            row["pct_diff"],
            yi,
            "o",
            markersize=7,
            markeredgecolor=colour,
            markerfacecolor=colour if significant else "white",
            markeredgewidth=1.6,
        )
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_yticks(y, rows["label"].tolist(), fontsize=8)
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=11)
    axis.grid(axis="x", alpha=0.3)
    handles = [
        Line2D([], [], marker="o", color=colours(g), linewidth=1.8, label=g)
        for g in colours.order
        if g in set(rows["group"].astype(str))
    ]
    handles += [
        Line2D([], [], marker="o", linestyle="", color="black", label="significant (corrected)"),
        Line2D(
            [], [], marker="o", linestyle="", color="black", markerfacecolor="white", label="not significant"
        ),
    ]
    axis.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(figure)
