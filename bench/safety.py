"""Speed of the safety scorer against the rule-based one it replaced, on EPITOME (post, reply) pairs.

The baseline is ``src/carelens/scoring/safety.py`` at commit c337f39 (regular expressions plus
embedding prototypes), read from git history. Both score the same pairs in batches of 512 in one
process, each built once beforehand (not timed) and warmed on other texts. Nearly every EPITOME reply
answers a different post, so both embed one post per reply: slower than a study where posts get
several replies each.

Usage: python bench/safety.py [N pairs, default 1000]. The last line is the figure: new time / old
time (the goal is at most 2).
"""

import os
import subprocess
import sys
import time
import types
from pathlib import Path

os.environ.setdefault(
    "CARELENS_DATA_MIRROR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
)

from carelens.datasets.epitome import load_labels  # noqa: E402
from carelens.scoring.safety import SafetyScorer  # noqa: E402

BASELINE_COMMIT = "c337f39"
BATCH = 512


def baseline_scorer() -> object:
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:src/carelens/scoring/safety.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("baseline_safety")
    exec(compile(source, "baseline_safety.py", "exec"), module.__dict__)
    return module.SafetyScorer()


def timed(scorer: object, pairs: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for start in range(0, len(pairs), BATCH):
        scorer.score(pairs[start : start + BATCH])  # type: ignore[attr-defined]
    return time.perf_counter() - started


def main() -> None:
    labels = load_labels().drop_duplicates("rp_id")
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    pairs = list(zip(labels["seeker_post"], labels["response_post"], strict=True))
    warm, pairs = pairs[-20:], pairs[:limit]
    old, new = baseline_scorer(), SafetyScorer()
    for scorer in (old, new):
        scorer.score(warm)  # type: ignore[attr-defined]
    old_s = timed(old, pairs)
    new_s = timed(new, pairs)
    print(f"{len(pairs)} pairs, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(
        f"baseline (rules + prototypes, {BASELINE_COMMIT}): {old_s:6.1f} s  "
        f"{len(pairs) / old_s:7.1f} replies/s"
    )
    print(f"learned safety scorer:                  {new_s:6.1f} s  {len(pairs) / new_s:7.1f} replies/s")
    print(f"time ratio new/old: {new_s / old_s:.2f} (goal <= 2)")


if __name__ == "__main__":
    main()
