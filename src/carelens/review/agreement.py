"""Agreement between clinicians, their AI-guess accuracy, and the automatic scorer against each clinician.

Input: answers in long form (``item_id, rater_id, question, value``; a plain CSV may call the first two
``item`` and ``rater``), optionally with each item's ``source`` (``ai``/``human``, for the guess accuracy)
and ``response_id`` (to find the scorer's scores; the item id is used when it is absent). N/A answers
(``NA``, ``N/A``) are counted, never scored: they are left out of every ordinal statistic.

Statistics: % exact agreement; Cohen's kappa (``sklearn.metrics.cohen_kappa_score``), unweighted and,
for ordinal scales, quadratic-weighted; Krippendorff's alpha (``krippendorff.alpha``; ordinal, nominal
for the AI guess) with a percentile bootstrap CI over items; guess accuracy with a Wilson CI and an
exact binomial test against chance (``scipy.stats.binomtest``).

``agreement.json`` (written to ``RUN/review/``) is an object::

    {
      "ratings_source": str,             # where the answers came from
      "n_items": int, "raters": [str],   # items with any answer; rater ids
      "bootstrap": {"resamples": int, "seed": int, "level": float},
      "questions": {                     # one entry per rated question (ER, IP, EX, MITI_*, AI_GUESS)
        Q: {"scale": "ordinal" | "nominal", "levels": [str], "n_items": int, "n_answers": int,
            "na": {"total": int, "by_rater": {rater: int}, "items_all_na": int, "items_mixed": int},
            "distribution": {rater: {level: int}},
            "alpha": float | null, "alpha_ci": [low, high] | null, "alpha_resamples_used": int,
            "alpha_items": int,          # items with two or more scored answers
            "pairs": [{"raters": [a, b], "n": int, "exact": float | null, "kappa": float | null,
                       "kappa_quadratic": float | null, "both_na": int, "one_na": int}]}
      },
      "comments": {rater: int},          # number of free-text comments (not analysed)
      "ai_guess": {rater: {"n": int, "correct": int, "accuracy": float, "ci": [low, high],
                           "p_vs_chance": float, "accuracy_on_ai": float | null,
                           "accuracy_on_human": float | null, "guessed_ai_share": float,
                           "true_ai_share": float}},           # {} when items carry no source
      "scorer_validity": {               # per EPITOME mechanism; {} without scores
        M: {"inter_clinician": [pair as above], "clinician_alpha": float | null,
            "scorers": [{"scorer": str, "rater": str, "n": int, "exact": float | null,
                         "kappa": float | null, "kappa_quadratic": float | null,
                         "alpha": float | null, "rounded": bool}]}
      },
      "notes": [str]                     # anything the reader must know (missing scores, rounding)
    }

Undefined statistics (no pairs; a single category) are ``null``. ``agreement.csv`` holds the same
figures as rows: section (alpha/pair/ai_guess/scorer), question, a, b, n, exact, kappa,
kappa_quadratic, alpha, ci_low, ci_high, na, accuracy, p.
"""

import itertools
import json
import math
import warnings
from pathlib import Path
from typing import Any, Literal

import krippendorff
import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score

from carelens.errors import CarelensError
from carelens.review.questions import BY_KEY, MECHANISMS, NA, Question
from carelens.store import atomic_path, write_text_atomic

NA_TOKENS = {"NA", "N/A", "N.A.", "NOT APPLICABLE"}
COLUMN_ALIASES = {"item": "item_id", "rater": "rater_id"}
SCORED = tuple(q.key for q in BY_KEY.values() if q.kind in ("ordinal", "nominal"))


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
        spec = BY_KEY.get(row.question)
        if spec is None:
            raise CarelensError(f"unknown question '{row.question}'; known: {', '.join(BY_KEY)}", where=line)
        value = row.value
        if spec.kind != "text":
            value = NA if value.upper() in NA_TOKENS else value.lower() if spec.kind == "nominal" else value
            if value.endswith(".0") and value[:-2] in spec.levels:
                value = value[:-2]
            if value not in spec.choices:
                raise CarelensError(f"'{row.value}' is not an answer to {row.question}; allowed: "
                                    f"{', '.join(spec.choices)}", where=line)
        out.iat[i, out.columns.get_loc("value")] = value
    dup = out.duplicated(["item_id", "rater_id", "question"], keep=False)
    if dup.any():
        first = int(np.flatnonzero(dup.to_numpy())[0])
        raise CarelensError("the same rater answers the same question of the same item twice",
                            where=f"{where}:{first + first_line}")
    return out


