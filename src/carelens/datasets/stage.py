"""The data stage: read every [[data]] source, sample posts, and merge into the run's first tables.

Manifest notes: ``sources`` (per source: provenance, the parser's or importer's ``parse_notes``, and
the rows kept), ``responses_by_status`` (collected replies per status, ``empty`` included),
``posts_empty_skipped`` (imported records without a post text), ``collected_scores`` (recorded score
values kept) and ``scores_missing`` (empty recorded-score cells).
"""

from typing import Any

import numpy as np
import pandas as pd

from carelens.config import DataSource
from carelens.datasets.bundle import Bundle
from carelens.datasets.fetch import dataset_file, sha256_file
from carelens.datasets.importing import import_file
from carelens.datasets.registry import get_dataset
from carelens.errors import CarelensError
from carelens.tables import conform


def allocate(counts: pd.Series, total: int) -> pd.Series:
    """Split ``total`` over strata proportionally to ``counts`` (largest remainder), capped by counts."""
    share = counts / counts.sum() * total
    taken = np.floor(share).astype(int)
    order = (share - taken).sort_values(ascending=False, kind="stable").index
    for stratum in order[: total - int(taken.sum())]:
        taken[stratum] += 1
    return taken.clip(upper=counts)


def sample_posts(posts: pd.DataFrame, source: DataSource, seed: int) -> pd.DataFrame:
    """The seeded sample of ``source.posts`` posts, stratified by community unless told otherwise."""
    if source.posts is None or source.posts >= len(posts):
        return posts
    rng = np.random.default_rng(seed)
    if source.stratify == "none":
        return posts.iloc[np.sort(rng.choice(len(posts), size=source.posts, replace=False))]
    counts = posts.groupby("community").size()
    picked: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    for community, n in allocate(counts, source.posts).items():
        members = np.flatnonzero((posts["community"] == community).to_numpy())
        picked.append(rng.choice(members, size=int(n), replace=False))
    return posts.iloc[np.sort(np.concatenate(picked))]


def _load(source: DataSource, key: str, resolve: Any) -> tuple[Bundle, dict[str, Any]]:
    if source.dataset is not None:
        dataset = get_dataset(source.dataset)
        checksums = {f: dataset.upstream.sha256(f) for f in dataset.files()}
        for relpath in checksums:
            dataset_file(dataset.upstream, relpath)
        return dataset.parse(), {
            "dataset": dataset.name,
            "upstream": dataset.upstream.url(""),
            "sha256": checksums,
        }
    path = resolve(source.file)
    bundle = import_file(path, source, key)
    return bundle, {"file": str(path), "sha256": {path.name: sha256_file(path)}, "where": key}


def _restrict(bundle: Bundle, source: DataSource, key: str, seed: int) -> Bundle:
    posts = bundle.posts
    if source.communities is not None:
        known = set(posts["community"])
        unknown = sorted(set(source.communities) - known)
        if unknown:
            raise CarelensError(
                f"unknown communities {unknown}; allowed: {', '.join(sorted(known))}",
                where=f"{key}.communities",
            )
        posts = posts[posts["community"].isin(source.communities)]
    posts = sample_posts(posts, source, seed)
    keep = set(posts["post_id"])
    responses = bundle.responses[bundle.responses["post_id"].isin(keep)]
    if source.replies_per_post is not None:
        peers = responses["responder"].isin(["peer", "therapist"])
        shuffled = responses[peers].sample(frac=1.0, random_state=seed)
        capped = shuffled.groupby("post_id", sort=False).head(source.replies_per_post)
        responses = pd.concat([responses[~peers], capped]).sort_index()
    variants = bundle.variants[bundle.variants["post_id"].isin(keep)]
    scores = bundle.scores[bundle.scores["response_id"].isin(set(responses["response_id"]))]
    return Bundle(posts, variants, responses, scores, bundle.notes)


def collect(ctx: Any) -> dict[str, pd.DataFrame]:
    """Stage ``data``: posts, the cue variants shipped with a dataset, and collected responses."""
    bundles, sources = [], []
    for index, source in enumerate(ctx.study.data):
        key = f"data[{index}]"
        bundle, provenance = _load(source, key, ctx.input_file)
        restricted = _restrict(bundle, source, key, ctx.study.study.seed + index)
        provenance.update(
            parse_notes=bundle.notes,
            posts=len(restricted.posts),
            responses=len(restricted.responses),
            variants=len(restricted.variants),
            collected_scores=len(restricted.scores),
        )
        bundles.append(restricted)
        sources.append(provenance)
    posts = pd.concat([b.posts for b in bundles], ignore_index=True)
    # A post found in several sources is kept once; a source that knows its community wins.
    posts = posts.sort_values("community", key=lambda c: c.isin(["unknown"]), kind="stable")
    posts = posts.drop_duplicates("post_id").sort_values(["source", "post_id"])
    variants = pd.concat([b.variants for b in bundles], ignore_index=True).drop_duplicates("variant_id")
    responses = pd.concat([b.responses for b in bundles], ignore_index=True).drop_duplicates("response_id")
    scores = pd.concat([b.scores for b in bundles], ignore_index=True)
    scores = scores.drop_duplicates(["response_id", "scorer", "metric"])
    ctx.notes["sources"] = sources
    ctx.notes["responses_by_status"] = {
        str(k): int(v) for k, v in responses["status"].value_counts().sort_index().items()
    }
    ctx.notes["posts_empty_skipped"] = sum(int(b.notes.get("posts_empty_skipped", 0)) for b in bundles)
    ctx.notes["collected_scores"] = len(scores)
    ctx.notes["scores_missing"] = sum(int(b.notes.get("scores_missing", 0)) for b in bundles)
    return {
        "posts": conform("posts", posts),
        "collected_variants": conform("variants", variants.sort_values("variant_id")),
        "collected_responses": conform("responses", responses.sort_values("response_id")),
        "collected_scores": conform(
            "collected_scores", scores.sort_values(["response_id", "scorer", "metric"])
        ),
    }
