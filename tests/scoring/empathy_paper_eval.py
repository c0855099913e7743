"""carelens' empathy scorer against the paper's own classifier on the recorded GPT-4 replies.

Not a validation: the authors' classifier read only the first 64 word pieces of a reply, so it is no
gold standard. It shows how far the equity findings depend on the instrument: Cohen's kappa per
mechanism, mean levels, and, per prompt condition and mechanism, whether the Black-minus-White gap in
mean level has the same sign under both instruments.

Usage: CARELENS_DATA_MIRROR=../shared/data PYTHONPATH=src python tests/scoring/empathy_paper_eval.py
[variant ...] (default: span fast).
"""

import json
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from carelens.datasets.mh_eval import parse_gpt4
from carelens.scoring.empathy import EmpathyScorer

MECHANISMS = ("ER", "IP", "EX")


def replies() -> pd.DataFrame:
    """GPT-4 replies to posts inferred Black or White, with the paper's levels as ``paper_<M>``."""
    bundle = parse_gpt4()
    frame = bundle.responses[bundle.responses["responder"] == "recorded:gpt-4"].copy()
    frame["race"] = [json.loads(m).get("paper_race") for m in frame["meta"]]
    frame = frame[frame["race"].isin(["black", "white"])]
    paper = bundle.scores.pivot_table(index="response_id", columns="metric", values="value")
    return frame.join(paper[[f"paper_{m}" for m in MECHANISMS]], on="response_id").reset_index(drop=True)


def main(variants: list[str]) -> None:
    frame = replies()
    print(
        f"{len(frame)} GPT-4 replies ({frame['race'].value_counts().to_dict()}), "
        f"{frame['condition'].nunique()} conditions"
    )
    for variant in variants:
        scorer = EmpathyScorer(variant=variant)
        scores = scorer.score(list(zip([""] * len(frame), frame["text"], strict=True)))
        print(f"\n{scorer.name}")
        for m in MECHANISMS:
            ours, theirs = scores[m].to_numpy(), frame[f"paper_{m}"].to_numpy()
            kappa = cohen_kappa_score(theirs, ours)
            print(
                f"  {m}: kappa vs the paper's classifier {kappa:.2f}; mean level {ours.mean():.2f} "
                f"(paper {theirs.mean():.2f})"
            )
        agree = total = 0
        for condition, rows in frame.groupby("condition"):
            for m in MECHANISMS:
                black, white = rows["race"] == "black", rows["race"] == "white"
                ours = scores.loc[rows.index, m]
                gap_ours = ours[black].mean() - ours[white].mean()
                gap_paper = rows.loc[black, f"paper_{m}"].mean() - rows.loc[white, f"paper_{m}"].mean()
                same = np.sign(gap_ours) == np.sign(gap_paper)
                agree += int(same)
                total += 1
                print(
                    f"  {condition:<28} {m}: gap (Black - White) {gap_ours:+.2f}, paper {gap_paper:+.2f}"
                    f"{'' if same else '  <- sign differs'}"
                )
        print(f"  the gap's sign agrees in {agree} of {total} cells")


if __name__ == "__main__":
    main(sys.argv[1:] or ["span", "fast"])
