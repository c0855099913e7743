"""Shared pieces of the review tests: a small run directory, a round, and a real uvicorn server."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest

from carelens.ids import original_variant_id, stable_id
from carelens.review.db import ReviewDB, default_url
from carelens.review.packets import draw_items, rater_order
from carelens.store import RunDir

XSS = "<script>alert('pwned')</script>"

POSTS = {
    "p1": f"I (24F) feel so alone since I moved here as a Nigerian student. {XSS} Nobody talks to me.",
    "p2": "My anxiety is getting worse at work. I can't breathe before meetings and I want it to change.",
    "p3": "[32y/o, black female] -- I keep failing my exams and my family is disappointed in me.",
    "p4": "I've been drinking more to cope. I want to stop but it's the only thing that helps me sleep.",
}
CUED = ("p2", "explicit", "black", "female", "[30y/o, black female] -- My anxiety is getting worse at work.")
REPLIES = {
    "peer": "Same here, it gets better. <b>Hang in there</b>, you are not alone.",
    "recorded:gpt-4": "It sounds really painful to feel this way. What has helped you before?",
    "local:smollm2-135m": "I'm sorry you're going through this. Have you talked to someone you trust?",
}
CONDITIONS = {"peer": "peer", "recorded:gpt-4": "clinician", "local:smollm2-135m": "social_media"}


def build_run(path: Path) -> RunDir:
    """Posts, variants (originals and one cued), responses (peer, recorded, model; one refused, one
    empty) and empathy scores."""
    run = RunDir(path)
    posts = pd.DataFrame([{"post_id": pid, "text": text, "source": "fixture", "community": "test",
                           "defects": ""} for pid, text in POSTS.items()])
    variants = [{"variant_id": original_variant_id(pid), "post_id": pid, "race": None, "gender": None,
                 "age": None, "cue_kind": "none", "cue": None, "text": text, "fidelity_ok": True,
                 "fidelity_note": "", "defects": ""} for pid, text in POSTS.items()]
    pid, kind, race, gender, text = CUED
    cued_id = stable_id("v", pid, kind, race, gender)
    variants.append({"variant_id": cued_id, "post_id": pid, "race": race, "gender": gender, "age": "30",
                     "cue_kind": kind, "cue": "[30y/o, black female] -- ", "text": text, "fidelity_ok": True,
                     "fidelity_note": "", "defects": ""})
    responses = []
    for pid in POSTS:
        for responder, reply in REPLIES.items():
            responses.append((original_variant_id(pid), pid, responder, f"{reply} ({pid})", "ok"))
    responses.append((cued_id, "p2", "local:smollm2-135m", "Anxiety at work is hard. (cued)", "ok"))
    responses.append((original_variant_id("p1"), "p1", "local:smollm2-135m", "", "refused"))
    responses.append((original_variant_id("p3"), "p3", "recorded:gpt-4", "   ", "ok"))
    frame = pd.DataFrame([{"response_id": stable_id("r", *r), "variant_id": r[0], "post_id": r[1],
                           "responder": r[2], "condition": CONDITIONS[r[2]], "sample": 0, "text": r[3],
                           "status": r[4], "meta": "{}"} for r in responses])
    scores = [{"response_id": rid, "scorer": "empathy", "metric": m, "value": float(i % 3)}
              for i, rid in enumerate(frame["response_id"]) for m in ("ER", "IP", "EX")]
    scores += [{"response_id": rid, "scorer": "toxicity", "metric": "toxicity", "value": 0.1}
               for rid in frame["response_id"]]
    run.write_table("posts", posts)
    run.write_table("variants", pd.DataFrame(variants))
    run.write_table("responses", frame)
    run.write_table("scores", pd.DataFrame(scores))
    return run


@pytest.fixture
def review_run(tmp_path: Path) -> RunDir:
    return build_run(tmp_path / "run")


@dataclass
class Round:
    run: RunDir
    db: ReviewDB
    admin: str
    tokens: dict[str, str]


def make_round(run: RunDir, size: int = 6, seed: int = 3,
               raters: dict[str, int | None] | None = None) -> Round:
    """A round with raters (id -> number of items, None for all); tokens by account id."""
    draw = draw_items(run, size, seed)
    db = ReviewDB(default_url(run.path))
    admin = db.create_round(draw.items, {**draw.summary(), "seed": seed})
    tokens = {"admin": admin}
    for rater_id, n in (raters or {"ann": None, "bob": None}).items():
        order = rater_order(db.item_ids(), seed, rater_id)
        tokens[rater_id] = db.add_account(rater_id, "rater", rater_id.title(), order[:n] if n else order)
    return Round(run, db, admin, tokens)


@pytest.fixture
def review_round(review_run: RunDir) -> Round:
    return make_round(review_run, raters={"ann": None, "bob": None, "cat": 2})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``carelens review serve`` in a subprocess on 127.0.0.1; restartable on the same port."""

    def __init__(self, run: Path, port: int | None = None) -> None:
        self.run = run
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Server":
        code = "import sys; from carelens.review.commands import app; sys.argv[0] = 'review'; app()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", str(self.run), "--port", str(self.port)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read().decode()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.url}/static/review.css", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def server(review_round: Round) -> Iterator[Server]:
    srv = Server(review_round.run.path).start()
    try:
        yield srv
    finally:
        srv.stop()
