"""A persistent SQLite cache of generation results, committed one result at a time.

The key is a sha256 over everything that determines a reply: the responder (provider, model and,
for self-hosted endpoints, the base URL), the messages as sent, the sampling parameters as sent and
the sample index. Only final outcomes (ok, refused, filtered) are stored; errors are retried on the
next run. WAL journaling makes every committed result survive a killed process.
"""

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

from carelens.errors import CarelensError
from carelens.paths import cache_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    responder TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    text TEXT,
    usage TEXT NOT NULL,
    meta TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
)
"""
_CHUNK = 500
STORED_STATUSES = ("ok", "refused", "filtered")


def default_cache_path() -> Path:
    """``<cache_dir()>/generation.sqlite``."""
    return cache_dir() / "generation.sqlite"


def cache_key(responder: str, messages: list[dict[str, str]], params: Mapping[str, Any], sample: int) -> str:
    """The cache key of one request (see the module doc)."""
    payload = json.dumps({"responder": responder, "messages": messages, "params": dict(params),
                          "sample": sample}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@retry(
    retry=retry_if_exception(lambda e: isinstance(e, sqlite3.OperationalError) and "locked" in str(e)),
    stop=stop_after_delay(60),
    wait=wait_random_exponential(multiplier=0.05, max=2),
    reraise=True,
)
def _open(path: Path) -> sqlite3.Connection:
    """Connect and set WAL mode. Processes opening one new cache at once can find it locked while
    another switches its journal mode (SQLite does not wait for that): they try again."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(SCHEMA)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


class ResultCache:
    """Lookup and store of final results. Use as a context manager or call ``close()``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = _open(self.path)
        except sqlite3.DatabaseError as exc:
            raise CarelensError(f"cannot open the generation cache: {exc}", where=str(self.path)) from None

    def __enter__(self) -> "ResultCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored final results for those keys that have one: key -> {status, text, usage, meta}.

        A row of any other status (written by something else) is never served: it is retried."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            stored = ",".join("?" * len(STORED_STATUSES))
            query = (f"SELECT key, status, text, usage, meta FROM results WHERE key IN ({marks}) "
                     f"AND status IN ({stored})")
            with closing(self._db.execute(query, [*chunk, *STORED_STATUSES])) as cur:
                for key, status, text, usage, meta in cur:
                    found[key] = {"status": status, "text": text, "usage": json.loads(usage),
                                  "meta": json.loads(meta)}
        return found

    def put(self, key: str, responder: str, request: Mapping[str, Any], status: str, text: str | None,
            usage: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        """Store one final result (ok, refused, filtered) and commit it; an error is never stored."""
        if status not in STORED_STATUSES:
            raise ValueError(f"only final results are cached, not {status!r}")
        self._db.execute(
            "INSERT OR REPLACE INTO results (key, responder, request, status, text, usage, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, responder, json.dumps(request, ensure_ascii=False), status, text,
             json.dumps(dict(usage)), json.dumps(dict(meta), default=str)),
        )

    def stats(self) -> dict[str, int]:
        """Stored results per responder."""
        with closing(self._db.execute("SELECT responder, COUNT(*) FROM results GROUP BY responder")) as cur:
            return {responder: count for responder, count in cur}

    def clear(self, responder: str | None = None) -> int:
        """Delete stored results (of one responder, or all); return how many."""
        if responder is None:
            cur = self._db.execute("DELETE FROM results")
        else:
            cur = self._db.execute("DELETE FROM results WHERE responder = ?", (responder,))
        return cur.rowcount
