"""The EPITOME check behind the choice of the span variant: grouped 5-fold CV on the training portion.

The training portion is what `carelens models train empathy` trains on (the held-out 10 % by seeker
post is left out); the folds are GroupKFold(5, shuffled, seed 13) by seeker post within it. Prints
accuracy / macro-F1 per mechanism for the fast and span variants, on whole replies and as scored
(windows of 64 words, the highest level of any window).

Usage: CARELENS_DATA_MIRROR=../shared/data PYTHONPATH=src python tests/scoring/empathy_span_selection.py
"""

import numpy as np
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from carelens.scoring.embedder import embed
from carelens.scoring.empathy_models import MECHANISMS, FastModel
from carelens.scoring.empathy_spans import SpanModel
from carelens.scoring.empathy_train import HOLDOUT_SHARE, epitome_pairs, evaluate
from carelens.scoring.empathy_windows import WINDOW_WORDS, decide, split_all

SEED = 13


def main() -> None:
    pairs, _ = epitome_pairs(None, SEED)
    texts = pairs["response_post"].tolist()
    labels = pairs[list(MECHANISMS)].to_numpy(dtype=int)
    rationales = pairs[[f"{m}_rationales" for m in MECHANISMS]].to_numpy(dtype=str)
    groups = pairs["sp_id"].to_numpy()
    train, _ = next(
        GroupShuffleSplit(n_splits=1, test_size=HOLDOUT_SHARE, random_state=SEED).split(texts, groups=groups)
    )
    vectors = embed(texts)
    parts, owner = split_all(texts, WINDOW_WORDS)
    part_vectors = embed(parts)
    memo: dict[str, np.ndarray] = {}
    results: dict[str, list[dict]] = {}
    folds = GroupKFold(n_splits=5, shuffle=True, random_state=SEED).split(train, groups=groups[train])
    for a, b in folds:
        fit, test = train[a], train[b]
        where = np.flatnonzero(np.isin(owner, test))
        position = {r: i for i, r in enumerate(test)}
        window_owner = np.array([position[o] for o in owner[where]], dtype=int)
        fast = FastModel().fit([texts[i] for i in fit], labels[fit], vectors[fit])
        span = SpanModel(memo=memo).fit(
            [texts[i] for i in fit], labels[fit], vectors[fit], rationales=rationales[fit].tolist()
        )
        for name, model in (("fast", fast), ("span", span)):
            whole = model.predict_proba([texts[i] for i in test], vectors[test]).argmax(-1)
            windows = model.predict_proba([parts[w] for w in where], part_vectors[where])
            results.setdefault(f"{name}, whole reply", []).append(evaluate(labels[test], whole))
            scored = decide(windows, window_owner, len(test))[0]
            results.setdefault(f"{name}, windows of {WINDOW_WORDS}", []).append(
                evaluate(labels[test], scored)
            )
    print(f"{'variant':<22}" + "".join(f"{m + ' acc / F1':>16}" for m in MECHANISMS) + f"{'mean F1':>9}")
    for name, folds_of in results.items():
        acc = [np.mean([r[m]["accuracy"] for r in folds_of]) for m in MECHANISMS]
        f1 = [np.mean([r[m]["macro_f1"] for r in folds_of]) for m in MECHANISMS]
        cells = "".join(f"{a:>9.3f} / {f:.3f}" for a, f in zip(acc, f1, strict=True))
        print(f"{name:<22}{cells}{np.mean(f1):9.3f}")


if __name__ == "__main__":
    main()
