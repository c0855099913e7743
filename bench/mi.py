"""Throughput of the `mi` scorer on real replies: recorded GPT-4, Reddit peer and CounselChat therapist.

Scores N (post, reply) pairs of each source (default 500) in batches of 512, as the score stage does,
with the default (fine-tuned) code model and the fast one (``model = "fast"``), each built once (not
timed), in one process: replies per second of wall time (the fine-tuned encoder uses both cores, so
CPU-seconds would count it twice). The last line is the figure: the default's time over the fast
one's.

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
    seconds = {}
    for variant, scorer in (("default", MIScorer()), ("fast", MIScorer(model="fast"))):
        scorer.score(sources["peer"][:8])  # warm up
        seconds[variant] = 0.0
        for name, pairs in sources.items():
            sentences = sum(len(split_sentences(r)) for _, r in pairs) / len(pairs)
            wall = time.perf_counter()
            for start in range(0, len(pairs), BATCH):
                scorer.score(pairs[start : start + BATCH])
            wall = time.perf_counter() - wall
            seconds[variant] += wall
            print(
                f"{variant:>8} {scorer.notes['code_model']:>18} {name:>15}: {len(pairs)} replies, "
                f"{sentences:.1f} sentences each: {len(pairs) / wall:7.1f} replies/s"
            )
    total = sum(len(p) for p in sources.values())
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (above the CPU count: shared "
        f"machine); default {total / seconds['default']:.1f} replies/s, "
        f"fast {total / seconds['fast']:.1f} replies/s"
    )
    print(f"time ratio default/fast: {seconds['default'] / seconds['fast']:.1f}")


if __name__ == "__main__":
    main()
