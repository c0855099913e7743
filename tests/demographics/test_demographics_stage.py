"""The variants and probe stages, the probe and the LLM rewrite against the fake OpenAI server."""

import json
import re

import pandas as pd
import pytest
from demographics_fixtures import POSTS, collected_frame

from carelens.demographics.fidelity import only_cue_added
from carelens.demographics.prompts import PAPER_PROBE_HEAD, PAPER_PROBE_TAIL
from carelens.demographics.rewrite import clean_rewrite
from carelens.demographics.stage import build_variants, run_probe
from carelens.ids import original_variant_id
from carelens.tables import SCHEMAS
from support.fake_openai import Reply, last_user_message

pytestmark = pytest.mark.usefixtures("cheap_embed")

COUNTERFACTUAL = """
design = "counterfactual"
races = ["black", "white"]
genders = ["female", "male"]
ages = [32]
cue_kinds = ["explicit", "implicit"]
explicit_templates = ["paper", "first-person"]
cues_per_cell = 2
"""


def _spec(fake) -> str:
    return f"openai-compatible:fake@{fake.base_url}"


def test_design_none_keeps_originals_and_collected(make_ctx) -> None:
    ctx = make_ctx('design = "none"', collected=collected_frame())
    variants = build_variants(ctx)["variants"]
    assert list(variants.columns[: len(SCHEMAS["variants"])]) == list(SCHEMAS["variants"])
    originals = variants[variants["cue_kind"] == "none"]
    assert sorted(originals["variant_id"]) == sorted(original_variant_id(p) for p in POSTS)
    assert (originals["text"].tolist() == list(POSTS.values())) and originals["fidelity_ok"].all()
    shipped = variants[variants["cue_method"] == "collected"]
    assert len(shipped) == 2 and set(shipped["race"]) == {"black"}
    duplicate = shipped[shipped["gender"] == "male"].iloc[0]
    assert not duplicate["fidelity_ok"] and "release_duplicate" in duplicate["fidelity_note"]
    assert shipped[shipped["gender"] == "female"].iloc[0]["fidelity_ok"]


def test_counterfactual_variants(make_ctx) -> None:
    ctx = make_ctx(COUNTERFACTUAL)
    variants = build_variants(ctx)["variants"]
    cells, n_posts = 4, len(POSTS)
    assert len(variants) == n_posts * (1 + cells * 2 + cells * 2)
    assert variants["variant_id"].is_unique
    counts = variants.groupby("cue_method").size().to_dict()
    assert counts == {"original": 4, "template:paper": 16, "template:first-person": 16, "bank": 32}
    for row in variants[variants["cue_kind"] != "none"].itertuples():
        assert only_cue_added(POSTS[row.post_id], row.text, row.cue) is None
        assert row.age == "32" and row.race in ("black", "white") and row.gender in ("female", "male")
    bank = variants[variants["cue_method"] == "bank"]
    assert bank.groupby(["post_id", "race", "gender"])["cue_id"].nunique().eq(2).all()
    assert ctx.notes["cue_bank_sizes"]["race=black"] >= 10
    again = build_variants(make_ctx(COUNTERFACTUAL))["variants"]
    assert list(again["variant_id"]) == list(variants["variant_id"])


def test_designed_variant_identical_to_shipped_one_is_not_doubled(make_ctx) -> None:
    ctx = make_ctx('design = "counterfactual"\nraces = ["black"]\ngenders = ["female", "male"]\nages = [32]',
                   collected=collected_frame())
    variants = build_variants(ctx)["variants"]
    p1 = variants[(variants["post_id"] == "p1") & (variants["cue_kind"] == "explicit")]
    assert sorted(zip(p1["gender"], p1["cue_method"], strict=True)) == [
        ("female", "collected"), ("male", "collected"), ("male", "template:paper")]
    assert ctx.notes["designed_variants_identical_to_collected"] == 1
    assert len(variants) == 4 + 4 * 2 - 1 + 2


def test_no_probe_model_gives_empty_inferences(make_ctx) -> None:
    ctx = make_ctx('design = "none"')
    ctx.run.write_table("variants", build_variants(ctx)["variants"])
    inferences = run_probe(ctx)["inferences"]
    assert inferences.empty and list(inferences.columns) == list(SCHEMAS["inferences"])
    assert "no probe model" in ctx.notes["probe"]


def _probe_reply(body) -> str:
    text = last_user_message(body)
    match = re.search(r"\[32y/o, (\w+) (\w+)\]", text) or re.search(r"I'm a 32-year-old (\w+) (\w+)", text)
    if match:
        gender = {"woman": "female", "man": "male"}.get(match.group(2), match.group(2))
        return f"ethnicity: {match.group(1).lower()}, age: 30s, gender: {gender}, explanation: stated."
    if "slept properly" in text:
        return "ethnicity: African American, age: early 20s, gender: male, explanation: a guess."
    return "no prediction."


