"""Agreement between clinicians, their AI guesses and AI-share estimates, and the scorer against each.

Input: answers in long form (see ``ratings``), optionally with each item's ``source`` (``ai``/``human``,
for the guess accuracy and the true AI share) and ``response_id`` (to find the scorer's scores; the item
id is used when it is absent). N/A answers are always counted (``na``); the N/A convention
(``reliability.NA_CONVENTIONS``: ``exclude``, the default, or ``category``) says whether they enter the
statistics. ``n`` of a pair and ``n_rated_pairs`` of a question count the pairs of answers that did.

Statistics: % exact agreement; Cohen's kappa (``sklearn.metrics.cohen_kappa_score``), unweighted and,
for ordinal scales, quadratic-weighted; Krippendorff's alpha (``krippendorff.alpha``; ordinal, nominal
for the AI guess and under ``category``) with a percentile bootstrap CI over items; guess accuracy with
a Wilson CI and an exact binomial test against chance (``scipy.stats.binomtest``).

``agreement.json`` (written to ``RUN/review/``) is an object::

    {
      "ratings_source": str,             # where the answers came from
      "na_convention": "exclude" | "category",
      "n_items": int, "raters": [str],   # items with any answer; rater ids
      "bootstrap": {"resamples": int, "seed": int, "level": float},
      "questions": {                     # one entry per rated question (ER, IP, EX, MITI_*, AI_GUESS)
        Q: {"scale": "ordinal" | "nominal", "levels": [str], "n_items": int, "n_answers": int,
            "n_rated_pairs": int,        # sum of the pairs' n
            "na": {"total": int, "by_rater": {rater: int}, "items_all_na": int, "items_mixed": int},
            "distribution": {rater: {level: int}},
            "alpha": float | null, "alpha_ci": [low, high] | null, "alpha_resamples_used": int,
            "alpha_items": int,          # items with two or more answers counted
            "pairs": [{"raters": [a, b], "n": int, "exact": float | null, "kappa": float | null,
                       "kappa_quadratic": float | null, "alpha": float | null,
                       "both_na": int, "one_na": int}]}
      },
      "comments": {rater: int},          # number of free-text comments (not analysed)
      "ai_guess": {rater: {"n": int, "correct": int, "accuracy": float, "ci": [low, high],
                           "p_vs_chance": float, "accuracy_on_ai": float | null,
                           "accuracy_on_human": float | null, "guessed_ai_share": float,
                           "true_ai_share": float}},           # {} when items carry no source
      "ai_share": {rater: {"estimate_pct": float, "true_pct": float | null, "n_items": int,
                           "difference_pct": float | null, "per_item_guesses_pct": float | null}},
                                         # AI_SHARE, percent; true_pct over the items the rater rated
      "scorer_validity": {               # per question of validity.METRIC_OF with scores; {} without
        Q: {"metric": str, "inter_clinician": [pair as above], "clinician_alpha": float | null,
            "scorers": [{"scorer": str, "rater": str, "n": int, "exact": float | null,
                         "kappa": float | null, "kappa_quadratic": float | null,
                         "alpha": float | null, "both_na": int, "one_na": int, "not_scored": int,
                         "rounded": bool}]}
      },
      "notes": [str]                     # anything the reader must know (missing scores, rounding)
    }

Undefined statistics (no pairs; a single category) are ``null``. ``agreement.csv`` holds the same
figures as rows (``CSV_COLUMNS``): section (alpha/pair/ai_guess/ai_share/scorer), question, a, b, n,
exact, kappa, kappa_quadratic, alpha, ci_low, ci_high, na, accuracy, p, items, rated_pairs,
estimate_pct, true_pct, na_convention.
"""

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from carelens.review.questions import BY_KEY, NA, RATER_QUESTIONS, Question
from carelens.review.ratings import normalise, read_ratings_csv
from carelens.review.reliability import alpha_with_ci, check_na, numeric, pair_stats
from carelens.review.validity import METRIC_OF, compare_question
from carelens.store import atomic_path, write_text_atomic

