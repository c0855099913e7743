"""The engine against the fake server: each fault, retries, limits, cache keys, deduplication."""

import time
from pathlib import Path

import pytest

from carelens.errors import CarelensError
from carelens.llm.engine import ChatRequest, SamplingParams, arun_requests, run_requests
from carelens.llm.settings import ClientConfig, ProviderConfig
from support.fake_openai import FakeOpenAI, Reply


def _spec(fake: FakeOpenAI) -> str:
    return f"openai-compatible:fake@{fake.base_url}"


def _config(fake: FakeOpenAI, **provider: object) -> ClientConfig:
    settings = {"timeout_seconds": 2.0, "max_attempts": 3, **provider}
    providers = {"openai-compatible": ProviderConfig(**settings)}
    return ClientConfig(providers=providers)


def _ask(fake: FakeOpenAI, texts: list[str], tmp_path: Path, config: ClientConfig | None = None,
         params: SamplingParams | None = None, samples: int = 1):
    requests = [ChatRequest(_spec(fake), [{"role": "user", "content": t}], params or SamplingParams(), s)
                for t in texts for s in range(samples)]
    return run_requests(requests, config=config or _config(fake), cache_path=tmp_path / "c.sqlite",
                        retry_base_seconds=0.01, show_progress=False)


def test_rate_limit_honours_retry_after(fake, tmp_path) -> None:
    fake.add_fault("rate_limit", times=2, retry_after=0.4)
    clock = time.perf_counter()
    [result] = _ask(fake, ["hello"], tmp_path)
    assert result.status == "ok" and result.meta["attempts"] == 3
    assert time.perf_counter() - clock >= 0.8  # two waits of Retry-After, not the 0.01 s backoff
    assert [r.status for r in fake.requests] == [429, 429, 200]


def test_server_errors_retried_then_reported_with_last_error(fake, tmp_path) -> None:
    fake.add_fault("server_error", times=2, match="flaky")
    fake.add_fault("server_error", match="down")
    flaky, down = _ask(fake, ["flaky", "down"], tmp_path)
    assert flaky.status == "ok" and flaky.meta["attempts"] == 3
    assert down.status == "error" and "HTTP 500" in down.error and down.meta["attempts"] == 3
    assert down.text is None


def test_timeout_is_retried(fake, tmp_path) -> None:
    fake.add_fault("timeout", times=1, hang=3.0)
    [result] = _ask(fake, ["slow"], tmp_path, config=_config(fake, timeout_seconds=0.3))
    assert result.status == "ok" and result.meta["attempts"] == 2


def test_timeouts_exhausted_become_an_error(fake, tmp_path) -> None:
    fake.add_fault("timeout", hang=3.0)
    [result] = _ask(fake, ["slow"], tmp_path, config=_config(fake, timeout_seconds=0.2, max_attempts=2))
    assert result.status == "error" and "Timeout" in result.error


def test_malformed_json_is_retried(fake, tmp_path) -> None:
    fake.add_fault("malformed", times=1)
    fake.add_fault("malformed", match="always")
    fine, broken = _ask(fake, ["once", "always"], tmp_path)
    assert fine.status == "ok"
    assert broken.status == "error" and "malformed" in broken.error


@pytest.mark.parametrize("kind", ["content_filter", "content_filter_400"])
def test_content_filter_is_filtered_not_retried(fake, tmp_path, kind) -> None:
    fake.add_fault(kind)
    [result] = _ask(fake, ["I want to hurt myself"], tmp_path)
    assert result.status == "filtered" and result.meta["attempts"] == 1
    assert result.meta["filter"]
    assert fake.count() == 1


@pytest.mark.parametrize("kind", ["refusal", "refusal_field"])
def test_refusals_are_refused(fake, tmp_path, kind) -> None:
    fake.add_fault(kind)
    [result] = _ask(fake, ["help"], tmp_path)
    assert result.status == "refused" and result.text and result.meta["refusal_pattern"]


def test_sympathy_is_not_a_refusal(fake, tmp_path) -> None:
    fake.reply = lambda body: "I'm sorry you're going through this. I can't help but admire your courage."
    [result] = _ask(fake, ["help"], tmp_path)
    assert result.status == "ok"


