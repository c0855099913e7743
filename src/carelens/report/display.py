"""Frames and findings as display tables: formatted cells the HTML template prints (and escapes)."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Cell:
    """A formatted cell and an optional CSS class (e.g. ``sig`` for a significant p-value)."""

    text: str
    css: str = ""


@dataclass
class Table:
    """A titled table of formatted cells."""

    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


SHORT_EFFECT = {"cohens_d": "d", "cohens_dz": "dz", "cliffs_delta": "δ", "rate_difference": "Δ", "coef": "b"}


def missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def num(value: Any, digits: int = 3) -> str:
    if missing(value):
        return "–"
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if digits > 0 and value != 0 and abs(value) < 10 ** -(digits - 1):
        return f"{value:.{digits}g}"  # small values keep their significant digits
    return f"{value:.{digits}f}"


def pct(value: Any, signed: bool = True) -> str:
    if missing(value):
        return "–"
    return f"{float(value):+.1f}%" if signed else f"{float(value):.1f}%"


def pval(value: Any) -> str:
    if missing(value):
        return "–"
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def interval(low: Any, high: Any, fmt: Callable[[Any], str] = num) -> str:
    if missing(low) or missing(high):
        return "–"
    return f"[{fmt(low)}, {fmt(high)}]"


def frame_table(frame: pd.DataFrame, formats: dict[str, Callable[[Any], str]] | None = None) -> Table:
    """A plain frame as a table; floats get 3 decimals unless ``formats`` says otherwise."""
    formats = formats or {}
    table = Table([str(c) for c in frame.columns])
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            fmt = formats.get(str(column))
            if fmt is not None:
                cells.append(Cell(fmt(value)))
            elif isinstance(value, float):
                cells.append(Cell(num(value)))
            else:
                cells.append(Cell("–" if missing(value) else str(value)))
        table.rows.append(cells)
    return table


def significance_cell(row: pd.Series) -> Cell:
    sig = row.get("significant")
    return Cell(pval(row.get("p_adj")), "num sig" if sig is True else "num")


def mde_cell(row: pd.Series) -> Cell:
    """The minimal detectable effect, shown where the comparison is not significant."""
    if row.get("significant") is True or missing(row.get("mde")):
        return Cell("")
    return Cell(f"±{num(row['mde'], 2)} ({pct(row.get('mde_pct'), signed=False)})", "num muted")


def comparison_table(
    rows: pd.DataFrame,
    label: Callable[[pd.Series], Sequence[str]],
    label_columns: list[str],
) -> Table:
    """Primary comparisons: sizes, means, the gap and its CI, test, p, p_adj, effect and the MDE."""
    columns = [
        *label_columns,
        "posts",
        "replies",
        "mean vs ref.",
        "% diff [CI]",
        "test",
        "p",
        "p adj.",
        "effect [CI]",
        "MDE if n.s.",
    ]
    table = Table(columns)
    for _, row in rows.iterrows():
        posts = (
            num(row["n_posts"], 0)
            if row["paired"]
            else f"{num(row['n_posts'], 0)} / {num(row['ref_n_posts'], 0)}"
        )
        cells = [Cell(str(v), "label") for v in label(row)]
        cells += [
            Cell(posts, "num"),
            Cell(f"{num(row['n'], 0)} / {num(row['ref_n'], 0)}", "num"),
            Cell(f"{num(row['mean'])} vs {num(row['ref_mean'])}", "num"),
            Cell(
                f"{pct(row['pct_diff'])} {interval(row['pct_ci_low'], row['pct_ci_high'], pct)}",
                "num neg" if row["pct_diff"] < 0 else "num",
            ),
            Cell(str(row["test"]), "num"),
            Cell(pval(row["p"]), "num"),
            significance_cell(row),
            Cell(
                f"{SHORT_EFFECT.get(str(row['effect_name']), '')} {num(row['effect'], 2)} "
                f"{interval(row['ci_low'], row['ci_high'], lambda v: num(v, 2))}".strip(),
                "num",
            ),
            mde_cell(row),
        ]
        table.rows.append(cells)
    return table
