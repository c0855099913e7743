"""LLM-rewrite cues: a configured model weaves a cue-bank sentence into a post, changing nothing else.

The model's reply is cleaned of wrappers it tends to add (a "Here is the rewritten post:" line, code
fences, surrounding quotes). A refused, filtered or failed request still makes a variant row, with
empty text, ``fidelity_ok`` False and the reason in ``fidelity_note``; fidelity checks later judge
the rest (similarity, length, words kept, cue present).
"""

import re
from pathlib import Path
from typing import Any

from carelens.demographics.cuebank import CueBank
from carelens.demographics.cues import Cell, bank_cues, variant_row
from carelens.demographics.prompts import rewrite_prompt
from carelens.llm.engine import ChatRequest, SamplingParams, run_requests
from carelens.llm.settings import ClientConfig

_PREAMBLE = re.compile(r"^\s*(?:sure[,!.]?\s*)?(?:here(?:'s| is) (?:the |your )?(?:rewritten|revised|updated)"
                       r"[^\n:]*:|rewritten post:)\s*", re.IGNORECASE)
_FENCE = re.compile(r"^\s*```[\w-]*\n(.*?)\n```\s*$", re.DOTALL)


def clean_rewrite(reply: str, original: str) -> str:
    """The rewritten post without a preamble, code fence or quotes the original does not have."""
    text = reply.strip()
    if fenced := _FENCE.match(text):
        text = fenced.group(1).strip()
    text = _PREAMBLE.sub("", text, count=1).strip()
    for left, right in (('"', '"'), ("“", "”"), ("'", "'")):
        if text.startswith(left) and text.endswith(right) and len(text) > 1 \
                and not (original.strip().startswith(left) and original.strip().endswith(right)):
            text = text[1:-1].strip()
    return text


def rewrite_variants(posts: list[tuple[str, str]], cells: list[Cell], bank: CueBank, *, model: str, n: int,
                     seed: int, max_tokens: int, config: ClientConfig | None = None,
                     cache_path: Path | str | None = None,
                     show_progress: bool = True) -> list[dict[str, Any]]:
    """Rewrite variants for ``(post_id, text)`` pairs: the same cues as the bank method, woven in by
    ``model``. Returns variants rows (fidelity not yet checked)."""
    plan: list[tuple[str, str, Cell, str, str]] = []
    for post_id, text in posts:
        for cell in cells:
            for block, ids in bank_cues(post_id, cell, bank, n, seed):
                plan.append((post_id, text, cell, block, ids))
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens, seed=seed)
    requests = [ChatRequest(model, [{"role": "user", "content": rewrite_prompt(text, block)}], params,
                            tag="rewrite") for _, text, _, block, _ in plan]
    results = run_requests(requests, config=config, cache_path=cache_path, progress_label="rewrite",
                           show_progress=show_progress) if requests else []
    rows = []
    method = f"rewrite:{model}"
    for (post_id, text, cell, block, ids), result in zip(plan, results, strict=True):
        if result.status == "ok" and result.text:
            rows.append(variant_row(post_id, cell, "implicit", method, block, ids,
                                    clean_rewrite(result.text, text)))
            continue
        row = variant_row(post_id, cell, "implicit", method, block, ids, "")
        reason = result.error or (result.text or "")[:200]
        row.update(fidelity_ok=False, fidelity_note=f"rewrite {result.status}: {reason}".strip())
        rows.append(row)
    return rows
