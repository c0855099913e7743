"""Rate limits that hold at every time scale: requests (and their tokens) are spaced, never burst.

A limit of N requests a minute is N/60 a second and holds in every one-second window too. Requests
start one at a time, in arrival order: after a start, the next may begin ``1 / requests-per-second``
later and ``tokens / tokens-per-second`` later (the request's estimated tokens). A start that came
late (a busy machine) moves the schedule with it, beyond ``SLACK``, so a stall never turns into a
catch-up burst. No window of any length sees more than its share of either limit plus the request
that opens it. A token bucket (aiolimiter's, for one) instead lets its whole capacity through at
once, so a minute-sized bucket sends a minute's requests in the first second and the provider
answers 429. ``SAFETY`` keeps 3 % below the limit, so a server that counts arrivals in one-second
windows stays within its cap when network delay shifts requests by up to 30 ms.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

SAFETY = 0.97
SLACK = 0.002  # seconds of lateness a start may make up (timer overshoot), never more


class RateLimits:
    """Requests/min and tokens/min limits (either may be None) on one start schedule."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.request_gap = 60.0 / (requests_per_minute * SAFETY) if requests_per_minute else 0.0
        self.token_gap = 60.0 / (tokens_per_minute * SAFETY) if tokens_per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf
        self._turn = asyncio.Lock()

    def wait_time(self) -> float:
        """Seconds until the next request may start."""
        return max(0.0, self._next - self._clock())

    def started(self, at: float, tokens: float = 0.0) -> None:
        """Record a start at clock time ``at`` of a request of ``tokens`` estimated tokens."""
        self._next = max(self._next, at - SLACK) + max(self.request_gap, tokens * self.token_gap)

    async def acquire(self, tokens: float = 0.0) -> None:
        """Wait for this request's turn and start it."""
        async with self._turn:
            delay = self.wait_time()
            if delay > 0:
                await self._sleep(delay)
            self.started(self._clock(), tokens)
