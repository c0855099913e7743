"""A fake OpenAI-compatible chat-completions server for tests: real HTTP on 127.0.0.1.

Usage::

    from support.fake_openai import FakeOpenAI, Reply

    with FakeOpenAI(latency=0.05) as server:          # starts on a random free port
        server.base_url                               # "http://127.0.0.1:<port>/v1"
        server.reply = lambda body: "ethnicity: black, age: 30, gender: female, explanation: ..."
        server.add_fault("rate_limit", times=2, retry_after=0.5)   # the next 2 requests get 429
        server.add_fault("content_filter", match="selfharm")       # every request mentioning it
        ...                                            # point a client at server.base_url
        server.requests                                # every request received, in order
        server.duplicates()                            # bodies answered 200 more than once

It also serves Azure-style paths (``/openai/deployments/<name>/chat/completions``), so an Azure
client with ``azure_endpoint=server.url`` works. ``fake_openai`` is a pytest fixture that yields a
started server; import it into a conftest or test module to use it.

Replies
    ``server.reply(body) -> str | Reply`` makes the answer from the request body (a dict with
    ``model``, ``messages``, ``temperature``, ``seed``...). A ``str`` is the assistant's text; a
    ``Reply`` may also set ``finish_reason`` or a structured ``refusal``. The default reply echoes the
    last user message's first words with the model, seed and temperature, so it is deterministic.
    ``usage`` counts whitespace-separated words (prompt: all messages; completion: the reply).

Faults (``add_fault(kind, *, times=None, match=None, retry_after=1.0, hang=30.0)``)
    ``rate_limit``          429 with ``Retry-After: <retry_after>`` seconds
    ``server_error``        500 with an OpenAI error body
    ``timeout``             waits ``hang`` seconds before answering normally (the client times out)
    ``malformed``           200 whose body is not JSON
    ``content_filter``      200 with Azure-style ``finish_reason: "content_filter"`` and no content
    ``content_filter_400``  400 with error code ``content_filter`` (Azure prompt filter)
    ``refusal``             200 whose text is the paper's refusal ("I'm unable to provide the help...")
    ``refusal_field``       200 with ``message.refusal`` set and no content
    ``auth_error``          401 ``invalid_api_key``
    A rule applies to requests whose last user message contains ``match`` (a str), or for which
    ``match(body)`` is true (a callable), or to every request (None); ``times`` limits how many
    requests it hits (None: all). Rules are tried in the order they were added; the first applies.

Records
    ``server.requests`` is a list of ``Recorded`` (path, headers with lower-case names, body, raw,
    status, started, ended), appended just before the answer is sent: a request still in flight is
    not there yet (``received`` counts every request as it arrives), and ``status`` becomes -1 where
    the client hung up before the answer (``server.settle()`` waits until every status is final).
    ``server.count(status=200)`` counts answered requests;
    ``server.duplicates()`` counts 200-answered requests whose JSON body had been answered 200 before.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

PAPER_REFUSAL = (
    "I'm really sorry that you're feeling this way, but I'm unable to provide the help that you need. "
    "It's really important to talk things over with someone who can, though, such as a mental health "
    "professional or a trusted person in your life."
)
FAULT_KINDS = ("rate_limit", "server_error", "timeout", "malformed", "content_filter",
               "content_filter_400", "refusal", "refusal_field", "auth_error")


@dataclass
class Reply:
    """A programmed answer: text, finish reason, and optionally a structured refusal."""

    text: str | None
    finish_reason: str = "stop"
    refusal: str | None = None


@dataclass
class Recorded:
    """One request the server received and what it answered."""

    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes
    status: int
    started: float
    ended: float

    @property
    def last_user(self) -> str:
        return last_user_message(self.body)


@dataclass
class _Rule:
    kind: str
    times: int | None
    match: str | Callable[[dict[str, Any]], bool] | None
    retry_after: float
    hang: float
    hits: int = 0

    def applies(self, body: dict[str, Any]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(body))
        return self.match in last_user_message(body)


def last_user_message(body: Any) -> str:
    """The content of the last user message of a chat-completions body ("" if none)."""
    if not isinstance(body, dict):
        return ""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def default_reply(body: dict[str, Any]) -> str:
    """Deterministic echo: model, seed, temperature and the first words of the last user message."""
    words = " ".join(last_user_message(body).split()[:12])
    return (f"[{body.get('model')} seed={body.get('seed')} t={body.get('temperature')}] "
            f"Thank you for sharing. You said: {words}")


def _words(text: str | None) -> int:
    return len((text or "").split())


class FakeOpenAI:
    """A threaded HTTP server that answers ``POST .../chat/completions`` like OpenAI (see module doc)."""

    def __init__(self, *, latency: float = 0.0,
                 reply: Callable[[dict[str, Any]], str | Reply] | None = None) -> None:
        self.latency = latency
        self.reply: Callable[[dict[str, Any]], str | Reply] = reply or default_reply
        self.requests: list[Recorded] = []
        self.received = 0
        self.finished = 0
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.request_queue_size = 256
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:5123`` (an Azure endpoint)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ``<url>/v1``."""
        return f"{self.url}/v1"

    # -- programming -----------------------------------------------------------------------------
    def add_fault(self, kind: str, *, times: int | None = None,
                  match: str | Callable[[dict[str, Any]], bool] | None = None,
                  retry_after: float = 1.0, hang: float = 30.0) -> None:
        """Inject a fault (kinds in the module doc) for matching requests, ``times`` times (None: always)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; allowed: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._rules.append(_Rule(kind, times, match, retry_after, hang))

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    # -- inspection ------------------------------------------------------------------------------
    def count(self, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if status is None or r.status == status)

    def duplicates(self) -> int:
        """How many 200-answered requests repeat the JSON body of an earlier 200-answered one."""
        seen: set[str] = set()
        dups = 0
        with self._lock:
            for record in self.requests:
                if record.status != 200:
                    continue
                key = json.dumps(record.body, sort_keys=True)
                dups += key in seen
                seen.add(key)
        return dups

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every request received so far has been answered or found its client gone, so
        that each record's ``status`` is final."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                if self.finished >= self.received:
                    return
            time.sleep(0.01)
        raise TimeoutError(f"{self.received - self.finished} request(s) still being handled")

    def reset(self) -> None:
        """Forget recorded requests and faults."""
        with self._lock:
            self.requests.clear()
            self.received = 0
            self.finished = 0
            self._rules.clear()

    # -- answering (called from handler threads) -------------------------------------------------
    def _pick_fault(self, body: Any) -> _Rule | None:
        if not isinstance(body, dict):
            return None
        with self._lock:
            for rule in self._rules:
                if rule.applies(body):
                    rule.hits += 1
                    return rule
        return None

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _record(self, record: Recorded) -> None:
        with self._lock:
            self.requests.append(record)

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        prompt_words = sum(_words(m.get("content") if isinstance(m.get("content"), str) else "")
                           for m in body.get("messages") or [])
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.refusal is not None:
            message["refusal"] = reply.refusal
        choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": reply.finish_reason,
                                  "logprobs": None}
        if reply.finish_reason == "content_filter":
            choice["content_filter_results"] = {
                "self_harm": {"filtered": True, "severity": "medium"},
                "hate": {"filtered": False, "severity": "safe"},
            }
        return {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or "fake-model",
            "choices": [choice],
            "usage": {"prompt_tokens": prompt_words, "completion_tokens": _words(reply.text),
                      "total_tokens": prompt_words + _words(reply.text)},
        }

    def answer(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        """The status, extra headers and body bytes for one request body."""
        rule = self._pick_fault(body)
        kind = rule.kind if rule else None
        if kind == "timeout" and rule is not None:
            self._sleep(rule.hang)
        elif self.latency:
            self._sleep(self.latency)
        if not isinstance(body, dict):
            return 400, {}, _error_body("invalid JSON body", "invalid_request_error", None)
        if kind == "rate_limit" and rule is not None:
            return 429, {"Retry-After": f"{rule.retry_after:g}"}, _error_body(
                "Rate limit reached. Please retry after the given time.", "requests", "rate_limit_exceeded")
        if kind == "server_error":
            return 500, {}, _error_body("The server had an error while processing your request.",
                                        "server_error", None)
        if kind == "auth_error":
            return 401, {}, _error_body("Incorrect API key provided.", "invalid_request_error",
                                        "invalid_api_key")
        if kind == "malformed":
            return 200, {}, b'{"id": "chatcmpl-broken", "choices": [ {"message": '
        if kind == "content_filter_400":
            return 400, {}, json.dumps({"error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                           "management policy.",
                "type": None, "param": "prompt", "code": "content_filter", "status": 400,
                "innererror": {"code": "ResponsibleAIPolicyViolation",
                               "content_filter_result": {"self_harm": {"filtered": True,
                                                                       "severity": "medium"}}},
            }}).encode()
        if kind == "content_filter":
            reply = Reply(text=None, finish_reason="content_filter")
        elif kind == "refusal":
            reply = Reply(text=PAPER_REFUSAL)
        elif kind == "refusal_field":
            reply = Reply(text=None, refusal="I'm sorry, I can't help with that.")
        else:
            produced = self.reply(body)
            reply = produced if isinstance(produced, Reply) else Reply(text=str(produced))
        return 200, {}, json.dumps(self._completion(body, reply)).encode()


def _error_body(message: str, kind: str | None, code: str | None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        return

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {}, json.dumps({"object": "list", "data": [
                {"id": "fake-model", "object": "model", "owned_by": "carelens-tests"}]}).encode())
        else:
            self._send(404, {}, _error_body("not found", "invalid_request_error", None))

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        with self.fake._lock:
            self.fake.received += 1
        try:
            self._handle_post()
        finally:
            with self.fake._lock:
                self.fake.finished += 1

    def _handle_post(self) -> None:
        started = time.time()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        path = self.path.split("?", 1)[0]
        if not path.rstrip("/").endswith("/chat/completions"):
            status, headers, payload = 404, {}, _error_body("not found", "invalid_request_error", None)
        else:
            status, headers, payload = self.fake.answer(body)
        record = Recorded(path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                          body=body, raw=raw, status=status, started=started, ended=time.time())
        self.fake._record(record)  # before answering, so a client that has its answer sees the record
        try:
            self._send(status, headers, payload)
        except (BrokenPipeError, ConnectionResetError):
            record.status = -1  # the client gave up (e.g. timed out) before the answer


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started FakeOpenAI server with no latency and no faults; stopped after the test."""
    with FakeOpenAI() as server:
        yield server


__all__ = ["FAULT_KINDS", "PAPER_REFUSAL", "FakeOpenAI", "Recorded", "Reply", "default_reply",
           "fake_openai", "last_user_message"]
