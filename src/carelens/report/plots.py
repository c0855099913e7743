"""The report's figures as PNG bytes (matplotlib, Agg backend): the paper's group x condition plots of
empathy, and forest plots of gaps with their confidence intervals.

A metric on a few levels (EPITOME's 0/1/2) makes box plots collapse onto the levels, so such metrics
are drawn as means with 95% t intervals; others as box plots with their means marked.
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
from scipy import stats  # noqa: E402

PALETTE = ("#3366aa", "#dd7733", "#33aa77", "#aa3377", "#77aadd", "#bbbb33", "#994455", "#555555")
SIGNIFICANT, NOT_SIGNIFICANT = "#c0392b", "#6c7a89"
FEW_LEVELS = 5


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def unit_values(frame: pd.DataFrame, aggregate: str) -> np.ndarray:
    """The values a figure shows: post means or single replies."""
    values = frame.groupby("post_id")["value"].mean() if aggregate == "post" else frame["value"]
    return values.to_numpy(float)


def is_discrete(values: pd.Series) -> bool:
    """True for a metric on a few levels (e.g. 0/1/2), whose box plots would collapse."""
    return values.nunique() <= FEW_LEVELS


def _mean_ci(values: np.ndarray) -> tuple[float, float]:
    mean = float(np.mean(values))
    if len(values) < 2 or np.std(values) == 0:
        return mean, 0.0
    return mean, float(stats.t.ppf(0.975, len(values) - 1) * stats.sem(values))


def _axes_labels(axis: Axes, labels: list[str]) -> None:
    tilt = (
        len(labels) > 4 or max(len(line) for label in labels for line in label.split("\n")) * len(labels) > 70
    )
    axis.set_xticks(
        range(len(labels)), labels, rotation=25 if tilt else 0, ha="right" if tilt else "center", fontsize=9
    )


def group_plot(
    frame: pd.DataFrame,
    x: str,
    hue: str,
    title: str,
    ylabel: str,
    aggregate: str,
    x_order: Sequence[str] | None = None,
) -> bytes:
    """``value`` per ``x`` level with one element per ``hue`` level side by side: box plots (means as
    diamonds), or means with 95% CIs when the metric has few levels."""
    xs = list(x_order) if x_order else sorted(frame[x].unique())
    hues = sorted(frame[hue].unique())
    discrete = is_discrete(frame["value"])
    width = 0.8 / max(1, len(hues))
    figure, axis = plt.subplots(figsize=(max(6.0, 1.1 * len(xs) * max(1, len(hues)) ** 0.5 + 2), 4.2))
    for j, level in enumerate(hues):
        colour = PALETTE[j % len(PALETTE)]
        offset = (j - (len(hues) - 1) / 2) * width
        subsets = [
            (i + offset, frame[(frame[x] == group) & (frame[hue] == level)]) for i, group in enumerate(xs)
        ]
        positions = [p for p, subset in subsets if len(subset)]
        data = [unit_values(subset, aggregate) for _, subset in subsets if len(subset)]
        if not data:
            continue
        if discrete:
            means, errors = zip(*(_mean_ci(v) for v in data), strict=True)
            axis.bar(
                positions,
                means,
                width=width * 0.85,
                color=colour,
                alpha=0.8,
                yerr=errors,
                capsize=3,
                error_kw={"elinewidth": 1},
            )
        else:
            parts = axis.boxplot(
                data,
                positions=positions,
                widths=width * 0.85,
                patch_artist=True,
                showmeans=True,
                meanprops={
                    "marker": "D",
                    "markerfacecolor": "white",
                    "markeredgecolor": "black",
                    "markersize": 5,
                },
                medianprops={"color": "black"},
                flierprops={"markersize": 3, "alpha": 0.5},
            )
            for box in parts["boxes"]:
                box.set_facecolor(colour)
                box.set_alpha(0.75)
        axis.plot([], [], "s", color=colour, label=str(level))
    _axes_labels(axis, [str(v) for v in xs])
    axis.set_title(title, fontsize=11)
    axis.set_ylabel(f"mean {ylabel} (95% CI)" if discrete else ylabel)
    axis.grid(axis="y", alpha=0.3)
    if len(hues) > 1:
        axis.legend(title=hue, fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(figure)


def forest(
    rows: pd.DataFrame, title: str, xlabel: str = "% difference from the reference (bootstrap CI)"
) -> bytes:
    """One line per comparison (``label``): the % gap and its CI, red where significant after correction."""
    rows = rows.reset_index(drop=True)
    height = max(2.2, 0.28 * len(rows) + 1.2)
    figure, axis = plt.subplots(figsize=(8.5, height))
    y = np.arange(len(rows))[::-1]
    for yi, (_, row) in zip(y, rows.iterrows(), strict=True):
        colour = SIGNIFICANT if row.get("significant") is True else NOT_SIGNIFICANT
        low, high = row.get("pct_ci_low"), row.get("pct_ci_high")
        if pd.notna(low) and pd.notna(high):
            axis.plot([low, high], [yi, yi], color=colour, linewidth=1.6)
        if pd.notna(row["pct_diff"]):
            axis.plot(row["pct_diff"], yi, "o", color=colour, markersize=5)
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_yticks(y, rows["label"].tolist(), fontsize=8)
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=11)
    axis.grid(axis="x", alpha=0.3)
    axis.plot([], [], "o-", color=SIGNIFICANT, label="significant (corrected)")
    axis.plot([], [], "o-", color=NOT_SIGNIFICANT, label="not significant")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(figure)
