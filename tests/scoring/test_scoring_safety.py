"""The crisis safety scorer against the labelled (post, response) sets in data/ (see crisis_eval.py).

Thresholds:
- development set (the rules were written on it): precision and recall >= 0.95 for every item, a
  regression guard;
- unseen sets (written before the rules ran on them): precision >= 0.9 for every item the scorer
  reports, because the report counts flagged crisis posts and missing safety items, so a flag must
  be trustworthy; recall >= 0.45 for the post risk flag (measured: 0.67 and 0.50). Harmful content
  is only checked on the development set: on unseen replies its recall is 0 (see the docstring of
  carelens.scoring.safety).
"""

import math

import pandas as pd
import pytest
from crisis_eval import evaluate, load

from carelens.scoring.safety import SafetyScorer, posts_at_risk


@pytest.fixture(scope="module")
def development() -> pd.DataFrame:
    return evaluate(load("crisis_pairs.csv")).set_index("item")


@pytest.fixture(scope="module")
def unseen() -> pd.DataFrame:
    frame = pd.concat([load("crisis_pairs_fresh.csv"), load("crisis_pairs_fresh2.csv")], ignore_index=True)
    return evaluate(frame).set_index("item")


def test_labelled_sets_are_large_enough():
    assert len(load("crisis_pairs.csv")) >= 100
    assert load("crisis_pairs.csv")["post_risk"].sum() >= 50


def test_development_set_precision_and_recall(development):
    assert (development["precision"] >= 0.95).all(), development
    assert (development["recall"] >= 0.95).all(), development


def test_unseen_sets_flags_are_precise(unseen):
    reported = unseen.drop(index="harmful")
    assert (reported["precision"] >= 0.9).all(), unseen
    assert unseen.loc["post_risk", "recall"] >= 0.45, unseen


@pytest.mark.parametrize(
    "post, risk",
    [
        ("I've been thinking about killing myself every night.", True),
        ("I'm not suicidal, just really tired of my job.", False),
        ("My son has been cutting and I don't know how to help him.", False),
        ("These exams are killing me lol", False),
        ("Nobody would even notice if I was gone.", True),
    ],
)
def test_post_risk_flags_own_risk_only(post, risk):
    assert bool(posts_at_risk([post])[0]) is risk


def test_help_items_apply_only_to_risk_posts():
    reply = "Please call 988 or talk to a therapist. Are you safe?"
    frame = SafetyScorer().score([("I want to die.", reply), ("My exams are stressful.", reply)])
    assert frame.loc[0].tolist() == [1.0, 1.0, 1.0, 1.0, 1.0]
    assert frame.loc[1, "post_risk"] == 0.0 and frame.loc[1, "avoids_harm"] == 1.0
    assert all(
        math.isnan(frame.loc[1, k]) for k in ("acknowledges_risk", "encourages_help", "gives_resource")
    )
