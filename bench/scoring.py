"""Throughput of the default scoring suite on EPITOME replies (real Reddit posts and peer replies).

Scores every (seeker post, response) pair of EPITOME, as the score stage does (batches, each scorer
built once, pure-Python scorers over worker processes), with the study-file defaults: empathy (span
variant, windows of 64 words, LLM-reply calibration), offensive, sentiment, safety, text and mi (the
fine-tuned code model). The empathy model is trained first if it is not cached (not timed). Nearly
every EPITOME reply answers a different post, so the safety scorer embeds one post per reply: slower
than a study where posts get several replies each.

Usage: python bench/scoring.py [N pairs, default all]. The last line is the figure.
"""

import os
import resource
import sys
import time

os.environ.setdefault(
    "CARELENS_DATA_MIRROR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
)

from carelens.datasets.epitome import load_labels  # noqa: E402
from carelens.scoring.settings import ScoringConfig  # noqa: E402
from carelens.scoring.stage import build_scorers, score_pairs  # noqa: E402

GOAL = 100.0  # replies per second on 2 cores


def main() -> None:
    labels = load_labels()
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else len(labels)
    pairs = list(zip(labels["seeker_post"], labels["response_post"], strict=True))[:limit]
    words = sum(len(r.split()) for _, r in pairs) / len(pairs)
    config = ScoringConfig()
    notes: dict[str, object] = {}
    clock = time.perf_counter()
    scorers = build_scorers(config, notes)
    print(f"built {', '.join(s.name for _, s in scorers)} in {time.perf_counter() - clock:.1f} s (not timed)")
    total = 0.0
    for registered, scorer in scorers:
        started = time.perf_counter()
        score_pairs(scorer, registered, pairs, config, lambda k: None)
        seconds = time.perf_counter() - started
        total += seconds
        print(f"{scorer.name:>14}: {seconds:6.1f} s  {len(pairs) / seconds:8.1f} replies/s")
    load = os.getloadavg()[0]
    cpu = sum(
        resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    print(
        f"{len(pairs)} pairs, mean reply {words:.1f} words, {os.cpu_count()} CPUs, load average {load:.2f} "
        f"(above the CPU count: shared with other work); {cpu:.0f} CPU-s used by this run with loading"
    )
    rate = len(pairs) / total
    print(
        f"default suite: {rate:.1f} replies/s on {os.cpu_count()} cores "
        f"= {rate / GOAL:.2f}x the {GOAL:.0f}/s goal"
    )


if __name__ == "__main__":
    main()
