"""The generate stage: every model responder answers every usable variant under every condition.

Rows of ``responses``: the collected replies of the listed collected responders (``peer``,
``therapist``, ``recorded:<name>``) to usable variants, then one row per model responder x condition x
variant x sample, in that order. A variant is usable when its ``fidelity_ok`` is True.

When the share of generated rows whose request failed (status ``error``) exceeds
``[generation] max_error_share`` (default 0), the stage fails after building every row: the rows are
written, the run stops with a summary of what failed, and a re-run sends exactly the failed requests
again (errors are never cached).
"""

import json
from collections import Counter
from typing import Any

import pandas as pd

from carelens.errors import CarelensError
from carelens.generation.prompts import SWAPPED_LABELS_NOTE, Condition, resolve_conditions
from carelens.generation.settings import GenerationConfig
from carelens.ids import stable_id
from carelens.llm.cache import default_cache_path
from carelens.llm.engine import (
    STATUSES,
    ChatRequest,
    ChatResult,
    SamplingParams,
    pii_stripping,
    run_requests,
    summarize,
)
from carelens.llm.specs import SPEC_FORMS, parse_responder
from carelens.study import StageContext
from carelens.tables import SCHEMAS, conform, empty_table

TOP_ERRORS = 5
ERROR_CHARS = 160
META_KEYS = ("finish_reason", "attempts", "refusal_pattern", "filter", "truncated_tokens", "pii_removed",
             "model")


def sampling_for(config: GenerationConfig, condition: str, responder: str, study_seed: int) -> SamplingParams:
    """The [generation] values, then the condition's, then the responder's (the local model's seed
    defaults to the study seed)."""
    params = SamplingParams(config.temperature, config.top_p, config.max_tokens, config.seed)
    params = params.updated(config.custom_conditions.get(condition))
    params = params.updated(config.sampling.get(condition)).updated(config.sampling.get(responder))
    spec = parse_responder(responder)
    if params.seed is None and spec is not None and spec.local:
        params = params.updated({"seed": study_seed})
    return params


def _collected(ctx: StageContext, config: GenerationConfig, usable: set[str]) -> pd.DataFrame:
    names = [r for r in config.responders if parse_responder(r) is None]
    if not names:
        return empty_table("responses")
    table = ctx.table("collected_responses")
    present = sorted(table["responder"].dropna().unique())
    missing = [r for r in names if r not in present]
    if missing:
        raise CarelensError(
            f"collected responder(s) {missing} have no replies in this study's data (collected responders "
            f"present: {', '.join(present) or 'none'}; model responders are written {SPEC_FORMS})",
            where="generation.responders")
    rows = table[table["responder"].isin(names)]
    kept = rows[rows["variant_id"].isin(usable)]
    ctx.notes["collected_rows"] = {r: int((kept["responder"] == r).sum()) for r in names}
    ctx.notes["collected_rows_excluded"] = int(len(rows) - len(kept))
    return conform("responses", kept[[c for c in SCHEMAS["responses"]]])


def _row(result: ChatResult, variant: Any, condition: str) -> dict[str, Any]:
    request = result.request
    meta = {k: result.meta[k] for k in META_KEYS if result.meta.get(k) not in (None, {}, "")}
    meta.update({"usage": result.usage, "cached": result.cached, "error": result.error,
                 "params": request.params.as_dict()})
    return {
        "response_id": stable_id("r", request.responder, condition, variant.variant_id, request.sample,
                                 request.params.as_dict()),
        "variant_id": variant.variant_id,
        "post_id": variant.post_id,
        "responder": request.responder,
        "condition": condition,
        "sample": request.sample,
        "text": result.text if result.text is not None else "",
        "status": result.status,
        "meta": json.dumps(meta, sort_keys=True, default=str),
    }


