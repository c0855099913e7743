"""Which group each response belongs to, and the long table of scores the comparisons read.

* counterfactual design: a response's group is its variant's cue (e.g. ``black/female``) within the
  variant's cue kind (the *stratum*); the unchanged originals are the control group. Variants that
  failed their fidelity check are excluded, and counted.
* observational design: a post's group is the race the probe inferred for its original
  (``carelens.demographics.observational``); posts with no inferred race are the control group (or a
  random sample of posts is, as the study says); posts the probe could not read are counted out.
* ``analysis.group_by``: a post's group is the value of that key in its responses' meta (the paper's
  recorded groups, e.g. ``paper_race``); posts without it are the control group.
* no design: every response is in one group, ``all``.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carelens.analysis.paper_scores import paper_scores, parse_meta
from carelens.analysis.settings import AnalysisConfig
from carelens.demographics.observational import observational_groups
from carelens.demographics.settings import DemographicsConfig
from carelens.ids import original_variant_id

ALL = "all"
ORIGINAL = "none"
NO_READING = {"", "unknown", "none", "no prediction", "nan", "<na>"}
RATE_METRICS = {"refused": "rate_refused", "filtered": "rate_filtered", "error": "rate_error"}


@dataclass
class AnalysisData:
    """The responses with their group and stratum, and their scores in long form."""

    design: str
    group_source: str
    reference: str
    control: str
    responses: pd.DataFrame
    observations: pd.DataFrame
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def strata(self) -> list[str]:
        """The strata whose groups are compared with the reference (cue kinds, or ``all``)."""
        return sorted(s for s in self.responses["stratum"].unique() if s != ORIGINAL)

    def metrics(self) -> list[str]:
        return sorted(self.observations["metric"].unique())


def _clean_label(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip().lower()
    return None if text in NO_READING else text


def _label_attributes(cued: pd.DataFrame) -> list[str]:
    """The attributes that name a cued group: race and gender when cued, age only when it varies."""
    attrs = [a for a in ("race", "gender") if cued[a].notna().any()]
    return attrs + ["age"] if cued["age"].nunique(dropna=True) > 1 or not attrs else attrs


def _counterfactual(
    responses: pd.DataFrame, variants: pd.DataFrame, control: str, counts: Counter[str]
) -> pd.DataFrame:
    """Responses with the cue kind (stratum) and cued group of their variant; originals are the control."""
    failed = variants[variants["fidelity_ok"].eq(False)]
    counts["variants_failed_fidelity"] = len(failed)
    kept = variants[~variants["variant_id"].isin(failed["variant_id"])]
    cued = kept[kept["cue_kind"] != ORIGINAL].set_index("variant_id")
    attrs = _label_attributes(cued) if len(cued) else []
    label = {
        vid: "/".join(str(row[a]).lower() for a in attrs if pd.notna(row[a])) for vid, row in cued.iterrows()
    }
    stratum = dict(cued["cue_kind"].astype(str))
    originals = set(kept.loc[kept["cue_kind"] == ORIGINAL, "variant_id"])
    originals |= {original_variant_id(p) for p in responses["post_id"]}
    is_failed = responses["variant_id"].isin(failed["variant_id"])
    counts["responses_to_failed_variants"] = int(is_failed.sum())
    out = responses[~is_failed]
    known = out["variant_id"].isin(originals) | out["variant_id"].isin(label)
    counts["responses_unknown_variant"] = int((~known).sum())
    out = out[known]
    is_original = out["variant_id"].isin(originals)
    return out.assign(
        stratum=np.where(is_original, ORIGINAL, out["variant_id"].map(stratum)),
        group=np.where(is_original, control, out["variant_id"].map(label)),
    )


def _observational(
    responses: pd.DataFrame,
    variants: pd.DataFrame,
    inferences: pd.DataFrame,
    demographics: DemographicsConfig,
    seed: int,
    counts: Counter[str],
) -> tuple[pd.DataFrame, str]:
    """Responses joined to their post's probe group; posts the probe could not read are counted out.

    With a random control a post can be both in a race group and in the control: its responses then
    appear once per group.
    """
    models = sorted(inferences["model"].dropna().unique())
    model = demographics.probe if demographics.probe in models else None
    membership = observational_groups(
        variants,
        inferences,
        demographics.control,
        races=demographics.races or None,
        control_size=demographics.control_size,
        seed=seed,
        model=model,
    )
    for label, count in membership.loc[~membership["included"], "group"].value_counts().items():
        counts[f"posts_{label}"] = int(count)
    included = membership.loc[membership["included"], ["post_id", "group"]].drop_duplicates()
    frame = responses.merge(included, on="post_id", how="inner")
    counts["responses_to_posts_out_of_groups"] = int((~responses["post_id"].isin(included["post_id"])).sum())
    source = f"probe inferences ({model or ', '.join(models) or 'none'}; control: {demographics.control})"
    return frame.assign(stratum=ALL), source


def _meta_groups(
    responses: pd.DataFrame, metas: list[dict[str, object]], key: str, counts: Counter[str]
) -> dict[str, str]:
    per_post: dict[str, Counter[str]] = {}
    for pid, meta in zip(responses["post_id"], metas, strict=True):
        label = _clean_label(meta.get(key))
        if label is not None:
            per_post.setdefault(pid, Counter())[label] += 1
    counts["posts_with_conflicting_groups"] = sum(len(c) > 1 for c in per_post.values())
    return {pid: c.most_common(1)[0][0] for pid, c in per_post.items()}


def build(
    responses: pd.DataFrame,
    variants: pd.DataFrame,
    inferences: pd.DataFrame,
    scores: pd.DataFrame,
    demographics: DemographicsConfig,
    config: AnalysisConfig,
    seed: int,
) -> AnalysisData:
    """Assign groups and strata, apply the exclusions, and join the scores (long form)."""
    counts: Counter[str] = Counter()
    design = demographics.design
    control = config.control_label
    metas, counts["responses_unreadable_meta"] = parse_meta(responses["meta"])
    if config.group_by:
        post_group = _meta_groups(responses, metas, config.group_by, counts)
        frame = responses.assign(stratum=ALL, group=responses["post_id"].map(post_group).fillna(control))
        source = f"responses.meta '{config.group_by}'"
    elif design == "counterfactual":
        frame = _counterfactual(responses, variants, control, counts)
        source = "cue variants"
    elif design == "observational":
        frame, source = _observational(responses, variants, inferences, demographics, seed, counts)
    else:
        frame = responses.assign(stratum=ALL, group=ALL)
        source = "none (all responses in one group)"
    frame = frame.reset_index(drop=True)
    reference = ALL if design == "none" and not config.group_by else config.reference
    all_scores = scores
    if config.paper_scores:
        all_scores = pd.concat([scores, paper_scores(responses)], ignore_index=True)
    if config.metrics is not None:
        all_scores = all_scores[all_scores["metric"].isin(config.metrics)]
    ok = frame[frame["status"] == "ok"]
    for status, count in frame["status"].value_counts().items():
        counts[f"responses_{status}"] = int(count)
    joined = ok.merge(all_scores[["response_id", "metric", "value"]], on="response_id", how="inner")
    counts["scores_missing_value"] = int(joined["value"].isna().sum())
    counts["scores_of_excluded_responses"] = int((~all_scores["response_id"].isin(ok["response_id"])).sum())
    columns = ["response_id", "post_id", "responder", "condition", "stratum", "group", "metric", "value"]
    observations = joined.loc[joined["value"].notna(), columns].reset_index(drop=True)
    return AnalysisData(
        design if not config.group_by else "observational",
        source,
        reference,
        control,
        frame,
        observations,
        counts,
    )


def rate_observations(data: AnalysisData) -> pd.DataFrame:
    """Each response as 0/1 outcomes: refused, filtered, error (same columns as the observations)."""
    frame = data.responses
    parts = [
        frame.assign(metric=metric, value=(frame["status"] == status).astype(float))
        for status, metric in RATE_METRICS.items()
    ]
    columns = ["response_id", "post_id", "responder", "condition", "stratum", "group", "metric", "value"]
    return pd.concat(parts, ignore_index=True)[columns]
