"""The `mi` scorer: sentence codes, MITI summary scores, estimated globals, evidence, contract."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from carelens.errors import CarelensError
from carelens.scoring.mi import JUDGE_RUBRIC, METRICS, MIScorer
from carelens.scoring.mi_features import FEATURES, sentence_features
from carelens.scoring.mi_globals import post_talk, summarise
from carelens.scoring.mi_model import CODES, load_model
from carelens.scoring.mi_text import content_words, sentence_hash, split_sentences
from carelens.scoring.mi_train import EVAL_FILE, HANDWRITTEN_FILE, MORE_FILE, TRAIN_FILE, checksum
from carelens.scoring.settings import ScoringConfig

POST = "I've been drinking every night and I want to stop, but nothing helps."
PAIRS = [
    (
        POST,
        "It sounds like you feel trapped. How long have you been drinking every night? "
        "It's entirely your decision.",
    ),
    (POST, "You should see a doctor. Stop making excuses."),
    ("My cat died last week.", "Hugs."),
    ("How do I sleep better?", "Try a fixed bedtime. Avoid screens in the evening."),
    ("Nothing matters.", ""),
]


@pytest.fixture(scope="module")
def scorer() -> MIScorer:
    return MIScorer()


def test_split_sentences_handles_lists_run_ons_and_quotes() -> None:
    text = 'First.Second one here! Is it "fine?" Yes\n1. Try this\n- and that\n:)'
    assert split_sentences(text) == [
        "First.",
        "Second one here!",
        'Is it "fine?"',
        "Yes",
        "Try this",
        "and that",
    ]
    assert sentence_hash("Hi.") == sentence_hash("Hi.") != sentence_hash("Hi!")


def test_features_see_questions_imperatives_and_overlap() -> None:
    names = list(FEATURES)
    question = sentence_features("What keeps you going?", set())
    advice = sentence_features("Try calling your sister tonight.", content_words("my sister never calls"))
    assert question[names.index("ends_with_question")] == 1 and question[names.index("opens_with_wh")] == 1
    assert (
        advice[names.index("opens_with_imperative")] == 1 and advice[names.index("ends_with_question")] == 0
    )
    assert advice[names.index("post_overlap")] > 0


def test_scores_one_row_per_pair_with_evidence_exactly_where_a_value_is(scorer: MIScorer) -> None:
    frame = scorer.score(PAIRS)
    assert list(frame.columns) == [*METRICS, *(f"evidence:{m}" for m in METRICS)]
    assert len(frame) == len(PAIRS)
    for metric in METRICS:
        assert frame[metric].dtype == np.float64
        has_value = frame[metric].notna()
        assert (frame.loc[has_value, f"evidence:{metric}"] != "").all(), metric
        assert (frame.loc[~has_value, f"evidence:{metric}"] == "").all(), metric
    for metric, (low, high) in scorer.ranges.items():
        values = frame[metric].dropna()
        assert ((values >= low) & (values <= high)).all()


def test_codes_clear_sentences(scorer: MIScorer) -> None:
    coded = scorer.code(PAIRS[:2])
    codes = [c for reply in coded for c, _ in reply]
    assert codes[0] in ("SR", "CR")
    assert codes[1] == "Q"
    assert codes[2] == "EMPH"
    assert codes[3] == "PERS"
    assert codes[4] == "CON"


def test_evidence_names_the_sentences_and_codes(scorer: MIScorer) -> None:
    frame = scorer.score(PAIRS[:1])
    assert "Q: How long have you been drinking every night?" in frame.loc[0, "evidence:mi_questions"]
    assert frame.loc[0, "mi_questions"] == 1


def test_change_and_sustain_talk_not_applicable_without_them(scorer: MIScorer) -> None:
    frame = scorer.score(PAIRS)
    assert frame.loc[0, "mi_change_talk"] >= 1 and frame.loc[0, "mi_sustain_talk"] >= 1
    assert math.isnan(frame.loc[2, "mi_change_talk"]) and math.isnan(frame.loc[2, "mi_sustain_talk"])
    assert math.isnan(frame.loc[4, "mi_partnership"])  # an empty reply has no coded sentence
    assert frame.loc[4, "mi_questions"] == 0 and frame.loc[4, "evidence:mi_questions"]


def test_confronting_reply_scores_lower_partnership_than_collaborative(scorer: MIScorer) -> None:
    frame = scorer.score(PAIRS[:2])
    assert frame.loc[0, "mi_partnership"] > frame.loc[1, "mi_partnership"]
    assert frame.loc[1, "mi_non_adherent"] == 2 and frame.loc[0, "mi_adherent"] >= 1


def test_advice_the_post_asked_for_counts_as_permission() -> None:
    pair = [("How do I sleep better? Any tips?", "Try a fixed bedtime.")]
    assert MIScorer().code(pair)[0][0][0] == "PWP"
    assert MIScorer(advice_asked_is_permission=False).code(pair)[0][0][0] == "PERS"


def test_batch_and_order_invariant_and_deterministic(scorer: MIScorer) -> None:
    whole = scorer.score(PAIRS)
    again = MIScorer().score(PAIRS)
    pd.testing.assert_frame_equal(whole, again)
    order = [3, 0, 4, 2, 1]
    shuffled = scorer.score([PAIRS[i] for i in order])
    pd.testing.assert_frame_equal(shuffled, whole.iloc[order].reset_index(drop=True))
    singles = pd.concat([scorer.score([p]) for p in PAIRS], ignore_index=True)
    pd.testing.assert_frame_equal(singles, whole)


def test_params_and_config(scorer: MIScorer) -> None:
    params = scorer.get_params()
    assert json.loads(json.dumps(params)) == params
    assert MIScorer(**params).get_params() == params
    config = ScoringConfig(options={"mi": {"min_shared_words": 3, "advice_asked_is_permission": False}})
    built = MIScorer.from_config(config)
    assert built.get_params()["min_shared_words"] == 3 and not built.advice_asked_is_permission
    with pytest.raises(CarelensError, match="scoring.options.mi"):
        MIScorer.from_config(ScoringConfig(options={"mi": {"threshold": 1}}))
    with pytest.raises(CarelensError, match="min_shared_words"):
        MIScorer(min_shared_words=0)
    with pytest.raises(CarelensError, match="no MI code model"):
        MIScorer(model="/nonexistent/model.npz")
    fast = MIScorer(model="fast")
    assert fast.notes["code_model"] == "mi-codes-none" and fast.parallel
    assert scorer.notes["code_model"] == "mi-codes-finetuned" and not scorer.parallel


def test_summary_scores_follow_miti_definitions() -> None:
    sentences = ["a", "b", "c?", "d", "e?", "f", "g", "h"]
    codes = ["SR", "CR", "Q", "CR", "SEEK", "PERS", "AF", "NC"]
    summary = summarise(sentences, codes, post_talk("Nothing to see."))
    values = summary.values
    assert values["mi_reflection_question_ratio"] == pytest.approx(3 / 2)  # SEEK asked as a question counts
    assert values["mi_pct_complex_reflections"] == pytest.approx(2 / 3)
    assert values["mi_adherent"] == 2 and values["mi_non_adherent"] == 1
    assert math.isnan(values["mi_change_talk"]) and math.isnan(values["mi_sustain_talk"])
    assert values["mi_partnership"] == 5  # 3 + one SEEK + exploration 0.5, rounded half up
    none = summarise(["x"], ["GI"], post_talk("Nothing to see."))
    assert math.isnan(none.values["mi_reflection_question_ratio"])
    assert math.isnan(none.values["mi_pct_complex_reflections"])


def test_globals_reward_attending_to_change_talk() -> None:
    talk = post_talk("I want to stop drinking. Nothing helps though.")
    assert talk.change and talk.sustain
    attending = summarise(["You really want to stop drinking."], ["CR"], talk).values
    ignoring = summarise(["Drinking is common.", "You must stop."], ["GI", "PERS"], talk).values
    dwelling = summarise(["Nothing helps you, though."], ["SR"], talk).values
    assert attending["mi_change_talk"] > ignoring["mi_change_talk"] == 1
    assert attending["mi_sustain_talk"] == 5 and dwelling["mi_sustain_talk"] < 3


def test_post_talk_patterns() -> None:
    assert post_talk("I really want to get better this year.").change
    assert post_talk("How can I stop overthinking?").change
    assert post_talk("I don't want to go to therapy.").sustain
    assert post_talk("What's the point anymore").sustain
    assert not post_talk("My dog is called Rex.").change
    assert post_talk("Any advice?").asks_advice and not post_talk("I had a bad day.").asks_advice


def test_label_files_are_valid_and_disjoint() -> None:
    evaluation, train, hand = pd.read_csv(EVAL_FILE), pd.read_csv(TRAIN_FILE), pd.read_csv(HANDWRITTEN_FILE)
    more = pd.read_csv(MORE_FILE)
    for frame in (evaluation, train, hand, more):
        assert set(frame["code"]) <= set(CODES)
    for a, b in ((evaluation, train), (evaluation, more), (train, more)):
        assert not set(a["response_id"]) & set(b["response_id"])
    for frame in (evaluation, train, more):
        assert not frame.duplicated(["response_id", "index"]).any()
        assert "text" not in frame.columns and "sentence" not in frame.columns  # no data texts committed


def test_shipped_models_match_the_committed_labels() -> None:
    from carelens.scoring.mi import DEFAULT_MODEL, FAST_MODEL

    for path, files in (
        (DEFAULT_MODEL, (TRAIN_FILE, HANDWRITTEN_FILE, MORE_FILE)),
        (FAST_MODEL, (TRAIN_FILE, HANDWRITTEN_FILE)),
    ):
        card = load_model(path).card
        assert card["data"]["labels_sha256"] == checksum(*files), path
        assert card["data"]["eval_labels_sha256"] == checksum(EVAL_FILE)
        assert card["frozen_eval"]["n"] == len(pd.read_csv(EVAL_FILE))


@pytest.mark.slow
def test_the_shipped_model_scores_its_cards_frozen_figures(mirror: object) -> None:
    """The frozen-set figures of the card are those of the model as shipped and as scored (fixed
    shapes, float16-rounded encoder), not only of the model in the trainer's memory."""
    from carelens.scoring.mi import DEFAULT_MODEL
    from carelens.scoring.mi_train import figures, labelled_real, predict_frame

    model = load_model(DEFAULT_MODEL)
    frozen = labelled_real(EVAL_FILE)
    measured = figures(list(frozen["code"]), predict_frame(model, frozen))
    assert measured == model.card["frozen_eval"]


def test_judge_rubric_names_the_three_globals() -> None:
    for key in ("MITI_CCT", "MITI_SST", "MITI_PARTNERSHIP", '"NA"'):
        assert key in JUDGE_RUBRIC


@pytest.mark.slow
def test_labelled_real_sentences_resolve_in_the_data(mirror: object) -> None:
    from carelens.scoring.mi_train import labelled_real

    frame = labelled_real(EVAL_FILE)
    assert len(frame) == len(pd.read_csv(EVAL_FILE))
    assert frame["sentence"].str.len().gt(0).all()


def test_the_second_coders_codes_cover_the_evaluation_set_exactly() -> None:
    first = pd.read_csv(EVAL_FILE)
    second = pd.read_csv(EVAL_FILE.with_name("eval_labels_second_coder.csv"))
    keys = ["dataset", "response_id", "index", "sha"]
    assert len(second) == len(first) == 400
    assert second[keys].equals(first[keys])
    assert set(second["code"]) <= set(CODES)
    agreement = (second["code"] == first["code"]).mean()
    assert 0.6 < agreement < 1.0  # a second coder, not a copy of the first
