"""Throughput of the `mi` scorer on real replies: recorded GPT-4, Reddit peer and CounselChat therapist.

Scores N (post, reply) pairs of each source (default 500) in batches of 512, as the score stage does,
after building the scorer once (not timed). Prints replies per second of wall time and per CPU-second
of this process (the second is the fairer figure on a shared machine: load average above the CPU
count means other work competed for the cores). The last line is the figure.

Usage: python bench/mi.py [N pairs per source]
"""

import os
import sys
import time

os.environ.setdefault(
    "CARELENS_DATA_MIRROR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
)

from carelens.datasets.counsel_chat import parse as parse_counsel_chat  # noqa: E402
from carelens.datasets.mh_eval import parse_gpt4  # noqa: E402
from carelens.scoring.mi import MIScorer  # noqa: E402
from carelens.scoring.mi_text import split_sentences  # noqa: E402

GOAL = 100.0  # replies per second for the whole default suite on 2 cores
BATCH = 512


def pairs_of(bundle, responder: str, limit: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    posts = dict(zip(bundle.posts["post_id"], bundle.posts["text"], strict=True))
    rows = bundle.responses[bundle.responses["responder"] == responder].head(limit)
    return [(posts[p], t) for p, t in zip(rows["post_id"], rows["text"], strict=True)]


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    gpt4 = parse_gpt4()
    sources = {
        "recorded:gpt-4": pairs_of(gpt4, "recorded:gpt-4", limit),
        "peer": pairs_of(gpt4, "peer", limit),
        "therapist": pairs_of(parse_counsel_chat(), "therapist", limit),
    }
    scorer = MIScorer()
    scorer.score(sources["peer"][:8])  # warm up
    total_pairs, total_wall, total_cpu = 0, 0.0, 0.0
    for name, pairs in sources.items():
        sentences = sum(len(split_sentences(r)) for _, r in pairs) / len(pairs)
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(pairs), BATCH):
            scorer.score(pairs[start : start + BATCH])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total_pairs, total_wall, total_cpu = total_pairs + len(pairs), total_wall + wall, total_cpu + cpu
        print(
            f"{name:>15}: {len(pairs)} replies, {sentences:.1f} sentences each: "
            f"{len(pairs) / wall:7.1f} replies/s wall, {len(pairs) / cpu:7.1f} replies per CPU-second"
        )
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (above the CPU count: shared machine)"
    )
    rate = total_pairs / total_cpu
    print(
        f"mi scorer: {total_pairs / total_wall:.1f} replies/s wall, {rate:.1f} replies per CPU-second "
        f"= {rate / GOAL:.2f}x the {GOAL:.0f}/s goal of the whole default suite"
    )


if __name__ == "__main__":
    main()
