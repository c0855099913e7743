"""Draw a round's items from a run: a stratified, seeded sample of responses with masked posts.

Strata are (source, condition, group): source is ``ai`` or ``human`` (from the responder), condition the
prompt condition, group the demographic group of the post as shown (the cue of a cued variant, else the
probe's inferred race, else ``unknown``). The requested size is split as evenly as possible first
between the sources, then between the strata of each source, never above what a stratum holds.
"""

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carelens.errors import CarelensError
from carelens.ids import stable_id
from carelens.review.masking import CATEGORIES, mask_demographics
from carelens.store import RunDir

HUMAN_RESPONDERS = ("peer", "therapist")
STRATUM = ("source", "condition", "group")


def source_of(responder: str) -> str:
    """``human`` for peer and therapist replies (and ``human:*``), ``ai`` for models and recorded models."""
    return "human" if responder in HUMAN_RESPONDERS or responder.startswith("human:") else "ai"


def allocate(capacity: dict[Any, int], n: int, rng: np.random.Generator) -> dict[Any, int]:
    """Spread ``n`` over strata as evenly as possible without exceeding any capacity.

    What cannot be split evenly goes to strata chosen at random (seeded by ``rng``).
    """
    alloc = dict.fromkeys(capacity, 0)
    remaining = min(n, sum(capacity.values()))
    open_keys = sorted((k for k, c in capacity.items() if c > 0), key=str)
    while remaining > 0:
        share = remaining // len(open_keys)
        if share == 0:
            for i in rng.choice(len(open_keys), size=remaining, replace=False):
                alloc[open_keys[i]] += 1
            break
        for key in open_keys:
            take = min(share, capacity[key] - alloc[key])
            alloc[key] += take
            remaining -= take
        open_keys = [k for k in open_keys if alloc[k] < capacity[k]]
    return alloc


@dataclass
class Draw:
    """The drawn items and an account of what was available, excluded and drawn per stratum."""

    items: pd.DataFrame
    round_id: str
    excluded: dict[str, int]
    strata: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"round_id": self.round_id, "drawn": len(self.items), "excluded": self.excluded,
                "strata": self.strata}


def _groups(run: RunDir, variants: pd.DataFrame) -> dict[str, str]:
    """variant_id -> group label."""
    inferred: dict[str, str] = {}
    if run.has_table("inferences"):
        inf = run.read_table("inferences")
        inf = inf[(inf["status"] == "ok") & inf["race"].notna() & (inf["race"].str.strip() != "")]
        for vid, race in inf.sort_values(["variant_id", "model"])[["variant_id", "race"]].itertuples(
                index=False):
            inferred.setdefault(vid, str(race).strip().lower())
    groups = {}
    for row in variants.itertuples(index=False):
        if row.cue_kind != "none":
            attrs = [str(v) for v in (row.race, row.gender, row.age) if pd.notna(v) and str(v)]
            groups[row.variant_id] = f"{row.cue_kind}:{'/'.join(attrs) or 'unspecified'}"
        else:
            groups[row.variant_id] = inferred.get(row.variant_id, "unknown")
    return groups


def candidates(run: RunDir, responders: list[str] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Responses that can be rated, with source, group and post text; and counts of those excluded."""
    responses = run.read_table("responses")
    posts = run.read_table("posts")
    variants = run.read_table("variants") if run.has_table("variants") else None
    excluded: dict[str, int] = {}

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal responses
        if int(mask.sum()):
            excluded[reason] = int(mask.sum())
        responses = responses[~mask]

    drop(responses["status"] != "ok", "status_not_ok")
    drop(responses["text"].fillna("").str.strip() == "", "empty_response")
    if responders:
        keep = responses["responder"].map(lambda r: any(fnmatch.fnmatchcase(r, p) for p in responders))
        drop(~keep, "responder_not_selected")
    texts = dict(zip(posts["post_id"], posts["text"].fillna(""), strict=True))
    groups: dict[str, str] = {}
    if variants is not None:
        texts |= dict(zip(variants["variant_id"], variants["text"].fillna(""), strict=True))
        groups = _groups(run, variants)
    responses = responses.assign(post_text=[
        texts.get(v) or texts.get(p) or ""
        for v, p in zip(responses["variant_id"], responses["post_id"], strict=True)
    ]).astype({"post_text": "string"})
    drop(responses["post_text"].str.strip() == "", "no_post_text")
    responses = responses.copy()
    responses["source"] = responses["responder"].map(source_of)
    responses["group"] = responses["variant_id"].map(lambda v: groups.get(v, "unknown"))
    responses["condition"] = responses["condition"].fillna("none")
    return responses.sort_values("response_id").reset_index(drop=True), excluded


def draw_items(run: RunDir, size: int, seed: int, responders: list[str] | None = None) -> Draw:
    """Draw ``size`` responses, stratified and seeded, and mask their posts."""
    if size < 1:
        raise CarelensError("the round size must be at least 1", where="--size")
    pool, excluded = candidates(run, responders)
    if pool.empty:
        raise CarelensError("no response can be rated (none has status ok, text and a post)",
                            where=str(run.table_path("responses")))
    rng = np.random.default_rng(seed)
    by_source = pool.groupby("source").size().to_dict()
    per_source = allocate(by_source, size, rng)
    chosen, strata = [], []
    for source, n_source in sorted(per_source.items()):
        sub = pool[pool["source"] == source]
        capacity = sub.groupby(["condition", "group"]).size().to_dict()
        per_stratum = allocate(capacity, n_source, rng)
        for (condition, group), n in sorted(per_stratum.items()):
            rows = sub[(sub["condition"] == condition) & (sub["group"] == group)]
            picked = rows.iloc[np.sort(rng.choice(len(rows), size=n, replace=False))] if n else rows.iloc[:0]
            chosen.append(picked)
            strata.append({"source": source, "condition": condition, "group": group,
                           "available": len(rows), "drawn": n})
    items = pd.concat(chosen).sort_values("response_id").reset_index(drop=True)
    round_id = stable_id("round", seed, size, responders or [], list(items["response_id"]))
    masked = [mask_demographics(text) for text in items["post_text"]]
    items["item_id"] = [stable_id("i", round_id, rid) for rid in items["response_id"]]
    items["post_text"] = [m.text for m in masked]
    for category in CATEGORIES:
        items[f"masked_{category}"] = [m.counts[category] for m in masked]
    items = items.rename(columns={"text": "response_text"})
    columns = ["item_id", "response_id", "post_id", "variant_id", "responder", "source", "condition",
               "group", "post_text", "response_text", *(f"masked_{c}" for c in CATEGORIES)]
    return Draw(items[columns].reset_index(drop=True), round_id, excluded, strata)


def rater_order(item_ids: list[str], seed: int, rater_id: str) -> list[str]:
    """The rater's own order of the items: a permutation seeded by the round seed and the rater."""
    salt = int(stable_id("order", rater_id).split("-")[1], 16)
    rng = np.random.default_rng([seed, salt])
    ordered = sorted(item_ids)
    return [ordered[i] for i in rng.permutation(len(ordered))]
