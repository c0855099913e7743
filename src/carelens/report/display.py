"""Table rows as display tables: formatted cells the HTML template prints (and escapes).

Colour is kept for verdicts: a significant result is marked by weight and a mark ("●"), a negative gap
by its sign, never by colour.
"""

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

SIGNIFICANT_MARK = "●"

TEST_NAMES = {
    "t": "paired t-test",
    "paired_t": "paired t-test",
    "welch_t": "Welch's t-test",
    "student_t": "Student's t-test",
    "wilcoxon": "Wilcoxon signed-rank test",
    "permutation": "paired permutation test",
    "welch": "Welch's t-test",
    "mann_whitney": "Mann-Whitney U test",
    "student": "Student's t-test",
    "student_t_paper": "Student's t on single replies, uncorrected (the paper's method)",
    "mcnemar": "McNemar's test",
    "fisher": "Fisher's exact test",
}
EFFECT_NAMES = {
    "cohens_d": "Cohen's d",
    "cohens_dz": "Cohen's d_z",
    "hedges_g": "Hedges' g",
    "cliffs_delta": "Cliff's delta",
    "rank_biserial": "matched-pairs rank-biserial r",
    "matched_rank_biserial": "matched-pairs rank-biserial r",
    "rate_difference": "difference of rates",
    "risk_difference": "difference of rates",
    "mean_difference": "difference of means",
}
SHORT_EFFECT = {
    "cohens_d": "d",
    "cohens_dz": "dz",
    "hedges_g": "g",
    "cliffs_delta": "δ",
    "rank_biserial": "r",
    "matched_rank_biserial": "r",
    "rate_difference": "Δ",
    "risk_difference": "Δ",
    "mean_difference": "Δ",
}


@dataclass
class Cell:
    """A formatted cell and its CSS classes (``num``, ``label``, ``sig``, ``text``, ``one``, ``ci`` ...)."""

    text: str
    css: str = ""


@dataclass
class Table:
    """A table of formatted cells; ``css`` is added to the table element (e.g. ``kv``)."""

    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    css: str = ""


def missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def num(value: Any, digits: int = 3) -> str:
    if missing(value):
        return "–"
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if digits > 0 and value != 0 and abs(value) < 10 ** -(digits - 1):
        return f"{value:.{max(1, digits - 1)}g}"  # small values keep their significant digits
    return f"{value:.{digits}f}"


def signed(value: Any, digits: int = 3) -> str:
    return "–" if missing(value) else ("+" if float(value) > 0 else "") + num(value, digits)


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


def test_name(test: Any) -> str:
    return TEST_NAMES.get(str(test), str(test))


def effect_name(name: Any) -> str:
    return EFFECT_NAMES.get(str(name), str(name))


def words(value: Any) -> str:
    """A plan value of any shape in words: dicts as 'key: value; …', lists joined by commas."""
    if missing(value):
        return "–"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {words(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(words(v) for v in value)
    return str(value)


def pct_gap(row: pd.Series | dict[str, Any], with_ci: bool = True) -> str:
    """The % gap and its CI; 'undefined' with the raw difference when the reference mean is 0."""
    if missing(row.get("pct_diff")):
        if missing(row.get("estimate")):
            return "–"
        return f"undefined (reference mean 0); Δ {signed(row.get('estimate'))}"
    text = pct(row["pct_diff"])
    if with_ci:
        text += f" {interval(row.get('pct_ci_low'), row.get('pct_ci_high'), pct)}"
    return text


def is_true(value: Any) -> bool:
    return not missing(value) and bool(value)


def significance_cell(row: pd.Series | dict[str, Any]) -> Cell:
    """The corrected p-value, bold and marked where significant after correction."""
    if is_true(row.get("significant")):
        return Cell(f"{pval(row.get('p_adj'))} {SIGNIFICANT_MARK}", "num sig")
    return Cell(pval(row.get("p_adj")), "num")


def mde_cell(row: pd.Series | dict[str, Any]) -> Cell:
    """The minimal detectable difference, shown where the comparison is not significant."""
    if is_true(row.get("significant")) or missing(row.get("mde")):
        return Cell("")
    extra = "" if missing(row.get("mde_pct")) else f" ({pct(row.get('mde_pct'), signed=False)})"
    return Cell(f"±{num(row['mde'], 2)}{extra}", "ci muted")


def effect_cell(row: pd.Series | dict[str, Any]) -> Cell:
    short = SHORT_EFFECT.get(str(row.get("effect_name")), str(row.get("effect_name") or ""))
    if missing(row.get("effect")):
        return Cell("–", "num")
    ci = interval(row.get("ci_low"), row.get("ci_high"), lambda v: num(v, 2))
    return Cell(f"{short} {num(row['effect'], 2)} {ci}".strip(), "ci")


def sizes(row: pd.Series | dict[str, Any]) -> str:
    """Posts (and replies) on each side; one count for a paired comparison."""
    if is_true(row.get("paired")):
        posts = f"{num(row.get('n_posts'), 0)} paired"
    else:
        posts = f"{num(row.get('n_posts'), 0)} / {num(row.get('ref_n_posts'), 0)}"
    replies = f"{num(row.get('n_responses'), 0)} / {num(row.get('ref_n_responses'), 0)}"
    return f"{posts} ({replies} replies)"


def label_cell(text: Any) -> Cell:
    """A label that breaks only between words (a single token such as 'recorded:gpt-4' stays whole)."""
    text = "–" if missing(text) else str(text)
    return Cell(text, "label" if " " in text.strip() else "label one")


def frame_table(frame: pd.DataFrame, formats: dict[str, Callable[[Any], str]] | None = None) -> Table:
    """A plain frame as a table; floats get 3 decimals unless ``formats`` says otherwise."""
    formats = formats or {}
    table = Table([str(c) for c in frame.columns])
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            fmt = formats.get(str(column))
            if fmt is not None:
                cells.append(Cell(fmt(value), "num"))
            elif isinstance(value, float):
                cells.append(Cell(num(value), "num"))
            else:
                cells.append(Cell("–" if missing(value) else str(value)))
        table.rows.append(cells)
    return table


def key_values(values: dict[str, Any]) -> Table:
    table = Table(["", ""], css="kv")
    for key, value in values.items():
        text = (
            json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else str(value)
        )
        table.rows.append([Cell(str(key)), Cell(text, "text")])
    return table


def comparison_table(
    rows: pd.DataFrame,
    label: Callable[[pd.Series], Sequence[str]],
    label_columns: list[str],
) -> Table:
    """Tested comparisons: sizes, means, the gap and its CIs, test, p, p adj., effect and the MDE."""
    table = Table(
        [
            *label_columns,
            "posts (replies)",
            "mean vs ref.",
            "difference [CI]",
            "% diff [CI]",
            "test · p",
            "p adj.",
            "effect [CI]",
            "MDE if n.s.",
        ]
    )
    for _, row in rows.iterrows():
        cells = [label_cell(v) for v in label(row)]
        cells += [
            Cell(sizes(row), "ci"),
            Cell(f"{num(row['mean'])} vs {num(row['ref_mean'])}", "ci"),
            Cell(
                f"{signed(row['estimate'])} {interval(row['estimate_ci_low'], row['estimate_ci_high'])}",
                "ci",
            ),
            Cell(pct_gap(row), "ci"),
            Cell(f"{row['test']} · {pval(row['p'])}", "num"),
            significance_cell(row),
            effect_cell(row),
            mde_cell(row),
        ]
        table.rows.append(cells)
    return table
