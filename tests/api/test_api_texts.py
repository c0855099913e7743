"""``carelens.score_texts``: one scorer over plain texts, in the scores table's long form."""

from collections.abc import Sequence

import pandas as pd
import pytest
import textstat

import carelens
from carelens.scoring import base

REPLIES = ["I hear you. How long have you felt this way? You are not alone.", "", "ok"]


class EvidenceScorer:
    """A plugin scorer that explains its metrics, as the scorer contract asks."""

    name = "evidence-demo"
    metrics = ("has_question", "length")

    def __init__(self, config: object) -> None:
        self.config = config

    def score(self, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "has_question": [float("?" in r) for _, r in pairs],
                "length": [float(len(r)) for _, r in pairs],
                "evidence:has_question": [f"post {p!r}: {'asks' if '?' in r else 'no ?'}" for p, r in pairs],
                "evidence:length": [f"{len(r)} characters" for _, r in pairs],
            }
        )


class PlainScorer(EvidenceScorer):
    """A plugin written before evidence existed: metric columns only."""

    def score(self, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
        return super().score(pairs)[list(self.metrics)]


def test_text_scorer_values_in_long_form() -> None:
    scores = carelens.score_texts("text", REPLIES, ids=["a", "b", "c"])
    assert list(scores.columns) == ["response_id", "scorer", "metric", "value", "evidence"]
    assert list(scores.response_id) == ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    first = scores[scores.response_id == "a"].set_index("metric").value
    assert first["words"] == 14
    assert first["second_person_rate"] == pytest.approx(3 / 14)
    assert first["question_rate"] == pytest.approx(1 / 3)
    assert first["readability"] == pytest.approx(textstat.flesch_reading_ease(REPLIES[0]))
    empty = scores[scores.response_id == "b"].set_index("metric").value
    assert empty["words"] == 0 and empty.drop("words").isna().all()  # kept, as NaN: does not apply
    assert set(scores.scorer) == {"text"}
    evidence = scores[scores.response_id == "a"].set_index("metric").evidence
    assert evidence["words"] == "14 words in the response"
    assert "How long have you felt this way?" in evidence["question_rate"]
    assert (scores[scores.value.isna()].evidence == "").all()
    assert list(carelens.score_texts("text", REPLIES).response_id.unique()) == ["0", "1", "2"]
    assert len(carelens.score_texts("text", [])) == 0


def test_evidence_columns_come_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base.BUILTIN, "evidence-demo", f"{__name__}:EvidenceScorer")
    monkeypatch.setitem(base.BUILTIN, "plain-demo", f"{__name__}:PlainScorer")
    scores = carelens.score_texts("evidence-demo", ["why?", "fine"], ["p1", "p2"])
    asks = scores[scores.metric == "has_question"]
    assert list(asks.value) == [1.0, 0.0]
    assert list(asks.evidence) == ["post 'p1': asks", "post 'p2': no ?"]
    assert list(scores[scores.metric == "length"].evidence) == ["4 characters", "4 characters"]
    plain = carelens.score_texts("plain-demo", ["why?"], ["p1"])
    assert list(plain.value) == [1.0, 4.0] and list(plain.evidence) == ["", ""]
    with pytest.raises(carelens.CarelensError, match="reads the post each reply answers"):
        carelens.score_texts("evidence-demo", ["why?"])


def test_safety_reads_the_post() -> None:
    post = "I have decided to kill myself tonight, I wrote the note."
    scores = carelens.score_texts("safety", ["Please call 988 right now, you deserve help."], [post])
    assert scores.set_index("metric").value["post_risk"] == 1.0
    calm = carelens.score_texts("safety", ["Please call 988 right now."], ["I baked bread today."])
    assert calm.set_index("metric").value["post_risk"] == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: carelens.score_texts("nope", ["x"]), "unknown scorer"),
        (lambda: carelens.score_texts("safety", ["x"]), "pass posts=[...]"),
        (
            lambda: carelens.score_texts("text", ["x", "y"], ["p"]),
            "posts must be a list as long as replies (2)",
        ),
        (lambda: carelens.score_texts("text", "one string"), "not one string"),
        (lambda: carelens.score_texts("text", ["x", "y"], ids=["a", "a"]), "2 distinct names"),
        (
            lambda: carelens.score_texts("text", ["x"], bogus=1),
            "scoring.options.text.bogus: unknown option 'bogus'",
        ),
        (lambda: carelens.score_texts("text", ["x"], batch_size=0), "scoring.batch_size"),
    ],
)
def test_bad_calls_are_user_errors(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(carelens.CarelensError) as error:
        call()
    assert message in str(error.value)
