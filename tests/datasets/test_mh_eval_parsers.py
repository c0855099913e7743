"""The mh-eval parsers against the mirror: counts after cleaning and every known defect handled."""

import json

import pandas as pd
import pytest

from carelens.config import load_study
from carelens.datasets.registry import get_dataset
from carelens.ids import original_variant_id
from carelens.study import run_study


@pytest.fixture(scope="module")
def reddit(mirror):
    return get_dataset("mh-eval-reddit").parse()


@pytest.fixture(scope="module")
def gpt4(mirror):
    return get_dataset("mh-eval-gpt4").parse()


@pytest.fixture(scope="module")
def counterfactual(mirror):
    return get_dataset("mh-eval-counterfactual").parse()


def test_reddit_counts_after_cleaning(reddit):
    assert reddit.posts["community"].nunique() == 26
    assert len(reddit.posts) == 12511
    assert len(reddit.responses) == 71020
    assert reddit.notes["follow_up_rows_excluded"] == 15000
    assert reddit.notes["replies_empty_or_removed"] == 1258
    assert reddit.notes["posts_empty_or_removed"] == 19


def test_reddit_texts_are_clean_and_ids_unique(reddit):
    assert not reddit.posts["text"].str.strip().isin(["", "[removed]", "[deleted]"]).any()
    assert not reddit.responses["text"].str.strip().isin(["", "[removed]", "[deleted]"]).any()
    assert reddit.posts["post_id"].is_unique and reddit.responses["response_id"].is_unique
    assert set(reddit.responses["post_id"]) <= set(reddit.posts["post_id"])
    assert (reddit.responses["variant_id"] == reddit.responses["post_id"].map(original_variant_id)).all()


def test_reddit_crossposts_are_flagged(reddit):
    flagged = reddit.posts[reddit.posts["defects"] == "crossposted"]
    assert len(flagged) > 0 and flagged["communities"].str.contains(";").all()
    # every merged copy is accounted for: one extra community entry per copy
    assert flagged["communities"].str.count(";").sum() == reddit.notes["posts_duplicate_copies_merged"]


def test_multiline_quoted_fields_survive(reddit):
    assert reddit.posts["text"].str.contains("\n").sum() > 1000


def test_gpt4_shifted_columns_are_repaired(gpt4, mirror):
    recorded = gpt4.responses[gpt4.responses["responder"] == "recorded:gpt-4"]
    assert set(recorded["condition"]) == {
        "social_media",
        "mental_health_forum",
        "clinician",
        "forum_without_demographics",
        "forum_with_demographics",
    }
    meta = recorded["meta"].map(json.loads)
    swapped = meta.map(lambda m: m["label_swap_suspected"])
    assert (
        swapped.sum()
        == recorded["condition"].isin(["forum_without_demographics", "forum_with_demographics"]).sum()
    )
    raw = pd.read_csv(mirror / "mh-eval/gpt4_responses/eval_set_black_gpt4_rescored.tsv", sep="\t")
    black = meta[meta.map(lambda m: m.get("paper_race") == "black")]
    assert len(black) == len(raw) == 1226
    scores = gpt4.scores.pivot(index="response_id", columns="metric", values="value")
    black_scores = scores.loc[recorded["response_id"][black.index]]
    assert black_scores["paper_toxicity"].mean() == pytest.approx(raw["sentiment"].mean())
    assert black_scores["paper_ER"].mean() == pytest.approx(raw["pred_ER"].mean())
    assert black_scores["paper_EX"].mean() == pytest.approx(raw["pred_EX"].mean())


def test_gpt4_recorded_scores_are_collected_scores_not_meta(gpt4):
    scores = gpt4.scores
    assert set(scores["scorer"]) == {"recorded:paper"}
    assert scores["response_id"].isin(gpt4.responses["response_id"]).all()
    assert not scores.duplicated(["response_id", "scorer", "metric"]).any()
    per_metric = scores.groupby("metric").size()
    # every reply has ER, IP, EX and toxicity; the peer eval sets also P(negative)
    for metric in ("paper_ER", "paper_IP", "paper_EX", "paper_toxicity"):
        assert per_metric[metric] == len(gpt4.responses)
    assert per_metric["paper_sentiment_negative"] == (gpt4.responses["responder"] == "peer").sum()
    recorded = scores[scores["response_id"].isin(gpt4.responses.query("responder != 'peer'")["response_id"])]
    assert set(recorded.loc[recorded["metric"] == "paper_toxicity", "evidence"]) == {"sentiment"}
    assert (
        scores.loc[scores["metric"].isin(["paper_ER", "paper_IP", "paper_EX"]), "value"].isin([0, 1, 2]).all()
    )
    metas = gpt4.responses["meta"].map(json.loads)
    assert not metas.map(
        lambda m: any(k in m for k in ("paper_ER", "paper_IP", "paper_EX", "paper_toxicity"))
    ).any()