def test_empty_reply_is_an_error(fake, tmp_path) -> None:
    fake.reply = lambda body: Reply("", finish_reason="length")
    [result] = _ask(fake, ["help"], tmp_path)
    assert result.status == "error" and "empty reply" in result.error


def test_bad_credentials_stop_the_run(fake, tmp_path) -> None:
    fake.add_fault("auth_error")
    with pytest.raises(CarelensError, match="providers.openai-compatible"):
        _ask(fake, ["a", "b", "c"], tmp_path)


def test_missing_key_variable_names_the_setting(fake, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CARELENS_TEST_KEY", raising=False)
    with pytest.raises(CarelensError, match="CARELENS_TEST_KEY.*api_key_env"):
        _ask(fake, ["a"], tmp_path, config=_config(fake, api_key_env="CARELENS_TEST_KEY"))


def test_cache_key_covers_samples_params_and_messages(fake, tmp_path) -> None:
    first = _ask(fake, ["same post"], tmp_path, params=SamplingParams(temperature=0.7), samples=3)
    assert fake.count() == 3 and len({r.meta["cache_key"] for r in first}) == 3
    again = _ask(fake, ["same post"], tmp_path, params=SamplingParams(temperature=0.7), samples=3)
    assert fake.count() == 3 and all(r.cached for r in again)
    assert [r.text for r in again] == [r.text for r in first]
    _ask(fake, ["same post"], tmp_path, params=SamplingParams(temperature=0.9), samples=3)
    assert fake.count() == 6
    _ask(fake, ["other post"], tmp_path, params=SamplingParams(temperature=0.7))
    assert fake.count() == 7
    tagged = [ChatRequest(_spec(fake), [{"role": "user", "content": "same post"}],
                          SamplingParams(temperature=0.7), 0, tag="another caller")]
    [hit] = run_requests(tagged, config=_config(fake), cache_path=tmp_path / "c.sqlite", show_progress=False)
    assert hit.cached and hit.request.tag == "another caller" and fake.count() == 7


def test_errors_are_not_cached(fake, tmp_path) -> None:
    fake.add_fault("server_error", times=3)
    [failed] = _ask(fake, ["x"], tmp_path)
    [retried] = _ask(fake, ["x"], tmp_path)
    assert failed.status == "error" and retried.status == "ok" and not retried.cached


def test_identical_requests_are_sent_once(fake, tmp_path) -> None:
    results = _ask(fake, ["dup", "dup", "dup"], tmp_path)
    assert len(results) == 3 and fake.count() == 1
    assert len({r.text for r in results}) == 1


def test_results_keep_request_order(fake, tmp_path) -> None:
    fake.latency = 0.01
    texts = [f"post number {i}" for i in range(40)]
    results = _ask(fake, texts, tmp_path)
    assert [r.request.messages[0]["content"] for r in results] == texts
    assert all(f"post number {i}" in r.text for i, r in enumerate(results))


def test_concurrency_is_bounded(fake, tmp_path) -> None:
    fake.latency = 0.1
    _ask(fake, [f"p{i}" for i in range(12)], tmp_path, config=_config(fake, concurrency=3))
    events = sorted([(r.started, 1) for r in fake.requests] + [(r.ended, -1) for r in fake.requests])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 3


def test_requests_per_minute_limit(fake, tmp_path) -> None:
    clock = time.perf_counter()
    _ask(fake, [f"p{i}" for i in range(30)], tmp_path, config=_config(fake, requests_per_minute=1200))
    elapsed = time.perf_counter() - clock
    assert elapsed >= 29 / 20  # 30 requests spaced at 20/s: no burst
    starts = sorted(r.started for r in fake.requests)
    assert max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts) <= 20


