"""Rate limits hold at every time scale: no one-second window sees more than a sixtieth of a minute's
limit, on a simulated clock and against a fake server that answers 429 above its per-second cap."""

import heapq
import random
import threading
import time
from collections.abc import Callable

from carelens.llm.engine import ChatRequest, run_requests
from carelens.llm.limits import RateLimits
from carelens.llm.settings import ClientConfig, ProviderConfig


def _max_in_window(starts: list[float], weights: list[float] | None = None, window: float = 1.0) -> float:
    """The largest total weight of starts in any half-open window [t, t + window) opening at a start."""
    pairs = sorted(zip(starts, weights or [1.0] * len(starts), strict=True))
    return max(sum(w for s, w in pairs if t <= s < t + window) for t, _ in pairs)


def _simulate(limits: RateLimits, clock: list[float], costs: list[float], workers: int, latency: float,
              late: Callable[[], float] = lambda: 0.0) -> list[float]:
    """Start times of requests sent by ``workers`` concurrent workers, each taking its turn at the
    limiter, starting ``late()`` seconds after its wait ends (a busy machine), then holding its request
    ``latency`` seconds: a discrete-event run on the fake clock."""
    pending = list(costs)
    ready = [(0.0, w) for w in range(workers)]
    turn_free = 0.0
    starts: list[float] = []
    while pending:
        ready_at, worker = heapq.heappop(ready)
        clock[0] = max(ready_at, turn_free)
        start = clock[0] + limits.wait_time() + late()
        clock[0] = start
        limits.started(start, pending.pop(0))
        turn_free = start
        starts.append(start)
        heapq.heappush(ready, (start + latency, worker))
    return starts


def test_a_minute_limit_holds_in_every_second_on_a_fake_clock() -> None:
    clock = [0.0]
    limits = RateLimits(1200, None, clock=lambda: clock[0])
    rng = random.Random(1)
    late = lambda: rng.choice([0.0, 0.0005, 0.001, 0.003, 0.15])  # noqa: E731 - overshoots and stalls
    starts = _simulate(limits, clock, [0.0] * 600, workers=64, latency=0.2, late=late)
    assert _max_in_window(starts) <= 20
    assert _max_in_window(starts, window=0.25) <= 5
    steady = _simulate(RateLimits(1200, None, clock=lambda: clock[0]), clock, [0.0] * 600, workers=64,
                       latency=0.2)
    assert _max_in_window(steady) <= 20
    assert 0.95 * 20 <= (len(steady) - 1) / (max(steady) - min(steady)) <= 20


def test_a_token_limit_holds_in_every_second_on_a_fake_clock() -> None:
    clock = [0.0]
    rng = random.Random(3)
    costs = [float(rng.randint(20, 700)) for _ in range(300)]
    limits = RateLimits(None, 30_000, clock=lambda: clock[0])  # 500 tokens a second
    starts = _simulate(limits, clock, costs, workers=32, latency=0.5)
    assert _max_in_window(starts, costs) <= 500 + max(costs)  # its share, plus the request opening it
    assert _max_in_window(starts, costs, window=60.0) <= 30_000 + max(costs)
    achieved = sum(costs[:-1]) / (max(starts) - min(starts))
    assert 0.95 * 500 <= achieved <= 500


def test_both_limits_share_one_schedule() -> None:
    clock = [0.0]
    limits = RateLimits(600, 6_000, clock=lambda: clock[0])  # 10 requests or 100 tokens a second
    costs = [5.0] * 20 + [400.0] + [5.0] * 40
    starts = _simulate(limits, clock, costs, workers=16, latency=0.1)
    assert _max_in_window(starts) <= 10  # no burst of banked request slots after the big request
    assert _max_in_window(starts, costs) <= 100 + 400


class _CappedServer:
    """A ``match`` for the fake server's rate_limit fault: a server limiting to ``per_second``
    requests as a leaky bucket (GCRA) that tolerates arrivals ``burst`` intervals early, as rate
    limiting proxies do; true means "answer 429"."""

    def __init__(self, per_second: int, burst: int = 2) -> None:
        self.interval = 1.0 / per_second
        self.tolerance = burst * self.interval
        self.expected = 0.0
        self.accepted: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, body: object) -> bool:
        now = time.monotonic()
        with self.lock:
            if self.accepted and now < self.expected - self.tolerance:
                return True
            self.expected = max(now, self.expected) + self.interval
            self.accepted.append(now)
            return False


def test_the_capped_server_rejects_a_burst() -> None:
    cap = _CappedServer(20)
    assert [cap({}) for _ in range(5)] == [False, False, False, True, True]


def test_a_server_capped_per_second_sees_no_429(fake, monkeypatch) -> None:
    cap = _CappedServer(20)
    fake.add_fault("rate_limit", match=cap, retry_after=1.0)
    fake.latency = 0.05
    starts: list[float] = []
    started = RateLimits.started
    monkeypatch.setattr(RateLimits, "started", lambda self, at, tokens=0.0: (starts.append(at),
                                                                             started(self, at, tokens)))
    spec = f"openai-compatible:fake@{fake.base_url}"
    config = ClientConfig(providers={"openai-compatible": ProviderConfig(
        requests_per_minute=1200, concurrency=32, timeout_seconds=5)})
    requests = [ChatRequest(spec, [{"role": "user", "content": f"post {i}"}]) for i in range(70)]
    clock = time.perf_counter()
    results = run_requests(requests, config=config, use_cache=False, show_progress=False)
    elapsed = time.perf_counter() - clock
    assert all(r.ok for r in results)
    assert fake.count(429) == 0
    assert len(starts) == 70 and _max_in_window(starts) <= 20  # as the client started them
    assert _max_in_window([r.started for r in fake.requests]) <= 21  # as they arrived (network jitter)
    assert 69 / 20 <= elapsed < 69 / 20 / 0.9 + 1.0
