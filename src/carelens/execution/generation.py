"""Generation requests spread over Ray workers, with the guarantees of the local engine.

Requests are sharded by a hash of what is sent (responder, messages, parameters, sample), so
identical requests land on the same worker and are paid for once. Each worker runs the ordinary
engine (``carelens.llm.engine.run_requests``) on its shard with the study's rate limits
divided by the number of workers (requests/min, tokens/min and concurrency of every provider, and
the study-wide concurrency), so the limits hold for the whole cluster. Every worker reads and
writes the run's one SQLite cache, committing each final result as it arrives: a worker that is
lost is retried and finds its finished requests there, and a run resumed after a crash of the driver
pays only for the requests that never finished. The cache must live on storage every worker sees
with working file locks (a local disk for a one-machine cluster, not NFS).
"""

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

from carelens.execution.cluster import ray_cluster
from carelens.execution.settings import ExecutionConfig
from carelens.llm.engine import ChatRequest, ChatResult, run_requests
from carelens.llm.settings import ClientConfig


def shard_of(request: ChatRequest, shards: int) -> int:
    """The worker a request goes to: the same for every request that sends the same thing."""
    sent = json.dumps(
        [request.responder, request.messages, request.params.as_dict(), request.sample],
        sort_keys=True,
        default=str,
    )
    return int(hashlib.sha256(sent.encode()).hexdigest()[:8], 16) % shards


def per_worker_limits(config: ClientConfig, workers: int) -> ClientConfig:
    """The generation settings with every rate limit and concurrency divided among ``workers``.

    Only the limits a study sets are divided (an unset one stays unset, so a provider's own entry
    still inherits its kind's limits).
    """
    providers = {}
    for name, provider in config.providers.items():
        update: dict[str, float | int] = {}
        if provider.requests_per_minute:
            update["requests_per_minute"] = provider.requests_per_minute / workers
        if provider.tokens_per_minute:
            update["tokens_per_minute"] = provider.tokens_per_minute / workers
        if provider.concurrency:
            update["concurrency"] = max(1, provider.concurrency // workers)
        providers[name] = provider.model_copy(update=update)
    return config.model_copy(
        update={"providers": providers, "concurrency": max(1, math.ceil(config.concurrency / workers))}
    )


def _run_shard(requests: list[ChatRequest], config: ClientConfig, cache_path: str) -> list[ChatResult]:
    return run_requests(requests, config=config, cache_path=cache_path, show_progress=False)


def run_requests_on_ray(
    requests: Sequence[ChatRequest],
    *,
    execution: ExecutionConfig,
    config: ClientConfig,
    cache_path: Path,
    progress_label: str = "generating",
) -> list[ChatResult]:
    """One ChatResult per request, in request order, from ``execution.num_workers`` Ray workers."""
    workers = execution.num_workers
    shards: list[list[int]] = [[] for _ in range(workers)]
    for index, request in enumerate(requests):
        shards[shard_of(request, workers)].append(index)
    shared = per_worker_limits(config, workers)
    results: list[ChatResult | None] = [None] * len(requests)
    with ray_cluster(execution) as ray:
        task = ray.remote(num_cpus=execution.num_cpus_per_worker, max_retries=3)(_run_shard)
        pending = {
            task.remote([requests[i] for i in shard], shared, str(cache_path)): shard
            for shard in shards
            if shard
        }
        for ref, shard in pending.items():
            for index, result in zip(shard, ray.get(ref), strict=True):
                results[index] = result
    missing = sum(r is None for r in results)
    if missing:
        raise RuntimeError(f"{progress_label}: {missing} request(s) came back without a result from Ray")
    return [r for r in results if r is not None]
