"""Text measures: word counts, readability, second-person and question rates."""

import math

import textstat

from carelens.scoring.text import TextScorer, measure, sentences, words


def test_counts_and_rates_on_a_known_reply():
    reply = "I'm so sorry you're going through this. Have you told your sister? You deserve support!"
    m, evidence = measure(reply)
    # words: I'm so sorry you're going through this Have you told your sister You deserve support
    assert m["words"] == 15
    assert m["second_person_rate"] == 4 / 15  # you're, you, your, You
    assert m["question_rate"] == 1 / 3
    assert m["readability"] == textstat.flesch_reading_ease(reply)
    assert evidence["question_rate"] == "1 of 3 sentence(s) ask: Have you told your sister?"
    assert evidence["second_person_rate"] == "4 of 15 words address the reader: you, you're, your"


def test_sentences_split_on_runs_of_punctuation_and_line_breaks():
    assert sentences("Really?! Yes.\nOk so\n\n...") == ["Really?!", "Yes.", "Ok so"]
    assert words("Don't  stop—ever") == ["don't", "stop", "ever"]


def test_empty_reply_has_zero_words_and_no_rates():
    m, evidence = measure("  ...  ")
    assert m["words"] == 0
    assert all(math.isnan(m[k]) for k in ("readability", "second_person_rate", "question_rate"))
    assert evidence["words"] and evidence["question_rate"] == ""


def test_scorer_measures_the_response_not_the_post():
    frame = TextScorer().score([("you you you?", "Fine."), ("", "What do you mean?")])
    assert frame["words"].tolist() == [1, 4]
    assert frame["question_rate"].tolist() == [0.0, 1.0]
    assert frame["second_person_rate"].tolist() == [0.0, 0.25]
