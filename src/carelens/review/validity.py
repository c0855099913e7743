"""The automatic scorer against each clinician, beside the clinicians against each other.

``METRIC_OF`` maps a rated question to the scorer metric that estimates it: the EPITOME mechanisms
(``ER``, ``IP``, ``EX``: metrics of the same name, 0-2) and the MITI globals (``MITI_CCT`` ->
``mi_change_talk``, ``MITI_SST`` -> ``mi_sustain_talk``, ``MITI_PARTNERSHIP`` -> ``mi_partnership``,
1-5). A scorer's value is rounded to the nearest level and clipped to the scale (``rounded`` says so).
A missing value (NaN) of a question that allows N/A is the scorer's N/A, treated like a clinician's
under the N/A convention (see ``reliability``); of any other question it is left out and counted in
``not_scored``, as are rated items the scorer has no row for.

``scorer_vs_clinicians`` is the public entry point (``carelens review agreement`` and
``carelens models validate`` both use it).
"""

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from carelens.errors import CarelensError
from carelens.review.questions import BY_KEY, NA, Question
from carelens.review.ratings import normalise
from carelens.review.reliability import alpha_with_ci, check_na, numeric, pair_stats

METRIC_OF: dict[str, str] = {"ER": "ER", "IP": "IP", "EX": "EX", "MITI_CCT": "mi_change_talk",
                             "MITI_SST": "mi_sustain_talk", "MITI_PARTNERSHIP": "mi_partnership"}
COLUMNS = ["question", "metric", "comparison", "a", "b", "n", "exact", "kappa", "kappa_quadratic", "alpha",
           "both_na", "one_na", "not_scored", "rounded"]
STATS = ("n", "exact", "kappa", "kappa_quadratic", "alpha", "both_na", "one_na")


def scorer_labels(scores: pd.DataFrame, spec: Question) -> dict[str, tuple[pd.Series, bool]]:
    """Per scorer of ``METRIC_OF[spec.key]``: its answers as levels (indexed by response id; ``NA`` for
    the scorer's N/A) and whether any value had to be rounded or clipped."""
    metric = scores[scores["metric"] == METRIC_OF[spec.key]]
    levels = [float(v) for v in spec.levels]
    out = {}
    for scorer, sub in metric.groupby("scorer"):
        last = sub.drop_duplicates("response_id", keep="last").set_index("response_id")
        values = pd.to_numeric(last["value"], errors="coerce")
        present = values.dropna()
        as_level = present.round().clip(min(levels), max(levels))
        rounded = bool((as_level != present).any())
        labels = as_level.astype(int).astype(str)
        if spec.allows_na:
            labels = pd.concat([labels, pd.Series(NA, index=values.index[values.isna()])])
        out[str(scorer)] = (labels.astype(object), rounded)
    return out


def compare_question(frame: pd.DataFrame, scores: pd.DataFrame | None, question: str, raters: list[str],
                     na: str = "exclude") -> dict[str, Any]:
    """Clinician pairs and each scorer against each clinician on one question.

    ``frame``: normalised answers with ``response_id``. Returns ``{"metric", "inter_clinician": [pair],
    "scorers": [{"scorer", "rater", <pair stats>, "not_scored", "rounded"}]}``.
    """
    spec = BY_KEY[question]
    wide = frame[frame["question"] == question].pivot(index="item_id", columns="rater_id", values="value")
    inter = [{"raters": [a, b], **pair_stats(wide[a].dropna(), wide[b].dropna(), spec, na)}
             for a, b in itertools.combinations(raters, 2) if a in wide and b in wide]
    entry: dict[str, Any] = {"metric": METRIC_OF[question], "inter_clinician": inter, "scorers": []}
    if scores is None:
        return entry
    response_of = frame.drop_duplicates("item_id").set_index("item_id")["response_id"]
    for scorer, (labels, rounded) in scorer_labels(scores, spec).items():
        machine = response_of.map(labels).dropna()
        for rater in raters:
            if rater not in wide:
                continue
            human = wide[rater].dropna()
            entry["scorers"].append({"scorer": scorer, "rater": rater, **pair_stats(machine, human, spec, na),
                                     "not_scored": int((~human.index.isin(machine.index)).sum()),
                                     "rounded": rounded})
    return entry