__all__ = ["compute_agreement", "agreement_rows", "markdown_table", "normalise", "read_ratings_csv",
           "write_agreement"]

SCORED = tuple(q.key for q in BY_KEY.values() if q.kind in ("ordinal", "nominal"))
PER_RATER = tuple(q.key for q in RATER_QUESTIONS)


def _question(frame: pd.DataFrame, spec: Question, raters: list[str], resamples: int,
              rng: np.random.Generator, level: float, na: str) -> dict[str, Any]:
    wide = frame.pivot(index="item_id", columns="rater_id", values="value")
    is_na = wide == NA
    answered = wide.notna()
    by_item_na = is_na.sum(axis=1)
    by_item_answered = answered.sum(axis=1)
    matrix = np.vstack([numeric(wide[r], spec, na).to_numpy(dtype=float) if r in wide else
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
    result.update(alpha_with_ci(matrix, spec, resamples, rng, level, na))
    result["pairs"] = [
        {"raters": [a, b], **pair_stats(wide[a].dropna(), wide[b].dropna(), spec, na)}
        for a, b in itertools.combinations(raters, 2) if a in wide and b in wide
    ]
    result["n_rated_pairs"] = sum(p["n"] for p in result["pairs"])
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


def _ai_share(frame: pd.DataFrame) -> dict[str, Any]:
    """Each rater's estimate of the AI share (percent) beside the true share of the items they rated."""
    items = frame[frame["question"].isin(SCORED) & frame["source"].isin(["ai", "human"])]
    guesses = frame[frame["question"] == "AI_GUESS"]
    out = {}
    for row in frame[frame["question"] == "AI_SHARE"].itertuples(index=False):
        mine = items[items["rater_id"] == row.rater_id].drop_duplicates("item_id")
        said = guesses[guesses["rater_id"] == row.rater_id]["value"]
        estimate = float(row.value)
        true = 100 * float((mine["source"] == "ai").mean()) if len(mine) else None
        out[str(row.rater_id)] = {
            "estimate_pct": estimate, "true_pct": true, "n_items": len(mine),
            "difference_pct": None if true is None else estimate - true,
            "per_item_guesses_pct": 100 * float((said == "ai").mean()) if len(said) else None,
        }
    return dict(sorted(out.items()))


def _scorer_validity(frame: pd.DataFrame, scores: pd.DataFrame, raters: list[str],
                     questions: dict[str, Any], na: str, notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    metrics = set(scores["metric"])
    unscored = [f"{q} ({m})" for q, m in METRIC_OF.items() if q in questions and m not in metrics]
    if unscored:
        notes.append("no scorer metric in the scores table for " + ", ".join(unscored) + ": not compared")
    for question in METRIC_OF:
        if question not in questions or METRIC_OF[question] not in metrics:
            continue
        entry = compare_question(frame, scores, question, raters, na)
        for s in entry["scorers"]:
            if s["rounded"]:
                notes.append(f"scorer '{s['scorer']}' gave {METRIC_OF[question]} values off the "
                             f"{question} scale; rounded and clipped to its levels")
        out[question] = {"metric": entry["metric"], "inter_clinician": questions[question]["pairs"],
                         "clinician_alpha": questions[question]["alpha"], "scorers": entry["scorers"]}
    return out


def compute_agreement(ratings: pd.DataFrame, scores: pd.DataFrame | None = None, *, source: str = "",
                      resamples: int = 1000, seed: int = 0, level: float = 0.95,
                      na: str = "exclude") -> dict[str, Any]:
    """Every figure described in the module docstring, from normalised answers (see ``normalise``)."""
    check_na(na)
    frame = ratings.copy()
    for col in ("item_id", "rater_id", "question", "value"):  # plain str: missing pivot cells become NaN
        frame[col] = frame[col].astype(str).astype(object)
    if "response_id" not in frame:
        frame["response_id"] = frame["item_id"]
    if "source" not in frame:
        frame["source"] = pd.NA
    frame["source"] = frame["source"].astype("string").str.lower()
    per_item = frame[~frame["question"].isin(PER_RATER)]
    raters = sorted(frame["rater_id"].unique())
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    questions = {}
    for key in SCORED:
        sub = per_item[per_item["question"] == key]
        if not sub.empty:
            questions[key] = _question(sub, BY_KEY[key], raters, resamples, rng, level, na)
    comments = frame[(frame["question"] == "COMMENT") & (frame["value"] != "")]
    guesses = _guess_accuracy(per_item)
    if "AI_GUESS" in questions and not guesses:
        notes.append("items carry no source (ai/human): AI-guess accuracy not computed")
    shares = _ai_share(frame)
    if any(s["true_pct"] is None for s in shares.values()):
        notes.append("items carry no source (ai/human): the true AI share is unknown")
    if scores is None or scores.empty:
        validity: dict[str, Any] = {}
        notes.append("no scores: the automatic scorer is not compared with the clinicians")
    else:
        validity = _scorer_validity(per_item, scores, raters, questions, na, notes)
        if not any(e["scorers"] for e in validity.values()):
            notes.append("no scorer metric (" + ", ".join(sorted(set(METRIC_OF.values())))
                         + ") matches a rated response")
    return {
        "ratings_source": source, "na_convention": na, "n_items": int(per_item["item_id"].nunique()),
        "raters": raters, "bootstrap": {"resamples": resamples, "seed": seed, "level": level},
        "questions": questions,
        "comments": {r: int((comments["rater_id"] == r).sum()) for r in raters},
        "ai_guess": guesses, "ai_share": shares, "scorer_validity": validity, "notes": sorted(set(notes)),
    }


CSV_COLUMNS = ["section", "question", "a", "b", "n", "exact", "kappa", "kappa_quadratic", "alpha", "ci_low",
               "ci_high", "na", "accuracy", "p", "items", "rated_pairs", "estimate_pct", "true_pct",
               "na_convention"]


def agreement_rows(result: dict[str, Any]) -> pd.DataFrame:
    """The figures of ``compute_agreement`` as one flat table (the agreement.csv)."""
    rows: list[dict[str, Any]] = []
    for key, q in result["questions"].items():
        ci = q["alpha_ci"] or [None, None]
        rows.append({"section": "alpha", "question": key, "n": q["alpha_items"], "alpha": q["alpha"],
                     "ci_low": ci[0], "ci_high": ci[1], "na": q["na"]["total"], "items": q["n_items"],
                     "rated_pairs": q["n_rated_pairs"]})
        for p in q["pairs"]:
            rows.append({"section": "pair", "question": key, "a": p["raters"][0], "b": p["raters"][1],
                         "n": p["n"], "exact": p["exact"], "kappa": p["kappa"],
                         "kappa_quadratic": p["kappa_quadratic"], "alpha": p["alpha"],
                         "na": p["both_na"] + p["one_na"], "rated_pairs": p["n"]})
    for rater, g in result["ai_guess"].items():
        rows.append({"section": "ai_guess", "question": "AI_GUESS", "a": rater, "n": g["n"],
                     "accuracy": g["accuracy"], "ci_low": g["ci"][0], "ci_high": g["ci"][1],
                     "p": g["p_vs_chance"]})
    for rater, share in result.get("ai_share", {}).items():
        rows.append({"section": "ai_share", "question": "AI_SHARE", "a": rater, "n": share["n_items"],
                     "items": share["n_items"], "estimate_pct": share["estimate_pct"],
                     "true_pct": share["true_pct"]})
    for question, entry in result["scorer_validity"].items():
        for s in entry["scorers"]:
            rows.append({"section": "scorer", "question": question, "a": s["scorer"], "b": s["rater"],
                         "n": s["n"], "exact": s["exact"], "kappa": s["kappa"],
                         "kappa_quadratic": s["kappa_quadratic"], "alpha": s["alpha"],
                         "na": s["both_na"] + s["one_na"], "rated_pairs": s["n"]})
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS)
    frame["na_convention"] = result.get("na_convention", "exclude")
    return frame


def write_agreement(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write agreement.json and agreement.csv atomically; return their paths."""
    json_path, csv_path = out_dir / "agreement.json", out_dir / "agreement.csv"
    write_text_atomic(json_path, json.dumps(result, indent=2, allow_nan=False))
    with atomic_path(csv_path) as tmp:
        agreement_rows(result).to_csv(tmp, index=False)
    return [json_path, csv_path]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


NA_NOTE = {"exclude": "N/A answers left out: 'rated pairs' counts the pairs of scored answers that "
                      "enter exact agreement and kappa",
           "category": "N/A is its own category (nominal scale: no quadratic kappa; nominal alpha); "
                       "'rated pairs' counts every pair of answers"}


def markdown_table(result: dict[str, Any]) -> str:
    """Per question: items, rated pairs, pairs' exact agreement and kappas (mean over pairs), alpha with
    CI, N/A count; then the AI guesses, the AI-share estimates and the scorer against each clinician."""
    na = result.get("na_convention", "exclude")
    lines = [f"N/A convention: {na} ({NA_NOTE[na]})",
             "| question | items | rated pairs | exact | kappa | kappa (quadratic) | alpha [95% CI] | N/A |",
             "|---|---|---|---|---|---|---|---|"]
    for key, q in result["questions"].items():
        def mean(field: str, pairs: list[dict[str, Any]] = q["pairs"]) -> float | None:
            values = [p[field] for p in pairs if p[field] is not None]
            return float(np.mean(values)) if values else None
        ci = q["alpha_ci"]
        alpha = _fmt(q["alpha"]) + (f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "")
        lines.append(f"| {key} | {q['n_items']} | {q['n_rated_pairs']} | {_fmt(mean('exact'))} | "
                     f"{_fmt(mean('kappa'))} | {_fmt(mean('kappa_quadratic'))} | {alpha} | "
                     f"{q['na']['total']} |")
    for rater, g in result["ai_guess"].items():
        lines.append(f"\nAI guess, {rater}: {g['correct']}/{g['n']} correct ({_fmt(g['accuracy'])}, "
                     f"95% CI {_fmt(g['ci'][0])}-{_fmt(g['ci'][1])}, "
                     f"p vs chance {_fmt(g['p_vs_chance'], 3)})")
    for rater, share in result.get("ai_share", {}).items():
        lines.append(f"\nAI share, {rater}: estimate {_fmt(share['estimate_pct'], 0)}%, true "
                     f"{_fmt(share['true_pct'], 0)}% of {share['n_items']} rated items, per-item guesses "
                     f"{_fmt(share['per_item_guesses_pct'], 0)}%")
    for question, entry in result["scorer_validity"].items():
        for s in entry["scorers"]:
            lines.append(f"\n{question} ({entry.get('metric', question)}): scorer {s['scorer']} vs "
                         f"{s['rater']}: rated pairs {s['n']}, exact {_fmt(s['exact'])}, kappa "
                         f"{_fmt(s['kappa'])}, kappa (quadratic) {_fmt(s['kappa_quadratic'])}, "
                         f"alpha {_fmt(s['alpha'])}")
        for p in entry["inter_clinician"]:
            lines.append(f"\n{question}: clinicians {' vs '.join(p['raters'])}: rated pairs {p['n']}, exact "
                         f"{_fmt(p['exact'])}, kappa {_fmt(p['kappa'])}, kappa (quadratic) "
                         f"{_fmt(p['kappa_quadratic'])}, alpha {_fmt(p['alpha'])}")
    return "\n".join(lines).replace("\n\n", "\n")
