"""The embedded SmolLM2-135M really generates, deterministically per seed, and long posts are cut."""

import pytest

pytest.importorskip("llama_cpp")

from carelens.llm.engine import ChatRequest, SamplingParams, run_requests  # noqa: E402
from carelens.llm.providers import LOCAL_CONTEXT_TOKENS, _fit_context, _load_llama  # noqa: E402

POST = "I have been feeling down for weeks and I can't sleep. What can I do?"


def _requests(*samples: int) -> list[ChatRequest]:
    return [ChatRequest("local:smollm2-135m", [{"role": "user", "content": POST}],
                        SamplingParams(max_tokens=12, temperature=0.9, seed=3), sample=s) for s in samples]


def test_local_model_is_deterministic_per_seed(tmp_path) -> None:
    first = run_requests(_requests(0, 1), cache_path=tmp_path / "c.sqlite", show_progress=False)
    again = run_requests(_requests(0), use_cache=False, show_progress=False)
    assert all(r.status in ("ok", "refused") and r.text for r in first)
    assert first[0].text == again[0].text
    assert first[0].meta["params"]["seed"] == 3 and first[1].meta["params"]["seed"] == 4
    assert first[0].text != first[1].text
    assert 0 < first[0].usage["completion_tokens"] <= 12
    assert first[0].meta["pii_removed"] == {}  # local: nothing leaves the machine, nothing stripped
    cached = run_requests(_requests(0, 1), cache_path=tmp_path / "c.sqlite", show_progress=False)
    assert [r.text for r in cached] == [r.text for r in first] and all(r.cached for r in cached)


def test_long_posts_are_truncated_to_fit_the_context() -> None:
    llm = _load_llama()
    long_post = "I keep replaying every mistake I ever made. " * 400
    messages = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": long_post}]
    fitted, cut = _fit_context(llm, messages, 160)
    assert cut > 0 and fitted[0] == messages[0]
    assert fitted[1]["content"].endswith(" [...]")
    total = sum(len(llm.tokenize(m["content"].encode(), add_bos=False, special=False)) for m in fitted)
    assert total <= LOCAL_CONTEXT_TOKENS - 160 - 64
    short = [{"role": "user", "content": POST}]
    assert _fit_context(llm, short, 160) == (short, 0)