def read_ratings_csv(path: Path) -> pd.DataFrame:
    """Answers from a CSV with columns item, rater, question, value (and optionally source, response_id)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CarelensError(f"cannot read ratings: {exc}", where=str(path)) from None
    return normalise(frame, str(path))


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _kappa(a: list[str], b: list[str], levels: tuple[str, ...], weights: str | None) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _clean(cohen_kappa_score(a, b, labels=list(levels), weights=weights))


def pair_stats(a: pd.Series, b: pd.Series, spec: Question) -> dict[str, Any]:
    """Agreement of two coders over their shared items (series indexed by item; NA = N/A)."""
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    na_a, na_b = a == NA, b == NA
    scored = ~(na_a | na_b)
    x, y = list(a[scored]), list(b[scored])
    n = len(x)
    ordinal = spec.kind == "ordinal"
    levels = spec.levels  # in scale order, which the quadratic weights follow
    return {
        "n": n,
        "exact": float(np.mean(np.array(x) == np.array(y))) if n else None,
        "kappa": _kappa(x, y, levels, None) if n else None,
        "kappa_quadratic": _kappa(x, y, levels, "quadratic") if n and ordinal else None,
        "both_na": int((na_a & na_b).sum()),
        "one_na": int((na_a ^ na_b).sum()),
    }


def _numeric(values: pd.Series, spec: Question) -> pd.Series:
    """Scored answers as numbers for alpha (ordinal: the level; nominal: the level's index)."""
    if spec.kind == "ordinal":
        return pd.to_numeric(values.where(values != NA), errors="coerce")
    return values.map({level: float(i) for i, level in enumerate(spec.levels)})


def _alpha(matrix: np.ndarray, spec: Question) -> float | None:
    domain = sorted(float(v) for v in spec.levels) if spec.kind == "ordinal" else list(
        map(float, range(len(spec.levels))))
    if (np.sum(~np.isnan(matrix), axis=0) >= 2).sum() == 0:
        return None
    level: Literal["ordinal", "nominal"] = "ordinal" if spec.kind == "ordinal" else "nominal"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _clean(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level,
                                         value_domain=domain))


def alpha_with_ci(matrix: np.ndarray, spec: Question, resamples: int, rng: np.random.Generator,
                  level: float) -> dict[str, Any]:
    """Alpha over a raters x items matrix (NaN = no scored answer), with a percentile bootstrap CI."""
    pairable = matrix[:, np.sum(~np.isnan(matrix), axis=0) >= 2]
    point = _alpha(pairable, spec) if pairable.shape[1] else None
    out: dict[str, Any] = {"alpha": point, "alpha_ci": None, "alpha_resamples_used": 0,
                           "alpha_items": int(pairable.shape[1])}
    if point is None or pairable.shape[1] < 2 or resamples < 1:
        return out
    draws = []
    for _ in range(resamples):
        value = _alpha(pairable[:, rng.integers(0, pairable.shape[1], pairable.shape[1])], spec)
        if value is not None:
            draws.append(value)
    if draws:
        tail = (1 - level) / 2
        out["alpha_ci"] = [float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))]
        out["alpha_resamples_used"] = len(draws)
    return out


def _question(frame: pd.DataFrame, spec: Question, raters: list[str], resamples: int,
              rng: np.random.Generator, level: float) -> dict[str, Any]:
    wide = frame.pivot(index="item_id", columns="rater_id", values="value")
    is_na = wide == NA
    answered = wide.notna()
    by_item_na = is_na.sum(axis=1)
    by_item_answered = answered.sum(axis=1)
    matrix = np.vstack([_numeric(wide[r], spec).to_numpy(dtype=float) if r in wide else
                        np.full(len(wide), np.nan) for r in raters])
    result: dict[str, Any] = {
        "scale": spec.kind, "levels": list(spec.levels), "n_items": int(len(wide)), "n_answers": len(frame),
        "na": {"total": int(is_na.to_numpy().sum()),
               "by_rater": {r: int(is_na[r].sum()) if r in is_na else 0 for r in raters},
               "items_all_na": int(((by_item_na == by_item_answered) & (by_item_na > 0)).sum()),
               "items_mixed": int(((by_item_na > 0) & (by_item_na < by_item_answered)).sum())},
        "distribution": {r: {lv: int((wide[r] == lv).sum()) if r in wide else 0 for lv in spec.choices}
                         for r in raters},
    }
    result.update(alpha_with_ci(matrix, spec, resamples, rng, level))
    result["pairs"] = [
        {"raters": [a, b], **pair_stats(wide[a].dropna(), wide[b].dropna(), spec)}
        for a, b in itertools.combinations(raters, 2) if a in wide and b in wide
    ]
    return result


