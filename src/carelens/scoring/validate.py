"""``carelens models validate SCORER --ratings FILE``: a scorer against a team's own raters.

FILE holds clinician-rated items, one answer per row, as CSV or TSV (header row), JSON Lines (one
object per line) or Parquet, read as the data stage reads files, with the fields

- ``item_id``: the rated item (any text; the same item always carries the same post and response),
- ``post``: the text the responder saw, ``response``: the rated reply,
- ``rater``: who answered, ``question``: ``ER``, ``IP``, ``EX`` (EPITOME, 0-2) or ``MITI_CCT``,
  ``MITI_SST``, ``MITI_PARTNERSHIP`` (MITI 4.2.1 globals, 1-5; ``NA`` where the question allows it),
- ``value``: the answer.

Every item is scored once with the scorer; each question the scorer answers (``ER``/``IP``/``EX``
from its metrics of those names, or ``judge_<question>``; the MITI questions from
``mi_change_talk``, ``mi_sustain_talk``, ``mi_partnership``) is then compared with each rater and
each pair of raters: Cohen's kappa unweighted and with quadratic weights, exact agreement and the
number of items both answered, computed by ``carelens.review.agreement.pair_stats`` (the figures of
``carelens review agreement``).
"""

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carelens.datasets.records import read_records
from carelens.errors import CarelensError
from carelens.review.agreement import pair_stats
from carelens.review.questions import BY_KEY, NA, Question

FIELDS = ("item_id", "post", "response", "rater", "question", "value")
QUESTION_METRICS = {
    "ER": ("ER", "judge_ER"),
    "IP": ("IP", "judge_IP"),
    "EX": ("EX", "judge_EX"),
    "MITI_CCT": ("mi_change_talk", "judge_MITI_CCT"),
    "MITI_SST": ("mi_sustain_talk", "judge_MITI_SST"),
    "MITI_PARTNERSHIP": ("mi_partnership", "judge_MITI_PARTNERSHIP"),
}
SCORER_RATER = "scorer"


def _read(path: Path) -> pd.DataFrame:
    """The records of FILE (CSV, TSV, JSONL or Parquet) as strings, each with the line it starts on."""
    if not path.is_file():
        raise CarelensError("no such file", where=str(path))
    rows = [
        {k: "" if v is None else str(v) for k, v in record.items()} | {"line_no": line}
        for line, record in read_records(path)
    ]
    return pd.DataFrame(rows).fillna("")


def read_rated_items(path: Path) -> pd.DataFrame:
    """The answers of FILE, checked: known questions, values on each question's scale, one text per
    item, one answer per (item, rater, question). Any problem is a CarelensError naming the line."""
    frame = _read(path)
    missing = [f for f in FIELDS if f not in frame.columns]
    if missing or frame.empty:
        raise CarelensError(
            f"needs the fields {', '.join(FIELDS)}"
            + (f"; missing {', '.join(missing)}" if missing else "; no rows"),
            where=str(path),
        )
    for row in frame.itertuples(index=False):
        where = f"{path}:{row.line_no}"
        for field in ("item_id", "post", "response", "rater", "question", "value"):
            if field != "post" and not str(getattr(row, field)).strip():
                raise CarelensError(f"empty {field}", where=where)
        spec = BY_KEY.get(str(row.question).strip())
        if spec is None or spec.key not in QUESTION_METRICS:
            raise CarelensError(
                f"unknown question '{row.question}'; allowed: {', '.join(QUESTION_METRICS)}", where=where
            )
        value = (
            str(row.value).strip().upper() if str(row.value).strip().upper() == NA else str(row.value).strip()
        )
        allowed = [*spec.levels, *([NA] if spec.allows_na else [])]
        if value not in allowed:
            raise CarelensError(
                f"{spec.key} value '{row.value}' is not one of {', '.join(allowed)}", where=where
            )
    frame = frame.assign(
        question=frame["question"].str.strip(),
        value=frame["value"].str.strip().map(lambda v: NA if v.upper() == NA else v),
        item_id=frame["item_id"].str.strip(),
        rater=frame["rater"].str.strip(),
    )
    texts = frame.groupby("item_id")[["post", "response"]].nunique()
    clash = texts[(texts > 1).any(axis=1)]
    if len(clash):
        item = clash.index[0]
        line = int(frame.loc[frame["item_id"] == item, "line_no"].iloc[1])
        raise CarelensError(
            f"item '{item}' appears with different post or response texts", where=f"{path}:{line}"
        )
    twice = frame.duplicated(["item_id", "rater", "question"])
    if twice.any():
        line = int(frame.loc[twice, "line_no"].iloc[0])
        raise CarelensError(
            "the same rater answers the same question of the same item twice", where=f"{path}:{line}"
        )
    return frame


def scorer_answers(scored: pd.DataFrame, metrics: tuple[str, ...], spec: Question) -> pd.Series | None:
    """The scorer's answers to ``spec`` as the rater's levels (rounded; NaN = NA), or None if it has none."""
    metric = next((m for m in QUESTION_METRICS[spec.key] if m in metrics), None)
    if metric is None:
        return None
    values = scored[metric]
    return values.map(lambda v: NA if not np.isfinite(v) else str(int(round(v))))


def validate(frame: pd.DataFrame, scored: pd.DataFrame, metrics: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per (question, comparison): scorer vs each rater, then each pair of raters.

    ``scored`` is indexed by item_id and has the scorer's metric columns.
    """
    rows: list[dict[str, Any]] = []
    for key in QUESTION_METRICS:
        answers = frame[frame["question"] == key]
        if answers.empty:
            continue
        spec = BY_KEY[key]
        by_rater = {r: g.set_index("item_id")["value"] for r, g in answers.groupby("rater", sort=True)}
        machine = scorer_answers(scored, metrics, spec)
        pairs: list[tuple[str, str, pd.Series, pd.Series]] = []
        if machine is not None:
            pairs += [(SCORER_RATER, rater, machine, values) for rater, values in by_rater.items()]
        pairs += [(a, b, by_rater[a], by_rater[b]) for a, b in combinations(by_rater, 2)]
        for a, b, x, y in pairs:
            rows.append({"question": key, "a": a, "b": b, **pair_stats(x, y, spec)})
    return rows


def table(rows: list[dict[str, Any]], scorer_name: str) -> str:
    """The comparison rows as a plain-text table."""

    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)

    head = f"{'question':<17} {'comparison':<40} {'n':>4} {'exact':>6} {'kappa':>6} {'quadr.':>6}"
    lines = [head, "-" * len(head)]
    for row in rows:
        a = scorer_name if row["a"] == SCORER_RATER else row["a"]
        lines.append(
            f"{row['question']:<17} {(a + ' vs ' + row['b'])[:40]:<40} {row['n']:>4} {fmt(row['exact']):>6} "
            f"{fmt(row['kappa']):>6} {fmt(row['kappa_quadratic']):>6}"
        )
    return "\n".join(lines)