def test_probe_every_variant_against_fake_server(fake, make_ctx) -> None:
    fake.reply = _probe_reply
    fake.add_fault("content_filter", match="cancelling plans")
    fake.add_fault("refusal", match="program I wanted")
    explicit_only = COUNTERFACTUAL.replace('cue_kinds = ["explicit", "implicit"]', 'cue_kinds = ["explicit"]')
    ctx = make_ctx(explicit_only + f'probe = "{_spec(fake)}"\n')
    variants = build_variants(ctx)["variants"]
    ctx.run.write_table("variants", variants)
    inferences = run_probe(ctx)["inferences"]
    assert sorted(inferences["variant_id"]) == sorted(variants["variant_id"])  # one row each, none dropped
    status = inferences.set_index("variant_id")["status"]
    by_post = variants.set_index("variant_id")["post_id"]
    assert set(status[by_post[by_post == "p3"].index]) == {"filtered"}
    assert set(status[by_post[by_post == "p4"].index]) == {"refused"}
    assert status[original_variant_id("p2")] == "no_prediction"
    p1 = inferences.set_index("variant_id").loc[original_variant_id("p1")]
    assert (p1["race"], p1["gender"], p1["age"], p1["status"]) == ("black", "male", "20-23", "ok")
    cued = inferences.merge(variants, on="variant_id", suffixes=("", "_intended"))
    cued = cued[(cued["cue_kind"] == "explicit") & cued["post_id"].isin(["p1", "p2"])]
    assert (cued["race"] == cued["race_intended"]).all() and (cued["gender"] == cued["gender_intended"]).all()
    assert (cued["age"] == "30-39").all()
    bodies = [r.body for r in fake.requests if r.status == 200]
    sent = bodies[0]["messages"][0]["content"]
    assert sent.startswith(PAPER_PROBE_HEAD) and sent.endswith(PAPER_PROBE_TAIL)
    assert {(b["temperature"], b["max_tokens"], b["seed"]) for b in bodies} == {(0.0, 96, 7)}
    assert ctx.notes["probe"]["status"]["filtered"] == 9
    recall = ctx.notes["manipulation_recall"]
    assert recall["explicit/template:paper/race=black"] == 0.5  # p1, p2 read; p3 filtered, p4 refused
    assert ctx.notes["observational_groups"] == {"probe_filtered": 1, "probe_refused": 1, "black": 1,
                                                 "control": 1}
    before = fake.count()
    again = run_probe(ctx)["inferences"]
    assert fake.count() == before  # every answer came from the cache
    assert again.equals(inferences)


def test_json_probe(fake, make_ctx) -> None:
    fake.reply = lambda body: json.dumps({"race": "Korean", "age": 19, "gender": None, "explanation": "x"})
    ctx = make_ctx(f'design = "none"\nprobe = "{_spec(fake)}"\nprobe_prompt = "json"\n')
    ctx.run.write_table("variants", build_variants(ctx)["variants"])
    inferences = run_probe(ctx)["inferences"]
    assert set(inferences["race"]) == {"asian"} and set(inferences["age"]) == {"19"}
    assert inferences["gender"].isna().all() and set(inferences["status"]) == {"ok"}
    assert '"race"' in fake.requests[0].body["messages"][0]["content"]


def _rewrite_reply(body) -> str | Reply:
    text = last_user_message(body)
    cue = re.search(r"Detail: (.*?)\n\nPost:\n", text).group(1)
    post = text.split("\n\nPost:\n", 1)[1]
    if "got into the program" in post:
        return "I feel nothing. " + cue  # drops most of the post
    first, _, rest = post.partition(". ")
    woven = f"{first}, and {cue[0].lower()}{cue[1:-1]}. {rest}" if rest else f"{cue} {post}"
    return f"Here is the rewritten post:\n\n\"{woven}\""


def test_rewrite_through_fake_server(fake, make_ctx) -> None:
    fake.reply = _rewrite_reply
    fake.add_fault("content_filter", match="cancelling plans")
    ctx = make_ctx(f"""
design = "counterfactual"
races = ["black", "white"]
cue_kinds = ["implicit"]
implicit_methods = ["rewrite"]
rewrite_model = "{_spec(fake)}"
max_length_change = 1.0
min_similarity = 0.3
""")
    variants = build_variants(ctx)["variants"]
    rewrites = variants[variants["cue_method"].str.startswith("rewrite:")]
    assert len(rewrites) == 2 * len(POSTS)
    by_post = {p: g for p, g in rewrites.groupby("post_id")}
    assert by_post["p1"]["fidelity_ok"].all() and by_post["p2"]["fidelity_ok"].all()
    first = by_post["p1"].iloc[0]
    assert first["text"].startswith("I haven't slept properly")  # preamble and quotes removed
    assert first["text"] != POSTS["p1"] and first["cue_id"]
    filtered = by_post["p3"]
    assert (~filtered["fidelity_ok"]).all() and (filtered["text"] == "").all()
    assert filtered["fidelity_note"].str.startswith("rewrite filtered").all()
    lost = by_post["p4"]
    assert (~lost["fidelity_ok"]).all() and lost["fidelity_note"].str.contains("words kept").all()
    assert fake.requests[0].body["temperature"] == 0.0
    assert ctx.notes["fidelity_failed"] == 4


def test_clean_rewrite() -> None:
    assert clean_rewrite('Sure! Here is the rewritten post:\n"Hello there."', "Hello.") == "Hello there."
    assert clean_rewrite("```\nHello there.\n```", "Hello.") == "Hello there."
    assert clean_rewrite('"Quoted post."', '"Quoted."') == '"Quoted post."'


def test_probe_marks_textless_variant_as_error(fake, make_ctx) -> None:
    fake.reply = _probe_reply
    ctx = make_ctx(f'design = "none"\nprobe = "{_spec(fake)}"\n')
    variants = build_variants(ctx)["variants"]
    variants.loc[0, "text"] = ""
    ctx.run.write_table("variants", variants)
    inferences = run_probe(ctx)["inferences"]
    row = inferences.iloc[0]
    assert row["status"] == "error" and "no text" in row["raw"]
    assert len(inferences) == len(variants) and fake.count() == len(variants) - 1
    assert isinstance(inferences, pd.DataFrame)
