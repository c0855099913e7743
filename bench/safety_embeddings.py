"""Speed of the safety scorer's scoring embeddings against the float32 ones its models were fitted on.

Scores the same EPITOME (post, reply) pairs with a fresh scorer each time, alternately with the
fixed-shape embeddings scoring uses (bfloat16 where the CPU computes it natively) and with float32
sentence-transformers embeddings, twice each, in one process.

Usage: python bench/safety_embeddings.py [N pairs, default 600]. The last line is the figure: the
float32 time over the scoring time (above 1: scoring is faster).
"""

import os
import sys
import time
from functools import partial

os.environ.setdefault(
    "CARELENS_DATA_MIRROR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
)

from carelens.datasets.epitome import load_labels  # noqa: E402
from carelens.scoring import safety  # noqa: E402
from carelens.scoring.embedder import precision  # noqa: E402


def main() -> None:
    labels = load_labels()
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    pairs = list(zip(labels["seeker_post"], labels["response_post"], strict=True))[:limit]
    scoring = safety.embed_sentences
    float32 = partial(scoring, float32=True)
    safety.SafetyScorer().score(pairs[:10])  # load the encoder (not timed)
    seconds: dict[str, list[float]] = {"float32": [], "scoring": []}
    for _ in range(2):
        for name, embed in (("float32", float32), ("scoring", scoring)):
            safety.embed_sentences = embed
            started = time.perf_counter()
            safety.SafetyScorer().score(pairs)
            seconds[name].append(time.perf_counter() - started)
            print(f"{name:>8}: {seconds[name][-1]:5.1f} s  load average {os.getloadavg()[0]:.2f}", flush=True)
    print(f"{len(pairs)} pairs, scoring embeddings in {precision()}, {os.cpu_count()} CPUs")
    print(f"time ratio float32 / scoring: {sum(seconds['float32']) / sum(seconds['scoring']):.2f}")


if __name__ == "__main__":
    main()
