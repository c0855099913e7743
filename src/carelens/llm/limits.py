"""Rate limits that hold at every time scale: requests (and their tokens) are spaced, never burst.

A limit of N requests a minute is N/60 a second, and holds in every one-second window too.
Each request books its place, in arrival order, on one schedule for both limits: after a place,
the next may begin ``1 / requests-per-second`` later and ``tokens / tokens-per-second`` later (the
request's estimated tokens), ``SAFETY`` (2 %) below the limit so that network delay of up to 20 ms
does not push a server's one-second count over its cap.

When requests come later than their place (every worker busy, a pause), up to ``CATCH_UP``
seconds of the schedule may be made up, so the achieved rate stays at the limit; beyond that the
schedule moves on; the first request banks nothing. Whatever the schedule or the event loop does
(a late wake-up bunches starts), the actual starts are also capped per ``WINDOW`` (one second and
20 ms): at most as many as the steady schedule puts there, ``floor(WINDOW / gap) + 1``, which is
never more than N/60. A token bucket (aiolimiter's, for one) instead lets its whole capacity
through at once: a minute-sized bucket sends a minute's requests in the first second, and the
provider answers 429.
"""

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

SAFETY = 0.98
CATCH_UP = 0.25
WINDOW = 1.02


class RateLimits:
    """Requests/min and tokens/min limits (either may be None) on one start schedule."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.request_gap = 60.0 / (requests_per_minute * SAFETY) if requests_per_minute else 0.0
        self.token_gap = 60.0 / (tokens_per_minute * SAFETY) if tokens_per_minute else 0.0
        self.window_cap = math.floor(WINDOW / self.request_gap) + 1 if requests_per_minute else 0
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf  # the schedule's next start
        self._recent: deque[float] = deque()  # actual starts within the last WINDOW seconds

    def reserve(self, tokens: float = 0.0) -> float:
        """Book a place on the schedule for one request of ``tokens`` estimated tokens; the seconds
        until it."""
        now = self._clock()
        base = now if self._next == -math.inf else max(self._next, now - CATCH_UP)
        self._next = base + max(self.request_gap, tokens * self.token_gap)
        return max(0.0, base - now)

    def window_wait(self) -> float:
        """Seconds until one more start fits the WINDOW cap (0: now)."""
        now = self._clock()
        while self._recent and self._recent[0] <= now - WINDOW:
            self._recent.popleft()
        if not self.window_cap or len(self._recent) < self.window_cap:
            return 0.0
        return self._recent[len(self._recent) - self.window_cap] + WINDOW - now

    def start(self) -> None:
        """Record a start now (call when ``window_wait()`` is 0)."""
        if self.window_cap:
            self._recent.append(self._clock())

    def restart(self) -> None:
        """Start the schedule again from now, banking nothing (after a first request that went alone:
        its connection set-up may have delayed its arrival at the server by an unknown time)."""
        self._next = max(self._next, self._clock())

    async def acquire(self, tokens: float = 0.0) -> None:
        """Wait for this request's place on the schedule and room in the window, then start it."""
        delay = self.reserve(tokens)
        if delay > 0:
            await self._sleep(delay)
        while (delay := self.window_wait()) > 0:
            await self._sleep(delay)
        self.start()
