"""Read and check clinicians' answers in long form: ``item_id, rater_id, question, value``.

A plain CSV may call the first two ``item`` and ``rater``; it may add each item's ``source``
(``ai``/``human``) and ``response_id``. N/A is stored as ``NA`` (``N/A``, ``n/a``, ``not applicable``
are read as it). A question asked once per rater (``AI_SHARE``) has one row per rater; its item id
names the round (the export writes the round id) and is otherwise ignored.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from carelens.errors import CarelensError
from carelens.review.questions import BY_KEY, NA, percent

NA_TOKENS = {"NA", "N/A", "N.A.", "NOT APPLICABLE"}
COLUMN_ALIASES = {"item": "item_id", "rater": "rater_id"}


def _value(spec_key: str, raw: str, where: str) -> str:
    spec = BY_KEY[spec_key]
    if spec.kind == "text":
        return raw
    if spec.kind == "percent":
        value = percent(raw)
        if value is None:
            raise CarelensError(f"'{raw}' is not an answer to {spec_key}; allowed: a percentage 0-100",
                                where=where)
        return value
    value = NA if raw.upper() in NA_TOKENS else raw.lower() if spec.kind == "nominal" else raw
    if value.endswith(".0") and value[:-2] in spec.levels:
        value = value[:-2]
    if value not in spec.choices:
        raise CarelensError(f"'{raw}' is not an answer to {spec_key}; allowed: {', '.join(spec.choices)}",
                            where=where)
    return value


def normalise(frame: pd.DataFrame, where: str, first_line: int = 2) -> pd.DataFrame:
    """Check and tidy answers: known questions, valid values, N/A spelled ``NA``, no duplicates.

    Errors name ``where`` and the line (``first_line`` is the line of row 0: 2 for a CSV with a header).
    """
    frame = frame.rename(columns=COLUMN_ALIASES)
    missing = [c for c in ("item_id", "rater_id", "question", "value") if c not in frame.columns]
    if missing:
        raise CarelensError(f"ratings lack columns {missing} (need item, rater, question, value)",
                            where=where)
    out = frame.copy()
    for col in ("item_id", "rater_id", "question", "value"):
        out[col] = out[col].astype("string").fillna("").str.strip()
    out["question"] = out["question"].str.upper()
    for i, row in enumerate(out.itertuples(index=False)):
        line = f"{where}:{i + first_line}"
        if not row.item_id or not row.rater_id:
            raise CarelensError("empty item or rater", where=line)
        if row.question not in BY_KEY:
            raise CarelensError(f"unknown question '{row.question}'; known: {', '.join(BY_KEY)}", where=line)
        out.iat[i, out.columns.get_loc("value")] = _value(row.question, row.value, line)
    keys = pd.Series([(r.rater_id, r.question) if BY_KEY[r.question].per_rater else
                      (r.item_id, r.rater_id, r.question) for r in out.itertuples(index=False)])
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        what = "a once-per-rater question" if len(keys[first]) == 2 else "the same question of the same item"
        raise CarelensError(f"the same rater answers {what} twice", where=f"{where}:{first + first_line}")
    return out


def read_ratings_csv(path: Path) -> pd.DataFrame:
    """Answers from a CSV with columns item, rater, question, value (and optionally source, response_id)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CarelensError(f"cannot read ratings: {exc}", where=str(path)) from None
    return normalise(frame, str(path))