def _prepare(ratings: pd.DataFrame, scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = ratings if {"item_id", "rater_id"} <= set(ratings.columns) else ratings.rename(
        columns={"item": "item_id", "rater": "rater_id"})
    frame = normalise(frame, "ratings")
    for col in ("item_id", "rater_id", "question", "value"):
        frame[col] = frame[col].astype(str).astype(object)
    frame["response_id"] = (frame["response_id"].astype(str) if "response_id" in frame else frame["item_id"])
    scores = scores.copy()
    if "response_id" not in scores:
        if "item_id" not in scores:
            raise CarelensError("scores lack a response_id (or item_id) column", where="scores")
        scores["response_id"] = scores["item_id"].map(
            frame.drop_duplicates("item_id").set_index("item_id")["response_id"])
    if "scorer" not in scores:
        scores["scorer"] = "scorer"
    missing = [c for c in ("metric", "value") if c not in scores]
    if missing:
        raise CarelensError(f"scores lack columns {missing}", where="scores")
    scores["response_id"] = scores["response_id"].astype(str)
    return frame, scores


def scorer_vs_clinicians(ratings: pd.DataFrame, scores: pd.DataFrame, *, na: str = "exclude",
                         questions: Iterable[str] | None = None) -> pd.DataFrame:
    """The scorer against each clinician beside the clinicians against each other, per question.

    ``ratings``: one answer per row, columns ``item_id`` (or ``item``), ``rater_id`` (or ``rater``),
    ``question``, ``value`` (as in the ``ratings`` table; ``NA`` or ``N/A`` for N/A), optionally
    ``response_id`` (the key into ``scores``; the item id otherwise). ``scores``: ``response_id`` (or
    ``item_id``), ``metric``, ``value``, optionally ``scorer``. ``na``: ``exclude`` or ``category``.
    ``questions``: which of ``METRIC_OF`` to compare (default: all that were rated).

    Returns one row per comparison with ``COLUMNS``: ``comparison`` is ``scorer_vs_clinician`` (``a`` the
    scorer, ``b`` the rater), ``clinician_vs_clinician`` (``a``, ``b`` raters) or ``clinicians`` (every
    rater together: ``n`` items with two or more answers, ``alpha`` only). ``n`` counts rated pairs.
    """
    check_na(na)
    frame, scores = _prepare(ratings, scores)
    raters = sorted(frame["rater_id"].unique())
    wanted = list(questions) if questions is not None else list(METRIC_OF)
    unknown = [q for q in wanted if q not in METRIC_OF]
    if unknown:
        raise CarelensError(f"no scorer metric for {unknown}; known: {', '.join(METRIC_OF)}",
                            where="questions")
    rows: list[dict[str, Any]] = []
    for question in wanted:
        rated = frame[frame["question"] == question]
        if rated.empty:
            continue
        spec, metric = BY_KEY[question], METRIC_OF[question]
        entry = compare_question(frame, scores, question, raters, na)
        wide = rated.pivot(index="item_id", columns="rater_id", values="value")
        matrix = np.vstack([numeric(wide[r], spec, na).to_numpy(dtype=float) for r in wide.columns])
        joint = alpha_with_ci(matrix, spec, 0, np.random.default_rng(0), 0.95, na)
        rows.append({"question": question, "metric": metric, "comparison": "clinicians", "a": "all", "b": "",
                     "n": joint["alpha_items"], "alpha": joint["alpha"]})
        for pair in entry["inter_clinician"]:
            rows.append({"question": question, "metric": metric, "comparison": "clinician_vs_clinician",
                         "a": pair["raters"][0], "b": pair["raters"][1], **{k: pair[k] for k in STATS}})
        for s in entry["scorers"]:
            rows.append({"question": question, "metric": metric, "comparison": "scorer_vs_clinician",
                         "a": s["scorer"], "b": s["rater"], **{k: s[k] for k in STATS},
                         "not_scored": s["not_scored"], "rounded": s["rounded"]})
    return pd.DataFrame(rows, columns=COLUMNS)