def error_summary(results: list[ChatResult], max_share: float) -> str | None:
    """The failure message when the share of ``error`` results exceeds ``max_share``, else None:
    counts by status and by responder, the most common errors, and what to do."""
    failed = [r for r in results if r.status == "error"]
    if not results or len(failed) / len(results) <= max_share:
        return None
    statuses = Counter(r.status for r in results)
    by_responder = Counter(r.request.responder for r in failed)
    messages = Counter(_first_line(r.error) for r in failed)
    lines = [
        f"{len(failed)} of {len(results)} generation requests failed ({len(failed) / len(results):.1%}; "
        f"generation.max_error_share allows {max_share:.1%}).",
        "  by status: " + ", ".join(f"{s} {statuses[s]}" for s in STATUSES if statuses[s]),
        *(f"  {responder}: {count} failed" for responder, count in by_responder.most_common()),
        "  most common errors:",
        *(f"    {count} x {message}" for message, count in messages.most_common(TOP_ERRORS)),
    ]
    if len(messages) > TOP_ERRORS:
        lines.append(f"    ... and {len(messages) - TOP_ERRORS} other error messages")
    lines.append("The responses table is written with these rows as status 'error'. Fix the endpoint "
                 "(address, key, limits, model) and re-run: only the failed requests are sent again, "
                 "finished ones come from the cache. To accept some failures, raise "
                 "[generation] max_error_share.")
    return "\n".join(lines)


def _first_line(error: str | None) -> str:
    lines = (error or "").strip().splitlines()
    text = lines[0] if lines else "unknown error"
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 3] + "..."


def generate(ctx: StageContext) -> dict[str, pd.DataFrame]:
    """Collected replies plus generated ones, as the ``responses`` table."""
    config = ctx.study.generation
    variants = ctx.table("variants")
    fidelity = variants["fidelity_ok"].fillna(False).astype(bool)
    usable = variants[fidelity].reset_index(drop=True)
    ctx.notes["variants_used"] = int(len(usable))
    ctx.notes["variants_excluded_fidelity"] = int((~fidelity).sum())

    collected = _collected(ctx, config, set(usable["variant_id"]))
    models = [r for r in config.responders if parse_responder(r) is not None]
    conditions: list[Condition] = resolve_conditions(config.conditions, config.custom_conditions)

    requests: list[ChatRequest] = []
    where: list[tuple[Any, str]] = []
    for responder in models:
        for condition in conditions:
            params = sampling_for(config, condition.name, responder, ctx.study.study.seed)
            for variant in usable.itertuples(index=False):
                messages = condition.messages(variant.text if isinstance(variant.text, str) else "")
                for sample in range(config.samples):
                    requests.append(ChatRequest(responder, messages, params, sample, tag="generate"))
                    where.append((variant, condition.name))

    cache_path = ctx.loaded.resolve(config.cache) if config.cache else default_cache_path()
    results = run_requests(requests, config=config, cache_path=cache_path, progress_label="generate")
    generated = pd.DataFrame([_row(r, v, c) for r, (v, c) in zip(results, where, strict=True)],
                             columns=list(SCHEMAS["responses"]))

    summary = summarize(results, config.prices)
    ctx.notes["requests"] = len(requests)
    ctx.notes["responders"] = summary
    ctx.notes["pii"] = {r: {"stripped": pii_stripping(r, config), "removed": summary[r]["pii_removed"]}
                        for r in models}
    costs = [s["cost_usd"] for s in summary.values() if "cost_usd" in s]
    if costs:
        ctx.notes["cost_usd"] = round(sum(costs), 6)
    if {"forum_with_demographics", "forum_without_demographics"} & set(config.conditions) or any(
            r.startswith("recorded:") for r in config.responders):
        ctx.notes["caveat"] = SWAPPED_LABELS_NOTE
    failure = error_summary(results, config.max_error_share)
    if failure is not None:
        ctx.notes["failed_requests"] = sum(r.status == "error" for r in results)
        ctx.fail(failure)
    frames = [f for f in (collected, generated) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else empty_table("responses")
    return {"responses": conform("responses", out)}

