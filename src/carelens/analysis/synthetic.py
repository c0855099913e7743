"""Synthetic run tables with known effects, for benchmarks and for checking that the analysis finds them.

``value = base + post effect + group gap + condition gap + noise``; with ``levels`` the value is rounded
and clipped to 0..levels (like the EPITOME 0/1/2 scales). Statuses can be made to differ by group.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carelens.ids import original_variant_id, stable_id
from carelens.tables import conform, empty_table


@dataclass(frozen=True)
class Synthetic:
    """The shape and the true effects of a synthetic run."""

    design: str = "counterfactual"  # or "observational" / "none"
    posts: int = 40
    groups: tuple[str, ...] = ("black/female", "white/female")
    gaps: dict[str, float] = field(default_factory=dict)  # group -> true difference from the control
    conditions: tuple[str, ...] = ("forum",)
    condition_gaps: dict[str, float] = field(default_factory=dict)
    responders: tuple[str, ...] = ("local:model",)
    peer_replies: int = 0  # peer replies per post (to the original)
    peer_gap: float = 0.0  # true difference peer - model
    samples: int = 1
    metrics: tuple[str, ...] = ("ER",)
    base: float = 1.0
    post_sd: float = 0.3
    noise_sd: float = 0.5
    levels: int | None = None
    refusal: dict[str, float] = field(default_factory=dict)  # group -> probability a reply is refused
    seed: int = 0


def _variants(
    spec: Synthetic, post_ids: list[str], rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Variants and the group of each variant (control for the originals)."""
    rows, group_of = [], {}
    observed = rng.choice(["control", *spec.groups], size=len(post_ids))
    for pid, observed_group in zip(post_ids, observed, strict=True):
        vid = original_variant_id(pid)
        rows.append(
            {
                "variant_id": vid,
                "post_id": pid,
                "race": None,
                "gender": None,
                "age": None,
                "cue_kind": "none",
                "cue": "",
                "text": f"post {pid}",
                "fidelity_ok": True,
                "fidelity_note": "",
                "defects": "",
            }
        )
        group_of[vid] = str(observed_group) if spec.design == "observational" else "control"
        if spec.design != "counterfactual":
            continue
        for group in spec.groups:
            race, _, gender = group.partition("/")
            cued = stable_id("v", pid, group)
            rows.append(
                {
                    "variant_id": cued,
                    "post_id": pid,
                    "race": race,
                    "gender": gender or None,
                    "age": None,
                    "cue_kind": "explicit",
                    "cue": f"[{group}]",
                    "text": f"[{group}] post {pid}",
                    "fidelity_ok": True,
                    "fidelity_note": "",
                    "defects": "",
                }
            )
            group_of[cued] = group
    return pd.DataFrame(rows), group_of


def _value(spec: Synthetic, rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    values = mean + rng.normal(0, spec.noise_sd, size=len(mean))
    return np.clip(np.round(values), 0, spec.levels) if spec.levels else values


def tables(spec: Synthetic) -> dict[str, pd.DataFrame]:
    """posts, variants, inferences, responses and scores of the synthetic run."""
    rng = np.random.default_rng(spec.seed)
    post_ids = [stable_id("p", "synthetic", spec.seed, i) for i in range(spec.posts)]
    post_effect = dict(zip(post_ids, rng.normal(0, spec.post_sd, spec.posts), strict=True))
    variants, group_of = _variants(spec, post_ids, rng)
    rows = []
    for variant in variants.itertuples():
        group = group_of[variant.variant_id]
        for responder in spec.responders:
            for condition in spec.conditions:
                for sample in range(spec.samples):
                    rows.append((variant.variant_id, variant.post_id, responder, condition, sample, group))
        if variant.cue_kind == "none":
            rows += [
                (variant.variant_id, variant.post_id, "peer", "peer", k, group)
                for k in range(spec.peer_replies)
            ]
    responses = pd.DataFrame(
        rows, columns=["variant_id", "post_id", "responder", "condition", "sample", "group"]
    )
    responses["response_id"] = [f"r-{spec.seed}-{i}" for i in range(len(responses))]
    refused = rng.random(len(responses)) < responses["group"].map(spec.refusal).fillna(0.0).to_numpy()
    responses["status"] = np.where(refused & (responses["responder"] != "peer"), "refused", "ok")
    responses["text"] = np.where(responses["status"] == "ok", "a reply", "")
    responses["meta"] = "{}"
    ok = responses[responses["status"] == "ok"]
    mean = (
        spec.base
        + ok["post_id"].map(post_effect).to_numpy()
        + ok["group"].map(spec.gaps).fillna(0.0).to_numpy()
        + ok["condition"].map(spec.condition_gaps).fillna(0.0).to_numpy()
        + np.where(ok["responder"] == "peer", spec.peer_gap, 0.0)
    )
    scores = pd.concat(
        [
            pd.DataFrame(
                {
                    "response_id": ok["response_id"].to_numpy(),
                    "scorer": "synthetic",
                    "metric": metric,
                    "value": _value(spec, rng, mean),
                }
            )
            for metric in spec.metrics
        ],
        ignore_index=True,
    )
    posts = pd.DataFrame(
        {
            "post_id": post_ids,
            "text": [f"post {p}" for p in post_ids],
            "source": "synthetic",
            "community": "synthetic",
            "defects": "",
        }
    )
    inferences = empty_table("inferences")
    if spec.design == "observational":
        originals = variants[variants["cue_kind"] == "none"]
        inferred = [group_of[v].partition("/")[0] for v in originals["variant_id"]]
        inferences = pd.DataFrame(
            {
                "variant_id": originals["variant_id"],
                "model": "synthetic-probe",
                "race": [None if g == "control" else g for g in inferred],
                "gender": None,
                "age": None,
                "explanation": "",
                "raw": "",
                "status": ["no_prediction" if g == "control" else "ok" for g in inferred],
            }
        )
    return {
        "posts": conform("posts", posts),
        "variants": conform("variants", variants),
        "inferences": conform("inferences", inferences),
        "responses": conform("responses", responses.drop(columns="group")),
        "scores": conform("scores", scores),
    }
