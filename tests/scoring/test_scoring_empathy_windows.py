"""Empathy levels decided over EPITOME-sized windows of a reply, with the window as evidence."""

import numpy as np
import pytest

from carelens.scoring.empathy import EmpathyScorer
from carelens.scoring.empathy_models import MECHANISMS
from carelens.scoring.empathy_windows import WINDOW_WORDS, decide, split_all, windows

ADVICE = [
    "Starting a new job can take a few months to feel settled.",
    "Many workplaces offer a mentor to new staff, so it may be worth asking about one.",
    "Keeping a short list of what went well each day can make progress easier to see.",
    "Regular sleep and meals help more than people expect when work is demanding.",
    "Talking with a counsellor is also an option if the stress keeps building.",
    "Some people find a walk at lunchtime clears their head for the afternoon.",
    "Setting one small goal for each week keeps things manageable.",
]
NEUTRAL = ["The library opens at nine on weekdays.", "Most buses run every fifteen minutes."]
QUESTION = "What did your manager say in that meeting that made you feel you were failing?"
POST = "I started a new job two months ago and after a meeting with my manager I feel like I'm failing."


def long_reply(extra: str = "") -> str:
    body = " ".join(ADVICE * 4)  # about 250 words of advice
    return f"{body} {extra}".strip()


def test_windows_pack_whole_sentences_up_to_the_limit():
    text = long_reply(QUESTION)
    parts = windows(text)
    assert len(parts) > 3 and parts[-1].endswith(QUESTION)
    assert all(len(p.split()) <= WINDOW_WORDS for p in parts)
    assert " ".join(parts) == " ".join(text.split())
    assert windows("Short reply, one window.") == ["Short reply, one window."]
    assert windows("  ...  ") == []
    assert windows("Hey there.\n\nI hear you. What happened?") == ["Hey there.", "I hear you. What happened?"]


def test_decide_takes_the_highest_level_and_the_window_that_reached_it():
    # two texts: text 0 has windows 0, 1, 2; text 1 has window 3; one mechanism shown at a time
    proba = np.zeros((4, 3, 3))
    proba[:, :, 0] = 1.0
    proba[1, 2] = [0.2, 0.7, 0.1]  # text 0, EX weak in window 1
    proba[2, 2] = [0.1, 0.3, 0.6]  # text 0, EX strong in window 2
    proba[3, 0] = [0.4, 0.1, 0.5]  # text 1, ER strong
    levels, deciding = decide(proba, np.array([0, 0, 0, 1]), 3)
    assert levels.tolist() == [[0, 0, 2], [2, 0, 0], [0, 0, 0]]
    assert deciding[0, 2] == 2 and deciding[1, 0] == 3 and deciding[2].tolist() == [-1, -1, -1]


class DilutingModel:
    """A stand-in classifier whose EX rises with the share of question words in the text, as a
    response-level model's does: a question drowned in advice falls below its threshold."""

    def predict_proba(self, texts, embeddings=None):
        out = np.zeros((len(texts), 3, 3))
        out[:, :, 0] = 1.0
        for i, text in enumerate(texts):
            words = text.split()
            share = sum(len(s.split()) for s in text.split(". ") if s.strip().endswith("?")) / max(
                1, len(words)
            )
            if share > 0.3:
                out[i, 2] = [0.1, 0.2, 0.7]
        return out


@pytest.fixture
def diluting_scorer(small_fast_model):
    scorer = EmpathyScorer(model_dir=str(small_fast_model))
    scorer.model = DilutingModel()
    return scorer


def test_a_specific_question_at_the_end_of_a_long_reply_raises_ex(diluting_scorer):
    without, with_question = diluting_scorer.score([(POST, long_reply()), (POST, long_reply(QUESTION))])["EX"]
    assert (without, with_question) == (0.0, 2.0)
    whole = EmpathyScorer(model_dir=diluting_scorer.model_dir, window_words=None)
    whole.model = DilutingModel()
    assert whole.score([(POST, long_reply(QUESTION))])["EX"].item() == 0.0  # the dilution windows avoid
    evidence = diluting_scorer.score([(POST, long_reply(QUESTION))])["evidence:EX"].item()
    assert evidence.startswith("level 2 (P = 0.70): ") and evidence.endswith(QUESTION)


@pytest.mark.parametrize("model", ["small_span_model", "small_fast_model"])
def test_padding_with_neutral_paragraphs_does_not_shift_levels(model, request):
    scorer = EmpathyScorer(model_dir=str(request.getfixturevalue(model)))
    replies = [
        "I'm so sorry about your dog. Losing him must hurt so much. What was he like?",
        "That sounds exhausting. It makes sense you feel stuck after months of looking for work.",
        "Try going to bed at the same time every night.",
    ]
    padding = " ".join(NEUTRAL * 20)  # about 250 words that say nothing to the seeker
    plain = scorer.score([("post", r) for r in replies])[list(MECHANISMS)]
    after = scorer.score([("post", f"{r}\n\n{padding}") for r in replies])[list(MECHANISMS)]
    around = scorer.score([("post", f"{padding}\n\n{r}\n\n{padding}") for r in replies])[list(MECHANISMS)]
    assert after.to_numpy().tolist() == plain.to_numpy().tolist() == around.to_numpy().tolist()


def test_split_all_keeps_the_owner_of_each_window():
    parts, owner = split_all(["", long_reply(QUESTION), "Hi there."], WINDOW_WORDS)
    assert owner[0] == 1 and owner[-1] == 2 and 0 not in owner and parts[-1] == "Hi there."
    assert split_all(["a b", ""], None) == (["a b"], np.array([0]))