def _guess_accuracy(frame: pd.DataFrame) -> dict[str, Any]:
    guesses = frame[(frame["question"] == "AI_GUESS") & frame["source"].isin(["ai", "human"])]
    out = {}
    for rater, sub in guesses.groupby("rater_id"):
        correct = sub["value"] == sub["source"]
        k, n = int(correct.sum()), len(sub)
        test = binomtest(k, n, 0.5)
        ci = test.proportion_ci(confidence_level=0.95, method="wilson")
        on_ai, on_human = correct[sub["source"] == "ai"], correct[sub["source"] == "human"]
        out[str(rater)] = {
            "n": n, "correct": k, "accuracy": k / n, "ci": [float(ci.low), float(ci.high)],
            "p_vs_chance": float(test.pvalue),
            "accuracy_on_ai": float(on_ai.mean()) if len(on_ai) else None,
            "accuracy_on_human": float(on_human.mean()) if len(on_human) else None,
            "guessed_ai_share": float((sub["value"] == "ai").mean()),
            "true_ai_share": float((sub["source"] == "ai").mean()),
        }
    return out


def _scorer_validity(frame: pd.DataFrame, scores: pd.DataFrame, raters: list[str],
                     questions: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    response_of = frame.drop_duplicates("item_id").set_index("item_id")["response_id"]
    for mechanism in MECHANISMS:
        if mechanism not in questions:
            continue
        spec = BY_KEY[mechanism]
        rated = frame[frame["question"] == mechanism]
        wide = rated.pivot(index="item_id", columns="rater_id", values="value")
        entry: dict[str, Any] = {"inter_clinician": questions[mechanism]["pairs"],
                                 "clinician_alpha": questions[mechanism]["alpha"], "scorers": []}
        metric = scores[scores["metric"] == mechanism]
        for scorer, sub in metric.groupby("scorer"):
            values = sub.drop_duplicates("response_id", keep="last").set_index("response_id")["value"]
            values = values.dropna()
            rounded = bool((values != values.round()).any())
            if rounded:
                notes.append(f"scorer '{scorer}' gave non-integer {mechanism} values; rounded to levels")
            levels = [float(v) for v in spec.levels]
            as_level = values.round().clip(min(levels), max(levels)).astype(int).astype(str)
            machine = response_of.map(as_level).dropna()
            for rater in raters:
                if rater not in wide:
                    continue
                human = wide[rater].dropna()
                stats = pair_stats(machine, human, spec)
                shared = machine.index.intersection(human.index)
                pair = np.vstack([_numeric(machine.loc[shared], spec).to_numpy(dtype=float),
                                  _numeric(human.loc[shared], spec).to_numpy(dtype=float)])
                entry["scorers"].append({"scorer": str(scorer), "rater": rater,
                                         **{k: stats[k] for k in ("n", "exact", "kappa", "kappa_quadratic")},
                                         "alpha": _alpha(pair, spec) if len(shared) else None,
                                         "rounded": rounded})
        out[mechanism] = entry
    return out


def compute_agreement(ratings: pd.DataFrame, scores: pd.DataFrame | None = None, *, source: str = "",
                      resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, Any]:
    """Every figure described in the module docstring, from normalised answers (see ``normalise``)."""
    frame = ratings.copy()
    for col in ("item_id", "rater_id", "question", "value"):  # plain str: missing pivot cells become NaN
        frame[col] = frame[col].astype(str).astype(object)
    if "response_id" not in frame:
        frame["response_id"] = frame["item_id"]
    if "source" not in frame:
        frame["source"] = pd.NA
    frame["source"] = frame["source"].astype("string").str.lower()
    raters = sorted(frame["rater_id"].unique())
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    questions = {}
    for key in SCORED:
        sub = frame[frame["question"] == key]
        if not sub.empty:
            questions[key] = _question(sub, BY_KEY[key], raters, resamples, rng, level)
    comments = frame[(frame["question"] == "COMMENT") & (frame["value"] != "")]
    guesses = _guess_accuracy(frame)
    if "AI_GUESS" in questions and not guesses:
        notes.append("items carry no source (ai/human): AI-guess accuracy not computed")
    if scores is None or scores.empty:
        validity: dict[str, Any] = {}
        notes.append("no scores: the automatic scorer is not compared with the clinicians")
    else:
        validity = _scorer_validity(frame, scores, raters, questions, notes)
        if not any(e["scorers"] for e in validity.values()):
            notes.append("no score of metric ER/IP/EX matches a rated response")
    return {
        "ratings_source": source, "n_items": int(frame["item_id"].nunique()), "raters": raters,
        "bootstrap": {"resamples": resamples, "seed": seed, "level": level},
        "questions": questions,
        "comments": {r: int((comments["rater_id"] == r).sum()) for r in raters},
        "ai_guess": guesses, "scorer_validity": validity, "notes": sorted(set(notes)),
    }


def agreement_rows(result: dict[str, Any]) -> pd.DataFrame:
    """The figures of ``compute_agreement`` as one flat table (the agreement.csv)."""
    rows: list[dict[str, Any]] = []
    for key, q in result["questions"].items():
        ci = q["alpha_ci"] or [None, None]
        rows.append({"section": "alpha", "question": key, "n": q["alpha_items"], "alpha": q["alpha"],
                     "ci_low": ci[0], "ci_high": ci[1], "na": q["na"]["total"]})
        for p in q["pairs"]:
            rows.append({"section": "pair", "question": key, "a": p["raters"][0], "b": p["raters"][1],
                         "n": p["n"], "exact": p["exact"], "kappa": p["kappa"],
                         "kappa_quadratic": p["kappa_quadratic"], "na": p["both_na"] + p["one_na"]})
    for rater, g in result["ai_guess"].items():
        rows.append({"section": "ai_guess", "question": "AI_GUESS", "a": rater, "n": g["n"],
                     "accuracy": g["accuracy"], "ci_low": g["ci"][0], "ci_high": g["ci"][1],
                     "p": g["p_vs_chance"]})
    for mechanism, entry in result["scorer_validity"].items():
        for s in entry["scorers"]:
            rows.append({"section": "scorer", "question": mechanism, "a": s["scorer"], "b": s["rater"],
                         "n": s["n"], "exact": s["exact"], "kappa": s["kappa"],
                         "kappa_quadratic": s["kappa_quadratic"], "alpha": s["alpha"]})
    columns = ["section", "question", "a", "b", "n", "exact", "kappa", "kappa_quadratic", "alpha", "ci_low",
               "ci_high", "na", "accuracy", "p"]
    return pd.DataFrame(rows, columns=columns)


def write_agreement(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write agreement.json and agreement.csv atomically; return their paths."""
    json_path, csv_path = out_dir / "agreement.json", out_dir / "agreement.csv"
    write_text_atomic(json_path, json.dumps(result, indent=2, allow_nan=False))
    with atomic_path(csv_path) as tmp:
        agreement_rows(result).to_csv(tmp, index=False)
    return [json_path, csv_path]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(result: dict[str, Any]) -> str:
    """Per question: pairs' exact agreement and kappas (mean over pairs), alpha with CI, N/A count."""
    lines = ["| question | items | exact | kappa | kappa (quadratic) | alpha [95% CI] | N/A |",
             "|---|---|---|---|---|---|---|"]
    for key, q in result["questions"].items():
        def mean(field: str, pairs: list[dict[str, Any]] = q["pairs"]) -> float | None:
            values = [p[field] for p in pairs if p[field] is not None]
            return float(np.mean(values)) if values else None
        ci = q["alpha_ci"]
        alpha = _fmt(q["alpha"]) + (f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "")
        lines.append(f"| {key} | {q['n_items']} | {_fmt(mean('exact'))} | {_fmt(mean('kappa'))} | "
                     f"{_fmt(mean('kappa_quadratic'))} | {alpha} | {q['na']['total']} |")
    for rater, g in result["ai_guess"].items():
        lines.append(f"\nAI guess, {rater}: {g['correct']}/{g['n']} correct ({_fmt(g['accuracy'])}, "
                     f"95% CI {_fmt(g['ci'][0])}-{_fmt(g['ci'][1])}, "
                     f"p vs chance {_fmt(g['p_vs_chance'], 3)})")
    for mechanism, entry in result["scorer_validity"].items():
        for s in entry["scorers"]:
            lines.append(f"\n{mechanism}: scorer {s['scorer']} vs {s['rater']}: n {s['n']}, exact "
                         f"{_fmt(s['exact'])}, kappa (quadratic) {_fmt(s['kappa_quadratic'])}, "
                         f"alpha {_fmt(s['alpha'])}")
    return "\n".join(lines).replace("\n\n", "\n")
