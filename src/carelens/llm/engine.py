"""The model client: many chat requests to many providers, each ending as exactly one result.

Public API (used by every stage that asks a model something)::

    from carelens.llm.engine import ChatRequest, SamplingParams, run_requests

    requests = [ChatRequest("openai:gpt-4o", [{"role": "user", "content": "..."}],
                            SamplingParams(temperature=0.7, seed=1), sample=i, tag="probe")
                for i in range(10)]
    results = run_requests(requests, config=study.generation, progress_label="probe")
    results[0].status   # "ok" | "refused" | "filtered" | "error"

For each request the engine strips personal identifiers (by default for non-local providers), looks
the request up in the SQLite cache, and otherwise sends it under the provider's concurrency bound and
rate limits (requests/min, tokens/min, spaced so that they hold in every second: see ``limits``),
retrying transient failures (429, 5xx, timeouts, connection errors, malformed bodies) with
exponential backoff and jitter that honours ``Retry-After``. Each final
result (ok, refused, filtered) is committed to the cache as it arrives, so a killed run resumes without
repeating a finished request. Identical requests in one call are sent once. A responder's first
request goes alone (its connection is set up, and a bad key or model name fails once, not
``concurrency`` times); the rate schedule starts when it is answered. A missing API key or an
authentication/not-found answer stops the run with a CarelensError (fix the configuration, re-run).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import openai
from rich.progress import Progress, TextColumn
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from carelens.errors import CarelensError
from carelens.llm.cache import STORED_STATUSES, ResultCache, cache_key
from carelens.llm.detect import refusal_pattern
from carelens.llm.limits import RateLimits
from carelens.llm.privacy import strip_messages
from carelens.llm.providers import Completion, Provider, make_provider, provider_config
from carelens.llm.settings import ClientConfig, Price
from carelens.llm.specs import model_spec
from carelens.progress import progress_bar

STATUSES = ("ok", "refused", "filtered", "error")
FINAL_STATUSES = STORED_STATUSES
ROLES = ("system", "user", "assistant")
MAX_RETRY_AFTER_SECONDS = 600.0
ESTIMATED_REPLY_TOKENS = 512


@dataclass(frozen=True)
class SamplingParams:
    """Sampling parameters; None means the provider's default (seed: sample i is sent seed + i)."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The parameters that are set."""
        return {k: v for k, v in (("temperature", self.temperature), ("top_p", self.top_p),
                                  ("max_tokens", self.max_tokens), ("seed", self.seed)) if v is not None}

    def updated(self, other: object | Mapping[str, Any] | None) -> SamplingParams:
        """These parameters with the set values of ``other`` taking over (a mapping, or an object with
        these attributes such as a SamplingParams or a study-file sampling section)."""
        if other is None:
            return self
        names = ("temperature", "top_p", "max_tokens", "seed")
        values = other if isinstance(other, Mapping) else {n: getattr(other, n, None) for n in names}
        merged = {**self.as_dict(), **{k: v for k, v in values.items() if v is not None and k in names}}
        return SamplingParams(**merged)


@dataclass(frozen=True)
class ChatRequest:
    """One chat request.

    ``responder``: a model spec (``local:smollm2-135m``, ``openai:gpt-4o``, ``azure:<deployment>``,
    ``openai-compatible:<name>@<base-url>``). ``messages``: ``{"role", "content"}`` dicts (stored as a
    tuple). ``sample``: the sample index (10 samples are 10 distinct requests and cache entries).
    ``tag``: the caller's label (e.g. ``"probe"``, ``"generate"``); not part of the cache key.
    """

    responder: str
    messages: Sequence[Mapping[str, str]]
    params: SamplingParams = field(default_factory=SamplingParams)
    sample: int = 0
    tag: str = ""

    def __post_init__(self) -> None:
        messages = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in self.messages)
        if not messages:
            raise ValueError("a ChatRequest needs at least one message")
        bad = [m["role"] for m in messages if m["role"] not in ROLES]
        if bad:
            raise ValueError(f"unknown message role(s) {bad}; allowed: {', '.join(ROLES)}")
        object.__setattr__(self, "messages", messages)
        if isinstance(self.params, Mapping):
            object.__setattr__(self, "params", SamplingParams().updated(self.params))
        if self.sample < 0:
            raise ValueError("sample must be >= 0")


