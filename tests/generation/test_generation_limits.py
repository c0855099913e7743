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


def _simulate(limits: RateLimits, clock: list[float], costs: list[float], workers: int,
              latency: Callable[[], float]) -> list[float]:
    """Start times of requests sent by ``workers`` concurrent workers, each waiting for its place on
    the limiter's schedule and for room in its window, then holding its request ``latency()``
    seconds: a discrete-event run on the fake clock."""
    pending = list(costs)
    ready = [(0.0, w) for w in range(workers)]
    starts: list[float] = []
    while pending:
        clock[0], worker = heapq.heappop(ready)
        clock[0] = max(clock[0] + limits.reserve(pending.pop(0)), starts[-1] if starts else 0.0)
        clock[0] += limits.window_wait()
        limits.start()
        starts.append(clock[0])
        heapq.heappush(ready, (clock[0] + latency(), worker))
    return starts


def test_a_minute_limit_holds_in_every_second_on_a_fake_clock() -> None:
    clock = [0.0]
    rng = random.Random(1)
    # Few workers and slow, uneven answers: the schedule often falls behind and catches up.
    uneven = _simulate(RateLimits(1200, None, clock=lambda: clock[0]), clock, [0.0] * 600, workers=12,
                       latency=lambda: rng.choice([0.2, 0.3, 0.5, 2.0]))
    assert _max_in_window(uneven) <= 20
    assert _max_in_window(uneven, window=0.25) <= 5 + 6  # a catch-up is at most a quarter second long
    assert (len(uneven) - 1) / (max(uneven) - min(uneven)) <= 20
    steady = _simulate(RateLimits(1200, None, clock=lambda: clock[0]), clock, [0.0] * 600, workers=64,
                       latency=lambda: 0.2)
    assert _max_in_window(steady) <= 20 and _max_in_window(steady, window=0.25) <= 5
    assert 0.95 * 20 <= (len(steady) - 1) / (max(steady) - min(steady)) <= 20


def test_a_token_limit_holds_in_every_second_on_a_fake_clock() -> None:
    clock = [0.0]
    rng = random.Random(3)
    costs = [float(rng.randint(20, 700)) for _ in range(300)]
    limits = RateLimits(None, 30_000, clock=lambda: clock[0])  # 500 tokens a second
    starts = _simulate(limits, clock, costs, workers=32, latency=lambda: 0.5)
    assert _max_in_window(starts, costs) <= 500 + max(costs)  # its share, plus the request opening it
    assert _max_in_window(starts, costs, window=60.0) <= 30_000 + max(costs)
    achieved = sum(costs[:-1]) / (max(starts) - min(starts))
    assert 0.95 * 500 <= achieved <= 500


def test_both_limits_share_one_schedule() -> None:
    clock = [0.0]
    limits = RateLimits(600, 6_000, clock=lambda: clock[0])  # 10 requests or 100 tokens a second
    costs = [5.0] * 20 + [400.0] + [5.0] * 40
    starts = _simulate(limits, clock, costs, workers=16, latency=lambda: 0.1)
    assert _max_in_window(starts) <= 10  # no burst of banked request slots after the big request
    assert _max_in_window(starts, costs) <= 100 + 400


class _CappedServer:
    """A ``match`` for the fake server's rate_limit fault: a server that accepts at most
    ``per_second`` requests in any one second (a sliding window over arrivals); true means "429".

    Arrival times here are the handler threads' (a loaded test machine delays them by tens of
    milliseconds); ``grace`` seconds of that are allowed, as network jitter is by the client."""

    def __init__(self, per_second: int, grace: float = 0.03) -> None:
        self.per_second = per_second
        self.span = 1.0 - grace
        self.accepted: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, body: object) -> bool:
        now = time.monotonic()
        with self.lock:
            if sum(1 for t in self.accepted if now - t < self.span) >= self.per_second:
                return True
            self.accepted.append(now)
            return False


def test_the_capped_server_rejects_the_twenty_first_request_in_a_second() -> None:
    cap = _CappedServer(20)
    assert [cap({}) for _ in range(22)] == [False] * 20 + [True, True]


def test_a_server_capped_per_second_sees_no_429(fake, monkeypatch) -> None:
    cap = _CappedServer(20)
    fake.add_fault("rate_limit", match=cap, retry_after=1.0)
    fake.latency = 0.05
    starts: list[float] = []
    start = RateLimits.start
    monkeypatch.setattr(RateLimits, "start", lambda self: (starts.append(time.monotonic()), start(self)))
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
    assert 69 / 20 <= elapsed < 69 / 20 / 0.9 + 2.0  # spaced, not serialised
