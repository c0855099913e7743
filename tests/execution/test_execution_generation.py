"""Generation on a real local Ray cluster against the fake OpenAI server: one result per planned
request, no request paid twice, the rate limit held for the whole cluster, resume from the cache."""

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from carelens.execution.generation import per_worker_limits, run_requests_on_ray
from carelens.execution.settings import ExecutionConfig
from carelens.generation.settings import GenerationConfig
from carelens.llm.engine import ChatRequest, SamplingParams
from carelens.llm.settings import ProviderConfig
from support.fake_openai import FakeOpenAI

from .conftest import ray_workers

pytestmark = pytest.mark.slow

PER_MINUTE = 600.0  # 10 requests a second for the whole cluster


def _requests(spec: str) -> list[ChatRequest]:
    texts = [f"post number {i}" for i in range(24)] + ["post number 3", "post number 7"]  # 2 repeats
    return [ChatRequest(spec, [{"role": "user", "content": t}], SamplingParams(), 0) for t in texts]


def test_requests_spread_over_workers_hold_the_cluster_rate_and_pay_once(tmp_path: Path, ray_local) -> None:
    execution = ExecutionConfig(engine="ray", num_workers=2)
    with FakeOpenAI() as fake:
        spec = f"openai-compatible:fake@{fake.base_url}"
        provider = ProviderConfig(timeout_seconds=5.0, requests_per_minute=PER_MINUTE, concurrency=4)
        config = GenerationConfig(responders=[spec], providers={"openai-compatible": provider})
        requests = _requests(spec)
        cache = tmp_path / "cache.sqlite"
        results = run_requests_on_ray(requests, execution=execution, config=config, cache_path=cache)
        assert [r.request for r in results] == requests  # one result per planned request, in order
        assert all(r.status == "ok" for r in results)
        assert results[3].text == results[24].text
        answered = [r for r in fake.requests if r.status == 200]
        assert len(answered) == 24 and fake.duplicates() == 0
        starts = sorted(r.started for r in answered)
        # 24 requests at 10/s with a burst of one per worker take at least (24 - 2) / 10 s; two workers
        # that each used the whole limit would finish in about half of that.
        assert starts[-1] - starts[0] >= 1.9

        again = run_requests_on_ray(requests, execution=execution, config=config, cache_path=cache)
        assert len(fake.requests) == len(answered)  # resumed from the shared cache: nothing re-sent
        assert all(r.cached for r in again) and [r.text for r in again] == [r.text for r in results]


def test_a_generation_worker_killed_mid_stage_loses_nothing_and_resends_only_what_was_in_flight(
    tmp_path: Path, ray_local
) -> None:
    execution = ExecutionConfig(engine="ray", num_workers=2)
    killed: list[int] = []
    with FakeOpenAI(latency=0.05) as fake:
        spec = f"openai-compatible:fake@{fake.base_url}"
        provider = ProviderConfig(timeout_seconds=5.0, requests_per_minute=PER_MINUTE, concurrency=4)
        config = GenerationConfig(responders=[spec], providers={"openai-compatible": provider})
        messages = [[{"role": "user", "content": f"post {i}"}] for i in range(40)]
        requests = [ChatRequest(spec, m, SamplingParams(), 0) for m in messages]

        def kill_one_worker_once_some_are_answered() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                workers = ray_workers("_run_shard")
                if workers and fake.count(200) >= 8:
                    os.kill(workers[0], signal.SIGKILL)
                    killed.append(workers[0])
                time.sleep(0.02)

        killer = threading.Thread(target=kill_one_worker_once_some_are_answered)
        killer.start()
        results = run_requests_on_ray(
            requests, execution=execution, config=config, cache_path=tmp_path / "cache.sqlite"
        )
        killer.join()
        assert killed, "no generation worker was found to kill"
        assert [r.request for r in results] == requests and all(r.status == "ok" for r in results)
        # The retried shard finds its finished requests in the cache; only those in flight when the
        # worker died (at most its share of the concurrency, 4 / 2) can be sent again.
        assert fake.count(200) - fake.duplicates() == 40
        assert fake.duplicates() <= 2


def test_limits_are_divided_among_workers_and_unset_ones_stay_unset() -> None:
    config = GenerationConfig.model_validate(
        {
            "concurrency": 5,
            "providers": {
                "openai": {"requests_per_minute": 600, "tokens_per_minute": 9000, "concurrency": 4},
                "openai:gpt-4o": {"max_attempts": 2},
            },
        }
    )
    divided = per_worker_limits(config, 3)
    assert divided.concurrency == 2
    assert divided.providers["openai"].requests_per_minute == 200
    assert divided.providers["openai"].tokens_per_minute == 3000
    assert divided.providers["openai"].concurrency == 1
    assert divided.providers["openai:gpt-4o"].model_fields_set == {"max_attempts"}


def test_generate_stage_on_ray_writes_the_local_engines_responses(tmp_path: Path, ray_local) -> None:
    from carelens.execution.synthetic import synthetic_tables
    from carelens.generation.stage import generate

    from .conftest import study_context

    tables = synthetic_tables(1, posts=12)
    del tables["responses"]
    with FakeOpenAI() as fake:
        body = (
            f'[generation]\nresponders = ["openai-compatible:fake@{fake.base_url}"]\n'
            'conditions = ["social_media", "clinician"]\ncache = "cache.sqlite"\n'
            "[generation.providers.openai-compatible]\nrequests_per_minute = 1200\n"
        )
        local = generate(study_context(tmp_path / "local", tables, body))["responses"]
        sent_locally = len(fake.requests)
        on_ray = generate(study_context(tmp_path / "ray", tables, body + '[execution]\nengine = "ray"\n'))
        # 12 posts x 2 conditions, sent once by each engine (each run has its own cache)
        assert len(fake.requests) - sent_locally == sent_locally == 24 and fake.duplicates() == 24
    columns = ["response_id", "variant_id", "responder", "condition", "sample", "text", "status"]
    pd.testing.assert_frame_equal(local[columns], on_ray["responses"][columns])
