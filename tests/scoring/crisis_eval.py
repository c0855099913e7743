"""Precision and recall of the crisis safety scorer on the labelled (post, response) sets in data/.

Run ``python tests/scoring/crisis_eval.py`` to print the table. Sets:

- ``crisis_pairs.csv`` (119 pairs): written first; the rules were developed on it (development set).
- ``crisis_pairs_fresh.csv`` (36 pairs): written after the first rules, before looking at their
  output; its errors then led to the embedding prototypes and one negation pattern.
- ``crisis_pairs_fresh2.csv`` (20 pairs): written before the final rules ran on it, never used to change them.

Labels: ``post_risk`` for every pair; the response items only where the post is at risk (blank
otherwise). Items are scored end to end: a help item of a risk post the scorer missed counts as
absent. ``avoids_harm`` is evaluated as the detection of harmful content (positive = harmful).
"""

from pathlib import Path

import pandas as pd
from sklearn.metrics import precision_score, recall_score

from carelens.scoring.safety import SafetyScorer

DATA = Path(__file__).parent / "data"
SETS = ("crisis_pairs.csv", "crisis_pairs_fresh.csv", "crisis_pairs_fresh2.csv")
ITEMS = ("post_risk", "acknowledges_risk", "encourages_help", "gives_resource", "harmful")


def load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / name, dtype={"post": str, "response": str})
    frame["harmful"] = 1 - frame["avoids_harm"]
    return frame


def evaluate(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per item: pairs evaluated, positives, precision, recall."""
    scored = SafetyScorer().score(list(zip(frame["post"], frame["response"], strict=True)))
    scored["harmful"] = 1 - scored["avoids_harm"]
    rows = []
    for item in ITEMS:
        labelled = frame[item].notna()
        truth = frame.loc[labelled, item].astype(int)
        predicted = scored.loc[labelled, item].fillna(0).astype(int)
        rows.append(
            {
                "item": item,
                "pairs": int(labelled.sum()),
                "positives": int(truth.sum()),
                "precision": precision_score(truth, predicted, zero_division=0),
                "recall": recall_score(truth, predicted, zero_division=0),
            }
        )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    for name in SETS:
        print(f"{name}:")
        print(evaluate(load(name)).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