@dataclass
class ChatResult:
    """The outcome of one request.

    ``status``: ok / refused (the model declined) / filtered (the provider's content filter) / error
    (after the retries; ``error`` holds the last error). ``text``: the reply (for a refusal, the
    refusal; None for filtered and error). ``usage``: prompt_tokens, completion_tokens. ``meta``:
    finish_reason, attempts, sent params, pii_removed counts, truncated_tokens, refusal_pattern,
    filter details, cache_key.
    """

    request: ChatRequest
    text: str | None
    status: str
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    cached: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class _Job:
    """One distinct request to send (several ChatRequests may share it)."""

    key: str
    provider: Provider
    messages: list[dict[str, str]]
    params: dict[str, Any]
    pii: Counter[str]
    indices: list[int] = field(default_factory=list)


class _Fatal(Exception):
    """A configuration problem that every further request would hit too."""


def pii_stripping(responder: str, config: ClientConfig) -> bool:
    """Whether identifiers are stripped from what is sent to a model responder: its provider setting,
    else ``[generation].strip_pii``, else on for every non-local provider."""
    spec = model_spec(responder)
    for choice in (provider_config(spec, config.providers)[0].strip_pii, config.strip_pii):
        if choice is not None:
            return choice
    return not spec.local


def _estimate_tokens(messages: list[dict[str, str]], params: Mapping[str, Any]) -> int:
    reply = int(params.get("max_tokens") or ESTIMATED_REPLY_TOKENS)
    return sum(len(m["content"]) for m in messages) // 4 + reply


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, (openai.APIConnectionError, openai.APIResponseValidationError,
                            json.JSONDecodeError, asyncio.TimeoutError))


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds from a ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date) header, if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class _Wait:
    """Honour Retry-After where the provider sent one; otherwise exponential backoff with full jitter."""

    def __init__(self, base: float, cap: float) -> None:
        self.backoff = wait_random_exponential(multiplier=base, max=cap)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = _retry_after(exc)
        return min(after, MAX_RETRY_AFTER_SECONDS) if after is not None else float(self.backoff(state))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"{type(exc).__name__} (HTTP {exc.status_code}): {exc.message}"
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed response body: {exc}"
    return f"{type(exc).__name__}: {exc}"


def classify(completion: Completion) -> tuple[str, str | None, dict[str, Any]]:
    """Status, text and extra meta of a completion (content filter, refusal, empty reply, ok)."""
    meta: dict[str, Any] = {}
    if completion.finish_reason == "content_filter":
        return "filtered", completion.text or None, meta
    if completion.refusal:
        meta["refusal_pattern"] = "refusal field"
        return "refused", completion.refusal, meta
    pattern = refusal_pattern(completion.text)
    if pattern:
        meta["refusal_pattern"] = pattern
        return "refused", completion.text, meta
    if not (completion.text or "").strip():
        return "error", None, {"error": f"empty reply (finish_reason={completion.finish_reason})"}
    return "ok", completion.text, meta


class _Counts:
    """Progress counts, shown in a rich progress bar when asked."""

    def __init__(self, label: str, total: int, show: bool) -> None:
        self.label, self.total, self.show = label, total, show
        self.done = self.cached = self.failed = self.sent = 0
        self.started = time.perf_counter()
        self._progress: Progress | None = None
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Counts:
        if self.show and self.total:
            self._bar = progress_bar(TextColumn("cached {task.fields[cached]} · failed {task.fields[failed]}"
                                                " · {task.fields[rate]} req/s"))
            self._progress = self._bar.__enter__()
            self._task = self._progress.add_task(self.label, total=self.total, cached=0, failed=0, rate="-")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def add(self, n: int, *, cached: bool, failed: int = 0) -> None:
        self.done += n
        self.cached += n if cached else 0
        self.sent += 0 if cached else 1
        self.failed += failed
        if self._progress is not None:
            elapsed = time.perf_counter() - self.started
            rate = f"{self.sent / elapsed:.1f}" if elapsed > 0 and self.sent else "-"
            self._progress.update(self._task, completed=self.done, cached=self.cached, failed=self.failed,
                                  rate=rate)


