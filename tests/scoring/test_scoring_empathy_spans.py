"""The span empathy model: sentence labels from EPITOME's rationales, the mix, training and reloading."""

import numpy as np

from carelens.scoring.empathy import EmpathyScorer
from carelens.scoring.empathy_spans import UNLABELLED, SpanModel, mix, sentence_labels, split_sentences
from carelens.scoring.empathy_train import load_model, read_card

REPLY = "That sounds so hard. I went through the same thing last year. What did your doctor say?"


def test_sentences_take_the_reply_level_where_they_lie_in_the_rationale():
    levels = np.array([[1, 2, 2], [0, 0, 0], [2, 1, 0]])
    rationales = [
        ["so hard", "I went through the same thing last year.|", "What did your doctor say?"],
        ["", "", ""],
        ["", "entirely different words", ""],  # levels whose rationale matches no sentence
    ]
    parts, owner, labels = sentence_labels([REPLY, "ok. thanks", "Sorry. Hugs."], levels, rationales)
    assert parts[:3] == [
        "That sounds so hard.",
        "I went through the same thing last year.",
        "What did your doctor say?",
    ]
    assert owner.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert labels[:3].tolist() == [[1, 0, 0], [0, 2, 0], [0, 0, 2]]
    assert labels[3:5].tolist() == [[0, 0, 0], [0, 0, 0]]
    assert labels[5:].tolist() == [[UNLABELLED, UNLABELLED, 0]] * 2


def test_a_sentence_mostly_made_of_rationale_words_is_in_it():
    levels = np.array([[0, 0, 2]])
    text, rationale = ["Hi. What happened at work, then?"], [["", "", "so what happened with work"]]
    _, _, labels = sentence_labels(text, levels, rationale)  # 3 of its 5 words are rationale words
    assert labels[:, 2].tolist() == [0, 2]
    _, _, strict = sentence_labels(text, levels, rationale, 0.9)
    assert strict[:, 2].tolist() == [UNLABELLED, UNLABELLED]


def test_mix_takes_the_sentence_most_likely_to_carry_each_mechanism():
    reply = np.full((2, 3, 3), 1 / 3)
    sentence = np.zeros((3, 3, 3))
    sentence[0] = [[0.9, 0.1, 0], [0.2, 0.0, 0.8], [1, 0, 0]]
    sentence[1] = [[0.1, 0.1, 0.8], [0.9, 0.1, 0.0], [1, 0, 0]]
    sentence[2] = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0]]
    out, chosen = mix(reply, sentence, np.array([0, 0, 1]), 0.3)
    assert chosen.tolist() == [[1, 0, 0], [2, 2, 2]]
    assert np.allclose(out[0, 0], 0.7 / 3 + 0.3 * sentence[1, 0])  # ER: sentence 1 is the strongest
    assert np.allclose(out[0, 1], 0.7 / 3 + 0.3 * sentence[0, 1])
    assert np.allclose(out[0, 2], 0.7 / 3 + 0.3 * sentence[0, 2])  # a tie: the first sentence
    assert np.allclose(out[1], 0.7 / 3 + 0.3 * sentence[2])
    assert np.allclose(out.sum(-1), 1)
    alone, none = mix(reply[:1], sentence[:0], np.array([], dtype=int), 0.5)  # no sentence: level 0
    assert np.allclose(alone[0, :, 0], 0.5 / 3 + 0.5) and none.tolist() == [[-1, -1, -1]]


def test_span_model_trains_records_its_card_and_reloads(small_span_model):
    card = read_card(small_span_model)
    assert card["variant"] == "span" and card["model"] == "empathy-span"
    assert "rationale" in card["input"] and card["hyperparameters"]["sentence_weight"] == 0.3
    model, _ = load_model(small_span_model)
    assert isinstance(model, SpanModel) and model.memo is None
    texts = [REPLY, "Same here lol", ""]
    probs = model.predict_proba(texts)
    assert probs.shape == (3, 3, 3) and np.allclose(probs.sum(-1), 1)
    again, _ = load_model(small_span_model)
    assert np.allclose(again.predict_proba(texts), probs)


def test_a_sentence_that_carries_a_mechanism_raises_it_wherever_it_stands(small_span_model):
    scorer = EmpathyScorer(model_dir=str(small_span_model), calibration="none")
    question = "What did your doctor say when you told her about the panic attacks at night?"
    plain = "I have a bike. The weather was mild. Trains run on time."
    first, last = (
        scorer.model.predict_proba([t])[0, 2] for t in (f"{question} {plain}", f"{plain} {question}")
    )
    alone = scorer.model.predict_proba([plain])[0, 2]
    assert first[1:].sum() > alone[1:].sum() and last[1:].sum() > alone[1:].sum()


def test_the_evidence_of_each_level_is_the_sentence_that_decided_it(small_span_model):
    scorer = EmpathyScorer(model_dir=str(small_span_model), calibration="none")
    long_reply = " ".join(["I read your post twice and I keep thinking about it."] * 8) + "\n\n" + REPLY
    scores = scorer.score([("post", REPLY), ("post", long_reply), ("post", "")])
    for i, reply in enumerate((REPLY, long_reply, "")):
        for mechanism in ("ER", "IP", "EX"):
            evidence = scores[f"evidence:{mechanism}"].iloc[i]
            if not reply:
                assert evidence == "the reply has no words: level 0"
                continue
            label, _, sentence = evidence.partition("): ")
            assert label.startswith(
                ("level 1 (P = ", "level 2 (P = ", "no part of the reply reaches level 1")
            )
            assert sentence in split_sentences(reply)  # one whole sentence of the reply, not a window
