"""Resume after kill -9 of a real process: nothing lost, nothing duplicated; the key never hits disk."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

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
"""


def _prepare(tmp_path: Path, fake: FakeOpenAI) -> Path:
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
