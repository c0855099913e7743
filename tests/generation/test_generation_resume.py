"""Resume after kill -9 of a real process: nothing lost, nothing duplicated; the key never hits disk.

A faulty run (rate limits, transient and persistent server errors) killed at three points, resumed,
then re-run once the endpoint is fixed: rows lost, paid requests duplicated and requests retried are
counted and printed (``pytest -s``).
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from carelens.ids import stable_id
from carelens.store import RunDir
from carelens.tables import conform
from support.fake_openai import FakeOpenAI

SECRET = "sk-carelens-" + "5ecret" * 4
HEADER_SECRET = "hdr-" + "7oken" * 4
VARIANTS = 30
SAMPLES = 2
CONCURRENCY = 4

SCRIPT = """
import sys
from carelens.config import load_study
from carelens.generation.stage import generate
from carelens.store import RunDir
from carelens.study import StageContext

loaded = load_study(sys.argv[1])
run = RunDir(loaded.output_dir)
ctx = StageContext(loaded, run)
tables = generate(ctx)
run.write_table("responses", tables["responses"])
run.write_manifest({"stages": {"generate": {"notes": ctx.notes}}})
if ctx.failure:
    print(ctx.failure)
    sys.exit(3)
"""


def _prepare(tmp_path: Path, fake: FakeOpenAI, attempts: int = 6) -> Path:
    study = tmp_path / "study.toml"
    study.write_text(f"""
[study]
name = "resume"
output = "run"

[[data]]
file = "posts.tsv"

[generation]
responders = ["openai-compatible:fake@{fake.base_url}"]
conditions = ["mental_health_forum"]
samples = {SAMPLES}
temperature = 1.0
seed = 100
concurrency = {CONCURRENCY}
cache = "cache/generation.sqlite"