def test_reddit_epitome_levels_are_recorded_scores(reddit, mirror):
    scores = reddit.scores
    assert set(scores["scorer"]) == {"recorded:paper"}
    assert set(scores["metric"]) == {"paper_ER", "paper_IP", "paper_EX"}
    assert set(scores["value"]) == {0.0, 1.0, 2.0}
    assert scores["response_id"].isin(reddit.responses["response_id"]).all()
    # levels are words in the release; counted independently from one file
    raw = pd.read_csv(
        mirror / "mh-eval/original_reddit/processed_blackmen.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    replies = raw[raw["type"] == "reply"]
    levels = {"no": 0.0, "weak": 1.0, "strong": 2.0}
    known = replies["empathy_er"].str.strip().str.lower().isin(list(levels))
    assert known.all()
    assert reddit.notes.get("scores_missing", 0) == 0
    assert len(scores) == 3 * len(reddit.responses)
    assert reddit.responses["meta"].eq("{}").all()


def test_gpt4_subset_files_merge_groups(gpt4):
    meta = gpt4.responses["meta"].map(json.loads)
    female = meta[meta.map(lambda m: m.get("paper_gender") == "female")]
    assert len(female) == 110
    assert female.map(lambda m: m.get("paper_race") == "asian").all()


def test_counterfactual_design_and_duplicate_file_flag(counterfactual):
    assert len(counterfactual.posts) == 11
    variants = counterfactual.variants
    assert len(variants) == 88
    flagged = variants[~variants["fidelity_ok"]]
    assert len(flagged) == 11
    assert set(zip(flagged["race"], flagged["gender"], flagged["cue_kind"], strict=True)) == {
        ("black", "male", "explicit")
    }
    responses = counterfactual.responses
    assert len(responses) == 990
    per_variant = responses.groupby("variant_id").size()
    assert (per_variant == 10).all() and len(per_variant) == 99
    originals = {original_variant_id(p) for p in counterfactual.posts["post_id"]}
    assert originals <= set(per_variant.index)


def test_epitome_and_counsel_chat(mirror):
    epitome = get_dataset("epitome").parse()
    assert len(epitome.posts) == 2979 and len(epitome.responses) == 3023
    assert epitome.notes["repeated_pairs_kept_once"] == 3084 - 3023
    counsel = get_dataset("counsel-chat").parse()
    assert len(counsel.posts) == 815
    assert set(counsel.responses["responder"]) == {"therapist"}
    # a question listed under several topics keeps its first: 29 of the 31 topics lead some question
    assert counsel.posts["community"].nunique() == 29


def test_data_stage_writes_the_recorded_scores_of_the_sampled_replies(tmp_path, mirror):
    study = tmp_path / "s.toml"
    study.write_text('[study]\nname = "s"\n[[data]]\ndataset = "mh-eval-gpt4"\nposts = 5\n', encoding="utf-8")
    run = run_study(load_study(study), until="data")
    responses = run.read_table("collected_responses")
    scores = run.read_table("collected_scores")
    assert len(run.read_table("posts")) == 5 and len(responses) > 0
    assert set(scores["response_id"]) == set(responses["response_id"])
    per_reply = scores[scores["metric"].isin(["paper_ER", "paper_IP", "paper_EX", "paper_toxicity"])]
    assert (per_reply.groupby("response_id").size() == 4).all()
    notes = json.loads(run.manifest_path.read_text())["stages"]["data"]["notes"]
    assert notes["collected_scores"] == len(scores) == notes["sources"][0]["collected_scores"]
    assert notes["responses_by_status"] == {"ok": len(responses)}
