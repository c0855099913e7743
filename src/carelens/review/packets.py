"""Draw a round's items from a run: a stratified, seeded sample of responses with masked posts.

Strata are (source, condition, group): source is ``ai`` or ``human`` (from the responder), condition the
prompt condition, group the demographic group of the variant the responder answered (the cue of a cued
variant, else the probe's inferred race, else ``unknown``).

Blinding: nothing a rater sees but the response itself may depend on who wrote it. Peer and therapist
replies answer original posts only, while model replies may answer cued variants ("[32y/o, black
female] -- ..."), so every item shows its *original* post, masked the same way for every source
(``POST_SHOWN``), never the cued variant. With both sources in the pool the draw is matched on posts
(``match="posts"``): each drawn post comes with as many AI items as human items, so the shown posts of
AI and human items are the same multiset. ``match="none"`` draws each source on its own (the shown post
then still carries no cue, but which posts appear may differ by source).
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
MATCHES = ("posts", "none")
POST_SHOWN = "original"


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
    blinding: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"round_id": self.round_id, "drawn": len(self.items), "excluded": self.excluded,
                "strata": self.strata, "blinding": self.blinding}


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
    """Responses that can be rated, with source, group and the original post's text; and counts of
    those excluded."""
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
    originals = dict(zip(posts["post_id"], posts["text"].fillna(""), strict=True))
    groups = _groups(run, variants) if variants is not None else {}
    cued = set(variants.loc[variants["cue_kind"] != "none", "variant_id"]) if variants is not None else set()
    responses = responses.assign(post_text=[originals.get(p, "") for p in responses["post_id"]]).astype(
        {"post_text": "string"})
    drop(responses["post_text"].str.strip() == "", "no_post_text")
    responses = responses.copy()
    responses["source"] = responses["responder"].map(source_of)
    responses["group"] = responses["variant_id"].map(lambda v: groups.get(v, "unknown"))
    responses["condition"] = responses["condition"].fillna("none")
    responses["cued"] = responses["variant_id"].isin(cued)
    return responses.sort_values("response_id").reset_index(drop=True), excluded


def _stratified(rows: pd.DataFrame, n: int, rng: np.random.Generator,
                strata: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """``n`` rows spread evenly over the (condition, group) strata of ``rows`` (all of one source)."""
    capacity = rows.groupby(["condition", "group"]).size().to_dict()
    picked = []
    for (condition, group), k in sorted(allocate(capacity, n, rng).items()):
        stratum = rows[(rows["condition"] == condition) & (rows["group"] == group)]
        picked.append(stratum.iloc[np.sort(rng.choice(len(stratum), size=k, replace=False))])
        if strata is not None:
            strata.append({"source": rows["source"].iloc[0], "condition": condition, "group": group,
                           "available": len(stratum), "drawn": k})
    return pd.concat(picked)


def _draw_by_source(pool: pd.DataFrame, size: int, rng: np.random.Generator,
                    strata: list[dict[str, Any]]) -> list[pd.DataFrame]:
    per_source = allocate(pool.groupby("source").size().to_dict(), size, rng)
    return [_stratified(pool[pool["source"] == source], n, rng, strata)
            for source, n in sorted(per_source.items())]


def _draw_matched(pool: pd.DataFrame, size: int, rng: np.random.Generator, strata: list[dict[str, Any]],
                  excluded: dict[str, int]) -> list[pd.DataFrame]:
    """Pairs of one AI and one human reply to the same post, spread evenly over posts."""
    counts = pool.groupby(["post_id", "source"]).size().unstack(fill_value=0)
    pairs = counts[["ai", "human"]].min(axis=1)
    unmatched = int(pool["post_id"].map(pairs).fillna(0).eq(0).sum())
    if unmatched:
        excluded["post_without_both_sources"] = unmatched
    per_post = allocate({p: int(c) for p, c in pairs.items() if c > 0}, size // 2, rng)
    chosen = []
    for post_id, k in sorted(per_post.items()):
        if k:
            rows = pool[pool["post_id"] == post_id]
            chosen += [_stratified(rows[rows["source"] == source], k, rng) for source in ("ai", "human")]
    if not chosen:
        return chosen
    drawn = pd.concat(chosen)
    for (source, condition, group), stratum in pool.groupby(["source", "condition", "group"]):
        strata.append({"source": source, "condition": condition, "group": group, "available": len(stratum),
                       "drawn": int(((drawn["source"] == source) & (drawn["condition"] == condition)
                                     & (drawn["group"] == group)).sum())})
    return chosen


def draw_items(run: RunDir, size: int, seed: int, responders: list[str] | None = None,
               match: str = "posts") -> Draw:
    """Draw ``size`` responses, stratified and seeded, each shown with its original post, masked.

    ``match="posts"`` (used when the pool holds AI and human replies) draws pairs of one AI and one
    human reply to the same post, so an odd ``size`` is rounded down.
    """
    if size < 1:
        raise CarelensError("the round size must be at least 1", where="--size")
    if match not in MATCHES:
        raise CarelensError(f"unknown match '{match}'; use one of {', '.join(MATCHES)}", where="--match")
    pool, excluded = candidates(run, responders)
    if pool.empty:
        raise CarelensError("no response can be rated (none has status ok, text and a post)",
                            where=str(run.table_path("responses")))
    rng = np.random.default_rng(seed)
    strata: list[dict[str, Any]] = []
    matched = match == "posts" and pool["source"].nunique() == 2
    if matched:
        if size < 2:
            raise CarelensError("a round matched on posts needs at least 2 items (or use --match none)",
                                where="--size")
        chosen = _draw_matched(pool, size, rng, strata, excluded)
        if not chosen:
            raise CarelensError("no post has both an AI and a human reply (use --match none)",
                                where=str(run.table_path("responses")))
    else:
        chosen = _draw_by_source(pool, size, rng, strata)
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
    blinding = {"post_shown": POST_SHOWN, "match": "posts" if matched else "none",
                "cued_items_shown_original": int(items["cued"].sum())}
    return Draw(items[columns].reset_index(drop=True), round_id, excluded, strata, blinding)


def rater_order(item_ids: list[str], seed: int, rater_id: str) -> list[str]:
    """The rater's own order of the items: a permutation seeded by the round seed and the rater."""
    salt = int(stable_id("order", rater_id).split("-")[1], 16)
    rng = np.random.default_rng([seed, salt])
    ordered = sorted(item_ids)
    return [ordered[i] for i in rng.permutation(len(ordered))]