[generation.providers.openai-compatible]
api_key_env = "CARELENS_FAKE_KEY"
headers = {{ x-org-token = "env:CARELENS_FAKE_HEADER" }}
max_attempts = {attempts}
""", encoding="utf-8")
    rows = [{"variant_id": stable_id("v", i), "post_id": f"p{i}", "race": "", "gender": "", "age": "",
             "cue_kind": "none", "cue": "", "text": f"post {i}: I feel lost, day {i}.", "fidelity_ok": True,
             "fidelity_note": "", "defects": ""} for i in range(VARIANTS)]
    run = RunDir(tmp_path / "run")
    run.write_table("variants", conform("variants", pd.DataFrame(rows)))
    run.write_table("collected_responses", pd.DataFrame(columns=["response_id", "variant_id", "responder"]))
    script = tmp_path / "generate.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return study


def _start(tmp_path: Path, study: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CARELENS_FAKE_KEY": SECRET, "CARELENS_FAKE_HEADER": HEADER_SECRET}
    return subprocess.Popen([sys.executable, str(tmp_path / "generate.py"), str(study)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _cached_prompts(cache: Path) -> set[tuple[str, int]]:
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT request FROM results").fetchall()
    return {(json.loads(r)["messages"][-1]["content"], json.loads(r)["params"]["seed"]) for (r,) in rows}


def test_kill_9_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    with FakeOpenAI(latency=0.05) as fake:
        study = _prepare(tmp_path, fake)
        first = _start(tmp_path, study)
        deadline = time.time() + 60
        while fake.count(200) < 20 and time.time() < deadline and first.poll() is None:
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first_output = first.communicate()[0]
        assert first.returncode == -signal.SIGKILL
        fake.settle()  # an answer sent as the client died turns from 200 to -1: count once all are final
        answered_before = fake.count(200)
        assert 20 <= answered_before < VARIANTS * SAMPLES
        run = RunDir(tmp_path / "run")
        assert not run.has_table("responses")  # no partial table
        committed = _cached_prompts(tmp_path / "cache" / "generation.sqlite")
        assert len(committed) >= answered_before - CONCURRENCY  # only in-flight answers may be lost

        phase_two_start = len(fake.requests)
        second = _start(tmp_path, study)
        second_output = second.communicate(timeout=120)[0]
        assert second.returncode == 0, second_output.decode()

        resent = [(r.last_user, r.body["seed"]) for r in fake.requests[phase_two_start:]]
        assert not set(resent) & committed  # no finished request is sent again
        assert fake.duplicates() <= CONCURRENCY  # at most the answers in flight at the kill
        assert fake.duplicates() == answered_before - len(committed)
        responses = run.read_table("responses")
        assert len(responses) == VARIANTS * SAMPLES and responses["response_id"].is_unique
        assert set(responses["status"]) == {"ok"}
        cached = [json.loads(m)["cached"] for m in responses["meta"]]
        assert sum(cached) == len(committed)

        assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in fake.requests)
        assert all(r.headers["x-org-token"] == HEADER_SECRET for r in fake.requests)
    for secret in (SECRET, HEADER_SECRET):
        for output in (first_output, second_output):
            assert secret.encode() not in output
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def _kill_when_answered(fake: FakeOpenAI, process: subprocess.Popen[bytes], answered: int) -> None:
    deadline = time.time() + 60
    while fake.count(200) < answered and time.time() < deadline and process.poll() is None:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()


@pytest.mark.parametrize("kill_at", [5, 30, 55])
def test_kill_9_in_a_faulty_run(tmp_path: Path, kill_at: int) -> None:
    planned = VARIANTS * SAMPLES
    with FakeOpenAI(latency=0.05) as fake:
        fake.add_fault("server_error", match="day 7.")  # persistent: 2 error rows
        fake.add_fault("rate_limit", times=6, retry_after=0.05)
        fake.add_fault("server_error", times=6)
        study = _prepare(tmp_path, fake, attempts=3)
        first = _start(tmp_path, study)
        _kill_when_answered(fake, first, kill_at)
        assert first.returncode == -signal.SIGKILL
        fake.settle()  # an answer sent as the client died turns from 200 to -1: count once all are final
        answered_before = fake.count(200)
        committed = _cached_prompts(tmp_path / "cache" / "generation.sqlite")
        run = RunDir(tmp_path / "run")
        assert not run.has_table("responses")

        resumed_from = len(fake.requests)
        second = _start(tmp_path, study)
        output = second.communicate(timeout=120)[0].decode()
        assert second.returncode == 3, output  # the persistent errors fail the stage ...
        assert "2 of 60 generation requests failed" in output and "InternalServerError" in output
        responses = run.read_table("responses")  # ... after its rows are written
        assert len(responses) == planned and responses["response_id"].is_unique
        assert Counter(responses["status"]) == {"ok": planned - 2, "error": 2}
        resent = [(r.last_user, r.body["seed"]) for r in fake.requests[resumed_from:]]
        assert not set(resent) & committed  # no committed request is sent again
        duplicated = fake.duplicates()
        assert duplicated == answered_before - len(committed) <= CONCURRENCY  # answers in flight at kill

        fake.clear_faults()  # the endpoint is fixed
        fixed_from = len(fake.requests)
        third = _start(tmp_path, study)
        assert third.communicate(timeout=120)[0] is not None and third.returncode == 0
        retried = [r.last_user for r in fake.requests[fixed_from:]]
        assert len(retried) == 2 and all("day 7." in text for text in retried)
        final = run.read_table("responses")
        lost = planned - final["response_id"].nunique()
        assert lost == 0 and set(final["status"]) == {"ok"}
        assert fake.duplicates() == duplicated
        assert len(set(resent)) == planned - len(committed)
        print(f"\nkill -9 after {answered_before} answers ({len(committed)} committed): rows lost {lost}, "
              f"paid requests duplicated {duplicated} (answered but not committed at the kill), sent on "
              f"resume {len(set(resent))} distinct requests ({len(resent)} HTTP requests with retries), "
              f"error rows retried once the endpoint was fixed {len(retried)}")