class _Engine:
    def __init__(self, config: ClientConfig, cache: ResultCache | None, retry_base_seconds: float,
                 retry_max_seconds: float) -> None:
        self.config = config
        self.cache = cache
        self.retry_base = retry_base_seconds
        self.retry_max = retry_max_seconds
        self.providers: dict[str, Provider] = {}
        self.limits: dict[str, RateLimits] = {}
        self.concurrency: dict[str, int] = {}

    def provider(self, responder: str) -> Provider:
        if responder not in self.providers:
            try:
                spec = model_spec(responder)
            except ValueError as exc:
                raise CarelensError(str(exc), where="generation.responders") from None
            provider = make_provider(spec, self.config.providers)
            cfg = provider.config
            concurrency = 1 if provider.local else (cfg.concurrency or self.config.concurrency)
            self.providers[responder] = provider
            self.concurrency[responder] = concurrency
            self.limits[responder] = RateLimits(cfg.requests_per_minute, cfg.tokens_per_minute)
        return self.providers[responder]

    def plan(self, requests: Sequence[ChatRequest]) -> list[_Job]:
        jobs: dict[str, _Job] = {}
        for index, request in enumerate(requests):
            provider = self.provider(request.responder)
            messages = [dict(m) for m in request.messages]
            pii: Counter[str] = Counter()
            if pii_stripping(provider.spec.spec, self.config):
                messages, pii = strip_messages(messages)
            params = provider.sent_params(request.params.as_dict(), request.sample)
            key = cache_key(request.responder, messages, params, request.sample)
            jobs.setdefault(key, _Job(key, provider, messages, params, pii)).indices.append(index)
        return list(jobs.values())

    async def attempt(self, job: _Job) -> tuple[str, str | None, str | None, dict[str, int], dict[str, Any]]:
        provider, limits = job.provider, self.limits[job.provider.spec.spec]
        attempts = 0
        retrying = AsyncRetrying(stop=stop_after_attempt(provider.config.max_attempts),
                                 wait=_Wait(self.retry_base, self.retry_max),
                                 retry=retry_if_exception(_transient), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    await limits.acquire(_estimate_tokens(job.messages, job.params))
                    completion = await provider.complete(job.messages, job.params)
        except CarelensError as exc:
            raise _Fatal(str(exc)) from None
        except openai.AuthenticationError:  # its message may echo part of the key: leave it out
            raise _Fatal(f"{job.provider.spec.spec}: the endpoint rejected the API key (HTTP 401; check "
                         f"{provider.where}.api_key_env and the variable it names)") from None
        except openai.NotFoundError as exc:
            raise _Fatal(f"{job.provider.spec.spec}: {_describe(exc)} (check {provider.where}: base URL, "
                         "model or deployment name)") from None
        except Exception as exc:  # every other failure becomes an error row
            return "error", None, _describe(exc), {}, {"attempts": attempts}
        status, text, extra = classify(completion)
        meta = {"finish_reason": completion.finish_reason, "attempts": attempts, **completion.meta, **extra}
        error = meta.pop("error", None)
        return status, text, error, completion.usage, meta

    async def run(self, requests: Sequence[ChatRequest], counts: _Counts,
                  on_result: Callable[[ChatResult], None] | None) -> list[ChatResult]:
        try:
            return await self._run(requests, counts, on_result)
        finally:
            for provider in self.providers.values():
                await provider.aclose()

    async def _run(self, requests: Sequence[ChatRequest], counts: _Counts,
                   on_result: Callable[[ChatResult], None] | None) -> list[ChatResult]:
        results: list[ChatResult | None] = [None] * len(requests)
        jobs = self.plan(requests)
        stored = self.cache.get_many(j.key for j in jobs) if self.cache else {}

        def deliver(job: _Job, status: str, text: str | None, error: str | None, usage: dict[str, int],
                    meta: dict[str, Any], cached: bool) -> None:
            meta = {**meta, "params": job.params, "pii_removed": dict(job.pii), "cache_key": job.key}
            for index in job.indices:
                result = ChatResult(requests[index], text, status, error, dict(usage), cached, dict(meta))
                results[index] = result
                if on_result is not None:
                    on_result(result)

        pending: dict[str, list[_Job]] = {}
        hits = 0
        for job in jobs:
            hit = stored.get(job.key)
            if hit is not None:
                deliver(job, hit["status"], hit["text"], None, hit["usage"], hit["meta"], cached=True)
                hits += len(job.indices)
            else:
                pending.setdefault(job.provider.spec.spec, []).append(job)
        counts.add(hits, cached=True)

        async def send(job: _Job) -> None:
            status, text, error, usage, meta = await self.attempt(job)
            if status in FINAL_STATUSES and self.cache is not None:
                self.cache.put(job.key, job.provider.spec.spec, {"messages": job.messages,
                               "params": job.params}, status, text, usage, meta)
            deliver(job, status, text, error, usage, meta, cached=False)
            counts.add(len(job.indices), cached=False, failed=int(status == "error") * len(job.indices))

        async def opener(queue: asyncio.Queue[_Job], opened: asyncio.Event, limits: RateLimits) -> None:
            try:
                await send(queue.get_nowait())
                limits.restart()
            finally:
                opened.set()

        async def worker(queue: asyncio.Queue[_Job], opened: asyncio.Event) -> None:
            await opened.wait()
            while True:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await send(job)

        try:
            async with asyncio.TaskGroup() as group:
                for responder, queued in pending.items():
                    queue: asyncio.Queue[_Job] = asyncio.Queue()
                    for job in queued:
                        queue.put_nowait(job)
                    opened = asyncio.Event()
                    group.create_task(opener(queue, opened, self.limits[responder]))
                    for _ in range(min(self.concurrency[responder], len(queued) - 1)):
                        group.create_task(worker(queue, opened))
        except* _Fatal as group:
            raise CarelensError(str(group.exceptions[0])) from None
        return [r for r in results if r is not None]


async def arun_requests(requests: Sequence[ChatRequest], *, config: ClientConfig | None = None,
                        cache_path: Path | str | None = None, use_cache: bool = True,
                        progress_label: str = "generating", show_progress: bool = True,
                        on_result: Callable[[ChatResult], None] | None = None,
                        retry_base_seconds: float = 1.0, retry_max_seconds: float = 60.0) -> list[ChatResult]:
    """Async form of ``run_requests``."""
    config = config or ClientConfig()
    cache = ResultCache(Path(cache_path) if cache_path is not None else None) if use_cache else None
    try:
        engine = _Engine(config, cache, retry_base_seconds, retry_max_seconds)
        with _Counts(progress_label, len(requests), show_progress) as counts:
            results = await engine.run(requests, counts, on_result)
    finally:
        if cache is not None:
            cache.close()
    if len(results) != len(requests):
        raise RuntimeError(f"engine returned {len(results)} results for {len(requests)} requests")
    return results


def run_requests(requests: Sequence[ChatRequest], *, config: ClientConfig | None = None,
                 cache_path: Path | str | None = None, use_cache: bool = True,
                 progress_label: str = "generating", show_progress: bool = True,
                 on_result: Callable[[ChatResult], None] | None = None,
                 retry_base_seconds: float = 1.0, retry_max_seconds: float = 60.0) -> list[ChatResult]:
    """Send every request and return one ChatResult per request, in request order.

    ``config``: a ClientConfig (usually ``ctx.study.generation``) for providers, concurrency,
    rate limits, PII stripping; the default config when None. ``cache_path``: the SQLite cache (default
    ``~/.cache/carelens/generation.sqlite``); ``use_cache=False`` neither reads nor writes it.
    ``on_result`` is called for each result as it arrives. ``retry_base_seconds``/``retry_max_seconds``
    shape the backoff when the provider gives no Retry-After. Raises CarelensError for a bad responder
    spec, a missing API key or an endpoint that rejects the credentials or the model name.
    """
    coro = arun_requests(requests, config=config, cache_path=cache_path, use_cache=use_cache,
                         progress_label=progress_label, show_progress=show_progress, on_result=on_result,
                         retry_base_seconds=retry_base_seconds, retry_max_seconds=retry_max_seconds)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:  # called from inside an event loop: run on a fresh one
        return pool.submit(asyncio.run, coro).result()


def _price(prices: Mapping[str, Price], responder: str) -> Price | None:
    if responder in prices:
        return prices[responder]
    spec = model_spec(responder)
    return prices.get(spec.model)


def summarize(results: Sequence[ChatResult], prices: Mapping[str, Price] | None = None) -> dict[str, Any]:
    """Per-responder accounting for the manifest: statuses, cached, tokens, cost, PII removed.

    ``tokens``/``cost_usd`` cover every result (cached ones were paid for by an earlier run);
    ``new_tokens``/``new_cost_usd`` only the requests sent now. Cost needs a price for the responder
    spec or its model name.
    """
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for result in results:
        responder = result.request.responder
        entry = out.setdefault(responder, {
            "requests": 0, "cached": 0, "status": Counter(), "tokens": Counter(), "new_tokens": Counter(),
            "pii_removed": Counter(), "truncated": 0})
        entry["requests"] += 1
        entry["cached"] += result.cached
        entry["status"][result.status] += 1
        entry["tokens"].update(result.usage)
        if not result.cached:
            entry["new_tokens"].update(result.usage)
        key = str(result.meta.get("cache_key"))
        if key not in seen:
            seen.add(key)
            entry["pii_removed"].update(result.meta.get("pii_removed") or {})
        entry["truncated"] += bool(result.meta.get("truncated_tokens"))
    for responder, entry in out.items():
        for name in ("status", "tokens", "new_tokens", "pii_removed"):
            entry[name] = dict(entry[name])
        price = _price(prices or {}, responder)
        if price is not None:
            for name, tokens in (("cost_usd", entry["tokens"]), ("new_cost_usd", entry["new_tokens"])):
                entry[name] = round((tokens.get("prompt_tokens", 0) * price.input
                                     + tokens.get("completion_tokens", 0) * price.output) / 1e6, 6)
    return out
