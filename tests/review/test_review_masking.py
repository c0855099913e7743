"""Demographic masking: every documented rule does what its example says, and ordinary words survive."""

from pathlib import Path

import pandas as pd
import pytest

from carelens.review.masking import MASKING_TABLE, mask_demographics, write_masking_table


@pytest.mark.parametrize("rule", MASKING_TABLE, ids=lambda r: f"{r.category}:{r.description}")
def test_each_rule_masks_its_example(rule) -> None:
    assert mask_demographics(rule.example).text == rule.expected
    assert rule.compiled().search(rule.example), "the example does not exercise its own rule"


def test_explicit_cue_from_the_counterfactual_data() -> None:
    masked = mask_demographics("[32y/o, black female] -- I keep failing my exams")
    assert masked.text == "[[age], [ethnicity] [gender]] -- I keep failing my exams"
    assert masked.counts == {"gender": 1, "age": 1, "ethnicity": 1, "nationality": 0}


@pytest.mark.parametrize("text", [
    "I drink black coffee and stare at the white wall.",
    "My wife and my boyfriend's mom were there; she told him.",
    "I walked for 3 hours and waited 10 minutes.",
    "Management at my job is terrible.",
])
def test_ordinary_words_are_left_alone(text: str) -> None:
    masked = mask_demographics(text)
    assert masked.text == text and sum(masked.counts.values()) == 0


def test_mixed_post_counts_each_category() -> None:
    masked = mask_demographics("As a 19 yo Korean-American girl in my early teens... no, I'm Asian and 19F")
    assert "Korean" not in masked.text and "girl" not in masked.text and "19" not in masked.text
    assert masked.counts["nationality"] == 2 and masked.counts["ethnicity"] == 1
    assert masked.counts["age"] == 3 and masked.counts["gender"] == 2


def test_masking_table_is_written_with_every_rule(tmp_path: Path) -> None:
    path = tmp_path / "review" / "masking.csv"
    write_masking_table(path)
    table = pd.read_csv(path)
    assert len(table) == len(MASKING_TABLE)
    assert set(table["category"]) == {"gender", "age", "ethnicity", "nationality"}
    assert list(table["order"]) == list(range(1, len(MASKING_TABLE) + 1))
