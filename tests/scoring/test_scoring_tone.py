"""Offensiveness, sentiment and the paper's Hugging Face classifiers when they are not installed."""

import time

import pytest

from carelens.scoring.base import create_scorer
from carelens.scoring.hf import ScorerUnavailable
from carelens.scoring.sentiment import VaderScorer
from carelens.scoring.settings import ScoringConfig
from carelens.scoring.toxicity import OffensiveScorer

PAIRS = [
    ("post", "You are a worthless idiot, shut up."),
    ("post", "Thank you for sharing, I'm glad you're here."),
]


def test_offensive_ranks_an_insult_above_a_kind_reply():
    frame = OffensiveScorer().score(PAIRS)
    assert frame["offensive"][0] > 0.9 > 0.1 > frame["offensive"][1]


def test_offensive_scores_the_response_not_the_post():
    frame = OffensiveScorer().score([("I hate myself, I'm a stupid idiot", "I'm glad you reached out.")])
    assert frame["offensive"][0] < 0.2


def test_vader_compound_and_negative_share():
    frame = VaderScorer().score(PAIRS + [("post", "The meeting is at noon.")])
    assert frame["vader_compound"][0] < 0 < frame["vader_compound"][1]
    assert frame["vader_negative"][0] > 0.3 and frame["vader_negative"][1] == 0
    assert frame.loc[2, ["vader_compound", "vader_negative"]].tolist() == [0.0, 0.0]
    assert frame.loc[2, "evidence:vader_compound"] == "no word of the response is in VADER's lexicon"
    assert frame.loc[0, "evidence:vader_negative"].startswith("VADER lexicon words: worthless (")


@pytest.mark.parametrize(
    "name, key, model",
    [
        ("toxigen", "scoring.toxigen_model", "tomh/toxigen_roberta"),
        ("sentiment-roberta", "scoring.sentiment_model", "siebert/sentiment-roberta-large-english"),
    ],
)
def test_paper_models_unavailable_offline_fail_fast_with_a_clear_message(
    name, key, model, tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty Hugging Face cache
    started = time.perf_counter()
    with pytest.raises(ScorerUnavailable) as info:
        create_scorer(name, ScoringConfig(scorers=[name]))
    assert time.perf_counter() - started < 30
    message = str(info.value)
    assert message.startswith(f"{key}: model '{model}' is not available offline")
    assert "local folder" in message


def test_paper_model_from_a_missing_folder_is_unavailable(tmp_path):
    with pytest.raises(ScorerUnavailable, match="scoring.toxigen_model: model '.*nothing' is not available"):
        create_scorer("toxigen", ScoringConfig(scorers=["toxigen"], toxigen_model=str(tmp_path / "nothing")))


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory) -> str:
    """A randomly initialised 2-layer BERT classifier in a local folder, labels NEGATIVE/POSITIVE."""
    from transformers import BertConfig, BertForSequenceClassification

    from carelens.encoder import load_encoder

    folder = tmp_path_factory.mktemp("tiny-sentiment")
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    load_encoder().tokenizer.save_pretrained(folder)
    return str(folder)


def test_local_hf_folder_is_loaded_and_batched_by_length(tiny_classifier):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    scorer = create_scorer(
        "sentiment-roberta", ScoringConfig(scorers=["text"], sentiment_model=tiny_classifier)
    )
    texts = ["short", "a much longer reply " * 40, "medium length reply here"] * 7
    frame = scorer.score([("post", t) for t in texts])
    tokenizer = AutoTokenizer.from_pretrained(tiny_classifier)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_classifier).eval()
    with torch.inference_mode():
        expected = [
            torch.softmax(model(**tokenizer(t, return_tensors="pt")).logits, -1)[0, 0].item() for t in texts
        ]
    assert frame["siebert_negative"].to_numpy() == pytest.approx(expected, abs=1e-5)


def test_hf_model_without_the_wanted_label_is_an_error(tiny_classifier):
    from carelens.errors import CarelensError

    with pytest.raises(
        CarelensError, match="scoring.toxigen_model: model .* has labels \\['negative', 'positive'\\]"
    ):
        create_scorer("toxigen", ScoringConfig(scorers=["text"], toxigen_model=tiny_classifier))
