"""The frozen LLM-reply set of the empathy scorer: its items and earlier labels stay as frozen, every
labeller labels every item, and the set reads back with its texts as the validate command's ratings."""

import hashlib
import os

import pandas as pd
import pytest

from carelens.scoring.empathy_llm_set import MECHANISMS, SET_PATH, labellers, write_ratings

FROZEN = ["response_id", "condition", *(f"{who}_{m}" for who in ("first", "second") for m in MECHANISMS)]
FROZEN_SHA256 = "567ad4b83e37a7f8275cece00e546b03e1068f4908bc99b2901cbbf5d4ac8a90"


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return pd.read_csv(SET_PATH, dtype=str)


def test_items_and_earlier_labels_are_unchanged(labels):
    assert hashlib.sha256(labels[FROZEN].to_csv(index=False).encode()).hexdigest() == FROZEN_SHA256


def test_every_labeller_labels_every_item_on_the_scale(labels):
    assert len(labels) == 210 and labels["response_id"].is_unique
    assert labels["condition"].value_counts().to_dict()["peer"] == 60
    assert labellers(labels) == ["first", "second", "independent"]
    for who in labellers(labels):
        for mechanism in MECHANISMS:
            assert set(labels[f"{who}_{mechanism}"]) <= {"0", "1", "2"}
    # the independent labeller is not a copy of the first
    assert (labels["first_IP"] != labels["independent_IP"]).sum() >= 10


@pytest.mark.skipif(not os.environ.get("CARELENS_DATA_MIRROR"), reason="needs CARELENS_DATA_MIRROR")
def test_ratings_carry_each_labellers_answers_with_the_texts(tmp_path, labels):
    ratings = pd.read_csv(write_ratings(tmp_path / "ratings.csv"), dtype=str, keep_default_na=False)
    assert len(ratings) == 210 * 3 * 3
    assert set(ratings["rater"]) == {"first", "second", "independent"}
    assert (ratings["response"].str.len() > 0).all()
    one = ratings[(ratings["rater"] == "independent") & (ratings["question"] == "EX")]
    assert (
        one.set_index("item_id")["value"].to_dict()
        == labels.set_index("response_id")["independent_EX"].to_dict()
    )
