"""Level weights that adapt the EPITOME-trained empathy model to long LLM replies.

EPITOME's replies are short Reddit comments; on LLM replies the model's level probabilities are off
in a consistent direction (it rarely says IP 2 where labellers do). A calibration multiplies each
window's level probabilities by one weight per mechanism and level (level 0 fixed at 1) and
renormalises them before the levels are decided, i.e. a shift of the model's class priors.

The weights are fitted on a development set of real LLM and peer replies labelled with the guide in
``docs/empathy-labelling.md`` (``data/empathy_llm_dev.csv``: response ids and levels, texts read from
``CARELENS_DATA_MIRROR``), whose posts are disjoint from the frozen validation set's
(``empathy_llm_set``), which is never used here. For each mechanism the weights are the point of a
log-spaced grid with the highest mean of Cohen's kappa and quadratic kappa against the labels; ties
go to the weights nearest 1. A mechanism keeps its weights only where they also help out of sample:
5-fold cross-validation on the development set (weights fitted on four folds, levels decided on the
fifth), repeated with two shuffles, must beat the uncalibrated model on that mean both times; other
mechanisms keep weights of 1. ``python -m carelens.scoring.empathy_calibration`` refits them for the
cached default model and writes ``data/<scorer>-llm-calibration.json`` with the figures (one file per
model and window size: ``empathy-span-w64``, ``empathy-fast-w64``).
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from carelens.errors import CarelensError
from carelens.scoring.empathy_models import MECHANISMS
from carelens.scoring.empathy_windows import WINDOW_WORDS, split_all

DATA = Path(__file__).parent / "data"
DEV_PATH = DATA / "empathy_llm_dev.csv"


def calibration_path(scorer_name: str) -> Path:
    """The shipped calibration of a scorer (``empathy-span-w64``: model and window size)."""
    return DATA / f"{scorer_name}-llm-calibration.json"


GRID = np.exp(np.linspace(-3.0, 3.0, 31))
# Texts whose predicted probabilities identify a trained model: a calibration applies only to the
# model it was fitted on (a model trained again from the same data and seed gives the same).
PROBES = (
    "I'm so sorry you're going through this, it sounds exhausting.",
    "It sounds like you feel completely alone since the move.",
    "What happened after you told your mum?",
    "Have you tried going for a walk?",
    "lol same",
)


def fingerprint(model: Any) -> str:
    """A short hash of the model's level probabilities on ``PROBES`` (rounded to 3 decimals)."""
    proba = np.round(model.predict_proba(list(PROBES)), 3) + 0.0  # + 0.0: no negative zeros
    return hashlib.sha256(proba.astype("<f8").tobytes()).hexdigest()[:16]