def test_tokens_per_minute_limit(fake, tmp_path) -> None:
    clock = time.perf_counter()
    config = _config(fake, tokens_per_minute=60_000)  # 1,000 tokens/s; each request is ~ 20 + 80 tokens
    _ask(fake, [f"{'y' * 78}{i:02d}" for i in range(21)], tmp_path, config=config,
         params=SamplingParams(max_tokens=80))
    assert 2.0 <= time.perf_counter() - clock < 5  # 21 x 100 tokens at 1,000 a second, spaced
    starts = sorted(r.started for r in fake.requests)
    assert max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts) <= 10 + 1  # + the one opening it


def test_pii_option_can_be_turned_off(fake, tmp_path) -> None:
    config = _config(fake, strip_pii=False)
    _ask(fake, ["mail me at a.b@example.com"], tmp_path, config=config)
    assert "a.b@example.com" in fake.requests[0].last_user
    _ask(fake, ["mail me at c.d@example.com"], tmp_path)
    assert fake.requests[1].last_user == "mail me at [email]"


def test_azure_provider_with_env_headers(fake, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CARELENS_AZ_KEY", "azure-key-123")
    monkeypatch.setenv("CARELENS_TRACE", "trace-9")
    config = ClientConfig(providers={"azure": ProviderConfig(
        base_url=fake.url, api_key_env="CARELENS_AZ_KEY", headers={"x-trace": "env:CARELENS_TRACE",
                                                                   "x-team": "audit"})})
    requests = [ChatRequest("azure:my-gpt4", [{"role": "user", "content": "hi"}],
                            SamplingParams(max_tokens=9))]
    [result] = run_requests(requests, config=config, cache_path=tmp_path / "c.sqlite", show_progress=False)
    sent = fake.requests[0]
    assert result.ok and "/openai/deployments/my-gpt4/chat/completions" in sent.path
    assert sent.headers["api-key"] == "azure-key-123"
    assert sent.headers["x-trace"] == "trace-9" and sent.headers["x-team"] == "audit"
    assert sent.body["max_tokens"] == 9


def test_openai_provider_sends_max_completion_tokens(fake, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-test")
    config = ClientConfig(providers={"openai": ProviderConfig(base_url=fake.base_url)})
    requests = [ChatRequest("openai:gpt-4o", [{"role": "user", "content": "hi"}],
                            SamplingParams(max_tokens=9))]
    [result] = run_requests(requests, config=config, cache_path=tmp_path / "c.sqlite", show_progress=False)
    assert result.ok and fake.requests[0].body["max_completion_tokens"] == 9
    assert fake.requests[0].body["model"] == "gpt-4o"
    assert fake.requests[0].headers["authorization"] == "Bearer sk-openai-test"


async def test_sync_wrapper_works_inside_an_event_loop(fake, tmp_path) -> None:
    [inner] = _ask(fake, ["from a loop"], tmp_path)
    [direct] = await arun_requests([ChatRequest(_spec(fake), [{"role": "user", "content": "async"}])],
                                   config=_config(fake), use_cache=False, show_progress=False)
    assert inner.ok and direct.ok


def test_bad_requests_raise() -> None:
    with pytest.raises(ValueError, match="role"):
        ChatRequest("local:smollm2-135m", [{"role": "robot", "content": "x"}])
    with pytest.raises(CarelensError, match="unknown provider"):
        run_requests([ChatRequest("opnai:gpt-4o", [{"role": "user", "content": "x"}])], use_cache=False,
                     show_progress=False)



def _open_cache_together(path: str, barrier: object, failures: object) -> None:
    from carelens.llm.cache import ResultCache

    barrier.wait()  # type: ignore[attr-defined]
    try:
        with ResultCache(Path(path)):
            pass
    except Exception as exc:  # counted, not raised: the parent asserts on the count
        failures.put(str(exc))  # type: ignore[attr-defined]


def test_processes_opening_one_new_cache_at_once_all_succeed(tmp_path: Path) -> None:
    """Workers of one run (e.g. on Ray) open the run's new cache at the same moment."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    failures = context.Queue()
    for attempt in range(6):
        barrier = context.Barrier(10)
        path = str(tmp_path / f"shared-{attempt}.sqlite")
        workers = [
            context.Process(target=_open_cache_together, args=(path, barrier, failures)) for _ in range(10)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
    assert failures.empty(), failures.get()
