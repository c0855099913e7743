"""The generate stage: one row per planned response, collected rows, notes, errors."""

import json

import pytest
from generation_helpers import variants_frame

from carelens.errors import CarelensError
from carelens.generation.prompts import PAPER_PREFIX
from carelens.generation.stage import generate
from carelens.ids import stable_id


def _generation(fake, extra: str = "") -> str:
    return f"""
responders = ["peer", "openai-compatible:fake@{fake.base_url}"]
conditions = ["clinician", "social_media"]
samples = 2
temperature = 0.5
seed = 11
{extra}
"""


def test_one_row_per_planned_response(fake, make_ctx) -> None:
    cued = stable_id("v", "p1", "black-female-explicit")
    ctx = make_ctx(_generation(fake), variants=variants_frame(fidelity_fail=(cued,)))
    responses = generate(ctx)["responses"]
    peer = responses[responses["responder"] == "peer"]
    model = responses[responses["responder"] != "peer"]
    assert len(peer) == 6
    assert len(model) == 2 * 3 * 2  # conditions x usable variants x samples
    assert cued not in set(responses["variant_id"])
    assert responses["response_id"].is_unique
    assert set(model["status"]) == {"ok"}
    assert ctx.notes["variants_excluded_fidelity"] == 1
    assert ctx.notes["variants_used"] == 3
    assert fake.count(200) == 12 and fake.duplicates() == 0
    sent = [r.body for r in fake.requests]
    assert all(b["messages"][0]["content"].startswith(PAPER_PREFIX) for b in sent)
    assert sorted({b["seed"] for b in sent}) == [11, 12]  # sample i is sent seed + i
    meta = json.loads(model.iloc[0]["meta"])
    assert meta["cached"] is False and meta["usage"]["completion_tokens"] > 0
    assert meta["finish_reason"] == "stop"


def test_rerun_is_cached_with_same_ids(fake, make_ctx) -> None:
    first = generate(make_ctx(_generation(fake)))["responses"]
    before = fake.count()
    ctx = make_ctx(_generation(fake))
    second = generate(ctx)["responses"]
    assert fake.count() == before
    assert list(first["response_id"]) == list(second["response_id"])
    assert list(first["text"]) == list(second["text"])
    model = second[second["responder"] != "peer"]
    assert all(json.loads(m)["cached"] for m in model["meta"])
    summary = next(iter(v for k, v in ctx.notes["responders"].items() if k != "peer"))
    assert summary["cached"] == summary["requests"] == 16


def test_statuses_pii_and_cost_notes(fake, make_ctx) -> None:
    fake.add_fault("refusal", match="anxiety")
    fake.add_fault("content_filter_400", match="lost my job")
    extra = f"""
[generation.prices."openai-compatible:fake@{fake.base_url}"]
input = 1000000.0
output = 0.0
"""
    ctx = make_ctx(_generation(fake, extra))
    responses = generate(ctx)["responses"]
    model = responses[responses["responder"] != "peer"]
    by_post = {pid: set(g) for pid, g in model.groupby("post_id")["status"]}
    assert by_post == {"p1": {"ok"}, "p2": {"refused"}, "p3": {"filtered"}}
    p1_sent = [r.last_user for r in fake.requests if "felt empty" in r.last_user]
    assert p1_sent and all("[user]" in t and "[phone]" in t and "555" not in t for t in p1_sent)
    responder = f"openai-compatible:fake@{fake.base_url}"
    assert ctx.notes["pii"][responder]["stripped"] is True
    assert ctx.notes["pii"][responder]["removed"] == {"username": 8, "phone": 8, "email": 4}
    prompt_tokens = sum(json.loads(m)["usage"].get("prompt_tokens", 0) for m in model["meta"])
    assert ctx.notes["cost_usd"] == pytest.approx(prompt_tokens)


def test_listed_collected_responder_without_rows_is_an_error(fake, make_ctx) -> None:
    ctx = make_ctx('responders = ["peer", "therapist"]')
    with pytest.raises(CarelensError, match="generation.responders") as err:
        generate(ctx)
    assert "therapist" in str(err.value) and "peer" in str(err.value)


def test_collected_only_study_sends_nothing(fake, make_ctx) -> None:
    responses = generate(make_ctx('responders = ["peer"]'))["responses"]
    assert len(responses) == 6 and fake.count() == 0