def load_calibration(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The (mechanisms, levels) weights of a calibration file, and the file's card."""
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
        weights = np.array([card["weights"][m] for m in MECHANISMS], dtype=float)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise CarelensError(f"not a readable empathy calibration: {exc}", where=str(path)) from None
    if weights.shape != (len(MECHANISMS), 3) or (weights <= 0).any():
        raise CarelensError("an empathy calibration needs 3 positive weights per mechanism", where=str(path))
    return weights, card


def reweight(proba: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Window probabilities (windows, mechanisms, levels) times the weights, renormalised."""
    shifted = proba * weights[None, :, :]
    return shifted / np.maximum(shifted.sum(-1, keepdims=True), 1e-12)


def _levels(proba: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per text the highest level any of its windows reaches (one mechanism: proba is (windows, 3))."""
    levels = np.zeros(n, dtype=int)
    np.maximum.at(levels, owner, proba.argmax(-1))
    return levels


def _agreement(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    return (
        float(cohen_kappa_score(truth, predicted, labels=[0, 1, 2])),
        float(cohen_kappa_score(truth, predicted, labels=[0, 1, 2], weights="quadratic")),
    )


def fit(proba: np.ndarray, owner: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Weights per mechanism maximising mean(kappa, quadratic kappa) of the decided levels against
    ``labels`` (texts, mechanisms); and the figures before and after."""
    n = len(labels)
    weights = np.ones((len(MECHANISMS), 3))
    figures: dict[str, Any] = {}
    for j, mechanism in enumerate(MECHANISMS):
        before = _agreement(labels[:, j], _levels(proba[:, j, :], owner, n))
        best: tuple[float, float, float, float] | None = None
        for w1 in GRID:
            for w2 in GRID:
                shifted = proba[:, j, :] * np.array([1.0, w1, w2])
                score = float(np.mean(_agreement(labels[:, j], _levels(shifted, owner, n))))
                key = (score, -abs(np.log(w1)) - abs(np.log(w2)), w1, w2)
                if best is None or key[:2] > best[:2]:
                    best = key
        assert best is not None
        weights[j, 1:] = np.round(best[2:], 4)
        after = _agreement(labels[:, j], _levels(proba[:, j, :] * weights[j], owner, n))
        figures[mechanism] = {
            "kappa_before": round(before[0], 3),
            "quadratic_before": round(before[1], 3),
            "kappa_after": round(after[0], 3),
            "quadratic_after": round(after[1], 3),
        }
    return weights, figures


def cross_validated(proba: np.ndarray, owner: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """Levels (texts, mechanisms) of each text decided with weights fitted on the other folds."""
    from sklearn.model_selection import KFold

    n = len(labels)
    levels = np.zeros_like(labels)
    for train, test in KFold(5, shuffle=True, random_state=seed).split(np.arange(n)):
        position = np.full(n, -1)
        position[train], fit_windows = np.arange(len(train)), np.isin(owner, train)
        weights, _ = fit(proba[fit_windows], position[owner[fit_windows]], labels[train])
        position[test], windows = np.arange(len(test)), np.isin(owner, test)
        for j in range(len(MECHANISMS)):
            levels[test, j] = _levels(
                proba[windows][:, j, :] * weights[j], position[owner[windows]], len(test)
            )
    return levels


def keep_where_it_generalises(
    weights: np.ndarray, proba: np.ndarray, owner: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, dict[str, Any]]:
    """The weights of the mechanisms whose cross-validated agreement beats the uncalibrated model's
    with both shuffles; 1 elsewhere. Returns them with the cross-validated figures."""
    kept = np.ones_like(weights)
    figures: dict[str, Any] = {}
    runs = [cross_validated(proba, owner, labels, seed) for seed in (0, 1)]
    for j, mechanism in enumerate(MECHANISMS):
        raw = float(np.mean(_agreement(labels[:, j], _levels(proba[:, j, :], owner, len(labels)))))
        cv = [float(np.mean(_agreement(labels[:, j], run[:, j]))) for run in runs]
        keep = all(score > raw for score in cv)
        if keep:
            kept[j] = weights[j]
        figures[mechanism] = {
            "uncalibrated": round(raw, 3),
            "cross_validated": [round(v, 3) for v in cv],
            "kept": keep,
        }
    return kept, figures


def dev_set() -> pd.DataFrame:
    """The development set with its texts: response_id, condition, response, ER, IP, EX."""
    from carelens.datasets.mh_eval import parse_gpt4

    labels = pd.read_csv(DEV_PATH, dtype={"response_id": str, "condition": str})
    texts = parse_gpt4().responses.set_index("response_id")["text"]
    missing = sorted(set(labels["response_id"]) - set(texts.index))
    if missing:
        raise CarelensError(
            f"{len(missing)} response ids not in the mh-eval data, e.g. {missing[:3]}", where=str(DEV_PATH)
        )
    return labels.assign(response=texts.loc[labels["response_id"]].to_numpy())


def main() -> None:
    from carelens.scoring.empathy import EmpathyScorer

    scorer = EmpathyScorer(calibration="none")
    frame = dev_set()
    parts, owner = split_all(frame["response"].fillna("").astype(str).tolist(), WINDOW_WORDS)
    proba = scorer.model.predict_proba(parts)
    labels = frame[list(MECHANISMS)].to_numpy(dtype=int)
    fitted, figures = fit(proba, owner, labels)
    weights, generalisation = keep_where_it_generalises(fitted, proba, owner, labels)
    card = {
        "model": scorer.name,
        "model_fingerprint": fingerprint(scorer.model),
        "window_words": WINDOW_WORDS,
        "dev_set": {
            "file": DEV_PATH.name,
            "replies": len(frame),
            "by_condition": frame["condition"].value_counts().to_dict(),
        },
        "grid": "exp(linspace(-3, 3, 31)) for the weights of levels 1 and 2; level 0 = 1",
        "objective": "mean of Cohen's kappa and quadratic kappa on the development set",
        "fitted_weights": {m: [round(float(w), 4) for w in fitted[j]] for j, m in enumerate(MECHANISMS)},
        "dev_figures_in_sample": figures,
        "dev_cross_validated_mean_kappa": generalisation,
        "weights": {m: [round(float(w), 4) for w in weights[j]] for j, m in enumerate(MECHANISMS)},
    }
    calibration_path(scorer.name).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
