"""Generation engine throughput, duplicates and cached re-run time against the fake OpenAI server.

1. 2,000 distinct requests, server latency 200 ms, client limit 50 requests/s (3,000/min):
   achieved requests/s as a fraction of the limit (goal >= 0.95) and duplicate requests (goal 0).
2. The generate stage over 1,000 variants x 10 samples (10,000 responses), run once to fill the cache
   (no latency, no limit), then re-run fully cached: its time (goal < 10 s).

Run: ``.venv/bin/python bench/generation.py``. The last line holds the figures.
"""

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from carelens.config import LoadedStudy, parse_study  # noqa: E402
from carelens.generation.settings import GenerationConfig  # noqa: E402
from carelens.generation.stage import generate  # noqa: E402
from carelens.ids import stable_id  # noqa: E402
from carelens.llm.engine import ChatRequest, SamplingParams, run_requests  # noqa: E402
from carelens.llm.settings import ProviderConfig  # noqa: E402
from carelens.store import RunDir  # noqa: E402
from carelens.study import StageContext  # noqa: E402
from carelens.tables import conform  # noqa: E402
from support.fake_openai import FakeOpenAI  # noqa: E402

LIMIT_PER_SECOND = 50
REQUESTS = 2_000
VARIANTS, SAMPLES = 1_000, 10


def throughput(folder: Path) -> tuple[float, float, int]:
    with FakeOpenAI(latency=0.2) as fake:
        spec = f"openai-compatible:fake@{fake.base_url}"
        config = GenerationConfig(responders=[spec], providers={"openai-compatible": ProviderConfig(
            requests_per_minute=LIMIT_PER_SECOND * 60, concurrency=32)})
        requests = [ChatRequest(spec, [{"role": "user", "content": f"post {i}: I feel alone tonight."}],
                                SamplingParams(temperature=0.7)) for i in range(REQUESTS)]
        clock = time.perf_counter()
        results = run_requests(requests, config=config, cache_path=folder / "throughput.sqlite",
                               progress_label="bench: throughput")
        elapsed = time.perf_counter() - clock
        failed = sum(r.status != "ok" for r in results)
        if failed:
            raise SystemExit(f"{failed} requests failed")
        return REQUESTS / elapsed, elapsed, fake.duplicates()


def _context(folder: Path, base_url: str) -> StageContext:
    text = f"""
[study]
name = "bench"
output = "run"
[[data]]
file = "posts.tsv"
[generation]
responders = ["openai-compatible:fake@{base_url}"]
conditions = ["clinician"]
samples = {SAMPLES}
seed = 1
concurrency = 64
cache = "stage.sqlite"
"""
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    loaded = LoadedStudy(parse_study(text, str(path)), path, text)
    return StageContext(loaded, RunDir(loaded.output_dir))


def cached_rerun(folder: Path) -> tuple[float, float]:
    rows = [{"variant_id": stable_id("v", i), "post_id": f"p{i}", "race": "", "gender": "", "age": "",
             "cue_kind": "none", "cue": "", "text": f"post {i}: work is crushing me and I can't sleep.",
             "fidelity_ok": True, "fidelity_note": "", "defects": ""} for i in range(VARIANTS)]
    with FakeOpenAI() as fake:
        ctx = _context(folder, fake.base_url)
        ctx.run.write_table("variants", conform("variants", pd.DataFrame(rows)))
        ctx.run.write_table("collected_responses", pd.DataFrame(columns=["variant_id", "responder"]))
        clock = time.perf_counter()
        first = generate(ctx)["responses"]
        fill = time.perf_counter() - clock
        sent = fake.count()
        ctx = _context(folder, fake.base_url)
        clock = time.perf_counter()
        second = generate(ctx)["responses"]
        rerun = time.perf_counter() - clock
        if fake.count() != sent or len(second) != VARIANTS * SAMPLES or not first.equals(second.assign(
                meta=first["meta"])):
            raise SystemExit("the cached re-run sent requests or changed the responses")
        return fill, rerun


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rate, elapsed, duplicates = throughput(folder)
        print(f"throughput: {REQUESTS} requests in {elapsed:.2f} s = {rate:.2f} req/s, "
              f"limit {LIMIT_PER_SECOND}")
        fill, rerun = cached_rerun(folder)
        print(f"cache: filled {VARIANTS * SAMPLES} responses in {fill:.2f} s, "
              f"fully cached re-run {rerun:.2f} s")
    print(f"generation: achieved/limit {rate / LIMIT_PER_SECOND:.3f} (goal >= 0.95), duplicate requests "
          f"{duplicates} (goal 0), cached re-run of {VARIANTS * SAMPLES} responses {rerun:.2f} s "
          "(goal < 10 s)")


if __name__ == "__main__":
    main()
