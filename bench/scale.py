"""The score stage at scale on both engines: throughput, the driver's peak memory, ray/local.

Synthetic studies (carelens.execution.synthetic: ~90 % ok replies to 200 posts) of each size are
written to run directories under a scratch folder, then each engine scores them in a fresh process
(so its peak memory is that of one stage's driver, writing the table included: the resident set,
ru_maxrss, which counts the pages of Ray's shared object store the driver has read, and the private
memory, sampled every 0.1 s from /proc/self/smaps_rollup):
the pure-Python scorers (text, sentiment) on every reply, and the encoder-based safety scorer on a
sample of ``--sample`` replies. Ray runs on a local cluster started for the stage (its start-up is
counted; the rate "once started" leaves it out) with ``--workers`` scoring actors; the local engine
uses as many worker processes (``scoring.workers``).

Usage: python bench/scale.py [--sizes 10000,100000,1000000] [--sample 5000] [--workers 2]
The last line is the ray/local throughput ratio at the largest size.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FULL = ["text", "sentiment"]
SAMPLED = ["safety"]


def _study(folder: Path, engine: str, scorers: list[str], workers: int) -> Path:
    text = (
        f'[study]\nname = "scale"\noutput = "run"\n\n[[data]]\nfile = "posts.tsv"\n\n'
        f"[scoring]\nscorers = {json.dumps(scorers)}\nworkers = {workers}\n\n"
        f'[execution]\nengine = "{engine}"\nnum_workers = {workers}\n'
    )
    path = folder / f"study-{engine}-{'-'.join(scorers)}.toml"
    path.write_text(text, encoding="utf-8")
    return path


class PrivatePeak:
    """The highest private memory (Private_Clean + Private_Dirty, MB) of this process, sampled."""

    def __init__(self) -> None:
        self.peak, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            fields = Path("/proc/self/smaps_rollup").read_text().splitlines()
            kb = sum(int(line.split()[1]) for line in fields if line.startswith("Private_"))
            self.peak = max(self.peak, kb / 1024)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def _one(study: str) -> None:
    """Score one prepared run directory in this process and print seconds, rows and peak memory."""
    from carelens.config import load_study
    from carelens.scoring.stage import score
    from carelens.store import RunDir
    from carelens.study import StageContext

    loaded = load_study(study)
    ctx = StageContext(loaded, RunDir(loaded.output_dir))
    private = PrivatePeak()
    clock = time.perf_counter()
    table = score(ctx)["scores"]
    ctx.run.write_table("scores", table)  # as the stage runner does: the Ray engine's table was streamed
    rows, seconds = len(table), time.perf_counter() - clock
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    private_peak = private.stop()
    on_cluster = ctx.notes.get("engine", {}).get("scoring_seconds", seconds)
    figures = {
        "seconds": seconds,
        "on_cluster": on_cluster,
        "rows": rows,
        "peak_mb": peak,
        "private_mb": private_peak,
    }
    print(json.dumps({**figures, "scored": ctx.notes["responses_scored"]}))


def _measure(study: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--one", str(study)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"{study.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _prepare(folder: Path, replies: int) -> None:
    from carelens.execution.synthetic import synthetic_tables
    from carelens.store import RunDir

    run = RunDir(folder / "run")
    for name, frame in synthetic_tables(replies, seed=replies).items():
        run.write_table(name, frame)


def _compare(label: str, folder: Path, scorers: list[str], workers: int) -> float:
    figures = {e: _measure(_study(folder, e, scorers, workers)) for e in ("local", "ray")}
    rate = {e: f["scored"] / f["seconds"] for e, f in figures.items()}
    for engine, f in figures.items():
        print(
            f"{label:>24} {engine:>5}: {f['scored']:>9,} replies {f['seconds']:8.1f} s "
            f"{rate[engine]:9.0f} replies/s ({f['scored'] / f['on_cluster']:6.0f} once started)  "
            f"driver peak {f['peak_mb']:6.0f} MB resident, {f['private_mb']:6.0f} MB private  "
            f"{f['rows']:,} score rows"
        )
    ratio = rate["ray"] / rate["local"]
    print(f"{label:>24} ray/local throughput: {ratio:.2f}", flush=True)
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.one:
        _one(args.one)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="carelens-scale-") as scratch:
        sample = Path(scratch) / "sample"
        _prepare(sample, args.sample)
        _compare(f"{args.sample:,} ({'+'.join(SAMPLED)})", sample, SAMPLED, args.workers)
        ratio = 0.0
        for size in sizes:
            folder = Path(scratch) / str(size)
            _prepare(folder, size)
            ratio = _compare(f"{size:,} ({'+'.join(FULL)})", folder, FULL, args.workers)
    print(f"ray/local throughput at {sizes[-1]:,} replies: {ratio:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    main()
