"""Failures that fail: error rows above [generation] max_error_share fail the stage (rows written),
errors are never served from the cache, and a re-run retries exactly the failed requests."""

import json
from collections import Counter

from carelens.generation.stage import generate
from carelens.llm.cache import ResultCache

PLANNED = 2 * 4 * 2  # conditions x variants x samples


def _generation(fake, extra: str = "", attempts: int = 1) -> str:
    return f"""
responders = ["peer", "openai-compatible:fake@{fake.base_url}"]
conditions = ["clinician", "social_media"]
samples = 2
seed = 3
{extra}

[generation.providers.openai-compatible]
max_attempts = {attempts}
timeout_seconds = 5
"""


def _model_rows(responses):
    return responses[responses["responder"] != "peer"]


def test_any_error_fails_the_stage_with_a_summary(fake, make_ctx) -> None:
    fake.add_fault("server_error", match="anxiety")  # p2: 2 conditions x 2 samples
    ctx = make_ctx(_generation(fake))
    model = _model_rows(generate(ctx)["responses"])
    assert len(model) == PLANNED and Counter(model["status"]) == {"ok": 12, "error": 4}
    message = ctx.failure
    assert message is not None and len(message.splitlines()) <= 12
    assert message.startswith("4 of 16 generation requests failed (25.0%")
    assert "by status: ok 12, error 4" in message
    assert "4 x InternalServerError (HTTP 500)" in message
    assert "re-run" in message and "max_error_share" in message
    assert ctx.notes["failed_requests"] == 4


def test_errors_within_the_allowed_share_pass(fake, make_ctx) -> None:
    fake.add_fault("server_error", match="anxiety")
    ctx = make_ctx(_generation(fake, "max_error_share = 0.25"))
    generate(ctx)
    assert ctx.failure is None
    ctx = make_ctx(_generation(fake, "max_error_share = 0.2"))
    generate(ctx)
    assert ctx.failure is not None


def test_error_rows_in_the_cache_are_never_served(fake, make_ctx, tmp_path) -> None:
    generate(make_ctx(_generation(fake)))
    with ResultCache(tmp_path / "cache.sqlite") as cache:  # as an older or foreign writer might leave it
        cache._db.execute("UPDATE results SET status = 'error', text = NULL")
    before = fake.count()
    ctx = make_ctx(_generation(fake))
    model = _model_rows(generate(ctx)["responses"])
    assert set(model["status"]) == {"ok"} and fake.count() - before == PLANNED
    assert ctx.failure is None


def _answered(fake) -> Counter[str]:
    return Counter(json.dumps(r.body, sort_keys=True) for r in fake.requests if r.status == 200)


def test_endpoint_down_then_up_retries_exactly_the_failed_rows(fake, make_ctx) -> None:
    fake.add_fault("server_error")  # the endpoint is down: every request fails
    ctx = make_ctx(_generation(fake, attempts=2))
    down = _model_rows(generate(ctx)["responses"])
    assert set(down["status"]) == {"error"} and len(down) == PLANNED
    assert ctx.failure is not None and f"{PLANNED} of {PLANNED} generation requests failed" in ctx.failure
    assert fake.count(500) == 2 * PLANNED and fake.count(200) == 0

    fake.clear_faults()  # the endpoint is up again
    ctx = make_ctx(_generation(fake, attempts=2))
    up = _model_rows(generate(ctx)["responses"])
    assert set(up["status"]) == {"ok"} and ctx.failure is None
    assert list(up["response_id"]) == list(down["response_id"])  # the same rows, now answered
    assert fake.count(200) == PLANNED and set(_answered(fake).values()) == {1}  # each once: no duplicate
    assert not any(json.loads(m)["cached"] for m in up["meta"])

    ctx = make_ctx(_generation(fake, attempts=2))
    again = _model_rows(generate(ctx)["responses"])
    assert fake.count(200) == PLANNED  # nothing sent: every row comes from the cache
    assert all(json.loads(m)["cached"] for m in again["meta"])
    assert list(again["text"]) == list(up["text"])


def test_a_partial_failure_re_sends_only_the_failed_requests(fake, make_ctx) -> None:
    fake.add_fault("server_error", match="lost my job")  # p3 fails, p1, p2 and the cued p1 answer
    first = _model_rows(generate(make_ctx(_generation(fake)))["responses"])
    failed = first[first["status"] == "error"]
    assert len(failed) == 4
    fake.clear_faults()
    sent_before = len(fake.requests)
    ctx = make_ctx(_generation(fake))
    second = _model_rows(generate(ctx)["responses"])
    resent = fake.requests[sent_before:]
    assert len(resent) == 4 and all("lost my job" in r.last_user for r in resent)
    assert set(second["status"]) == {"ok"} and ctx.failure is None
    assert set(_answered(fake).values()) == {1}
    cached = {rid: json.loads(m)["cached"] for rid, m in zip(second["response_id"], second["meta"],
                                                               strict=True)}
    assert {rid for rid, hit in cached.items() if not hit} == set(failed["response_id"])
