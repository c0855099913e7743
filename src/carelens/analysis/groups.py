"""Which group each response belongs to, and the long table of scores the comparisons read.

* counterfactual design: a response's group is its variant's cue (e.g. ``black/female``) within the
  variant's cue kind (the *stratum*); the unchanged originals are the control group. Variants that
  failed their fidelity check are excluded, and counted.
* observational design: a post's group is the race the probe inferred for its original
  (``carelens.demographics.observational``); posts with no inferred race are the control group (or a
  random sample of posts is, as the study says); posts the probe could not read are counted out.
* ``analysis.group_by``: a post's group is the value of that field in its responses' meta (a field a
  data source sets, e.g. ``paper_race``); posts without it are the control group.
* no design: every response is in one group, ``all``.

Every response gets an ``assignments`` row saying where it went and, when its scores were not
analysed, why. Where ER, IP and EX of one scorer are all present, their mean per reply is the derived
metric ``ALL`` (``paper_ALL`` for ``paper_ER`` ...), the paper's overall empathy.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carelens.analysis.settings import AnalysisConfig
from carelens.demographics.observational import observational_groups
from carelens.demographics.settings import DemographicsConfig
from carelens.ids import original_variant_id
from carelens.tables import SCHEMAS

ALL = "all"
ORIGINAL = "none"
NO_READING = {"", "unknown", "none", "no prediction", "nan", "<na>"}
RATE_METRICS = {
    "refused": "rate_refused",
    "filtered": "rate_filtered",
    "error": "rate_error",
    "empty": "rate_empty",
}
MECHANISMS = ("ER", "IP", "EX")
OBSERVATION_COLUMNS = [
    "response_id",
    "post_id",
    "responder",
    "condition",
    "stratum",
    "group",
    "metric",
    "value",
]


@dataclass
class AnalysisData:
    """The responses with their group and stratum, their scores in long form, and the assignments."""

    design: str
    group_source: str
    reference: str
    control: str
    responses: pd.DataFrame
    observations: pd.DataFrame
    assignments: pd.DataFrame
    counts: Counter[str] = field(default_factory=Counter)
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def strata(self) -> list[str]:
        """The strata whose groups are compared with the reference (cue kinds, or ``all``)."""
        return sorted(s for s in self.responses["stratum"].unique() if s != ORIGINAL)

    def metrics(self) -> list[str]:
        return sorted(self.observations["metric"].unique())


def parse_meta(meta: pd.Series) -> tuple[list[dict[str, object]], int]:
    """Each response's meta as a dict, and how many were not a JSON object (read as empty)."""
    parsed: list[dict[str, object]] = []
    unreadable = 0
    for text in meta.fillna(""):
        try:
            value = json.loads(text) if text else {}
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            unreadable += 1
            value = {}
        parsed.append(value)
    return parsed, unreadable


def _clean_label(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip().lower()
    return None if text in NO_READING else text


def _label_attributes(cued: pd.DataFrame) -> list[str]:
    """The attributes that name a cued group: race and gender when cued, age only when it varies."""
    attrs = [a for a in ("race", "gender") if cued[a].notna().any()]
    return attrs + ["age"] if cued["age"].nunique(dropna=True) > 1 or not attrs else attrs


def _counterfactual(responses: pd.DataFrame, variants: pd.DataFrame, control: str) -> pd.DataFrame:
    """Responses with the cue kind (stratum) and cued group of their variant; originals are the control.

    Responses to variants that failed their fidelity check, or to unknown variants, get a ``reason``.
    """
    failed = set(variants.loc[variants["fidelity_ok"].eq(False), "variant_id"])
    kept = variants[~variants["variant_id"].isin(failed)]
    cued = kept[kept["cue_kind"] != ORIGINAL].set_index("variant_id")
    attrs = _label_attributes(cued) if len(cued) else []
    label = {
        vid: "/".join(str(row[a]).lower() for a in attrs if pd.notna(row[a])) for vid, row in cued.iterrows()
    }
    stratum = dict(cued["cue_kind"].astype(str))
    originals = set(kept.loc[kept["cue_kind"] == ORIGINAL, "variant_id"])
    originals |= {original_variant_id(p) for p in responses["post_id"]}
    is_original = responses["variant_id"].isin(originals)
    reason = np.select(
        [responses["variant_id"].isin(failed), ~(is_original | responses["variant_id"].isin(label))],
        ["its variant failed the fidelity check", "its variant is not in the variants table"],
        default="",
    )
    return responses.assign(
        stratum=np.where(is_original, ORIGINAL, responses["variant_id"].map(stratum).fillna(ORIGINAL)),
        group=np.where(is_original, control, responses["variant_id"].map(label).fillna("")),
        reason=reason,
    )


def _observational(
    responses: pd.DataFrame,
    variants: pd.DataFrame,
    inferences: pd.DataFrame,
    demographics: DemographicsConfig,
    seed: int,
) -> tuple[pd.DataFrame, str]:
    """Responses joined to their post's probe group; posts the probe could not read get a reason.

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
    included = membership.loc[membership["included"], ["post_id", "group"]].drop_duplicates()
    excluded = membership.loc[~membership["included"] & ~membership["post_id"].isin(included["post_id"])]
    why = excluded.drop_duplicates("post_id").set_index("post_id")["group"]
    inside = responses.merge(included, on="post_id", how="inner").assign(reason="")
    outside = responses[~responses["post_id"].isin(included["post_id"])]
    outside = outside.assign(
        group=outside["post_id"].map(why).fillna("probe_missing"),
        reason="its post is in no compared group ("
        + outside["post_id"].map(why).fillna("never probed")
        + ")",
    )
    source = f"probe inferences ({model or ', '.join(models) or 'none'}; control: {demographics.control})"
    return pd.concat([inside, outside], ignore_index=True).assign(stratum=ALL), source


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


def derive_all(scores: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The paper's ALL (mean of ER, IP and EX of a reply) for every scorer that gives all three.

    Returns the derived score rows and a description of each derived metric.
    """
    rows, derived = [], {}
    for prefix in sorted(
        {m[: -len(suffix)] for m in scores["metric"].unique() for suffix in MECHANISMS if m.endswith(suffix)}
    ):
        names = [f"{prefix}{m}" for m in MECHANISMS]
        part = scores[scores["metric"].isin(names)]
        if part["metric"].nunique() < len(names):
            continue
        wide = part.pivot_table(
            index=["response_id", "scorer"], columns="metric", values="value", aggfunc="mean"
        )
        wide = wide.dropna(subset=names)
        if wide.empty:
            continue
        metric = f"{prefix}ALL"
        derived[metric] = f"mean of {', '.join(names)} of each reply (the paper's ALL)"
        rows.append(wide[names].mean(axis=1).rename("value").reset_index().assign(metric=metric))
    if not rows:
        return scores.iloc[0:0][["response_id", "scorer", "metric", "value"]], derived
    return pd.concat(rows, ignore_index=True)[["response_id", "scorer", "metric", "value"]], derived


def build(
    responses: pd.DataFrame,
    variants: pd.DataFrame,
    inferences: pd.DataFrame,
    scores: pd.DataFrame,
    demographics: DemographicsConfig,
    config: AnalysisConfig,
    seed: int,
) -> AnalysisData:
    """Assign groups and strata, record the assignments, and join the scores (long form)."""
    counts: Counter[str] = Counter()
    design = demographics.design
    control = config.control_label
    if config.group_by:
        metas, counts["responses_unreadable_meta"] = parse_meta(responses["meta"])
        post_group = _meta_groups(responses, metas, config.group_by, counts)
        frame = responses.assign(
            stratum=ALL, group=responses["post_id"].map(post_group).fillna(control), reason=""
        )
        source = f"the responses' field '{config.group_by}'"
        design = "observational"
    elif design == "counterfactual":
        frame = _counterfactual(responses, variants, control)
        source = "cue variants"
    elif design == "observational":
        frame, source = _observational(responses, variants, inferences, demographics, seed)
    else:
        frame = responses.assign(stratum=ALL, group=ALL, reason="")
        source = "none (all responses in one group)"
    frame = frame.reset_index(drop=True)
    not_ok = (frame["status"] != "ok") & (frame["reason"] == "")
    frame.loc[not_ok, "reason"] = (
        "status " + frame.loc[not_ok, "status"].astype(str) + " (counted in its rate)"
    )
    reference = ALL if design == "none" else config.reference
    derived_rows, derived = derive_all(scores)
    all_scores = pd.concat(
        [scores[["response_id", "scorer", "metric", "value"]], derived_rows], ignore_index=True
    )
    if config.metrics is not None:
        all_scores = all_scores[all_scores["metric"].isin(config.metrics)]
    analysed = frame[frame["reason"] == ""]
    no_scores = ~analysed["response_id"].isin(all_scores["response_id"])
    frame.loc[analysed.index[no_scores.to_numpy()], "reason"] = "no scores"
    for reason, count in frame.loc[frame["reason"] != "", "reason"].value_counts().items():
        counts[str(reason)] = int(count)
    usable = frame[frame["reason"] == ""]
    joined = usable.merge(all_scores[["response_id", "metric", "value"]], on="response_id", how="inner")
    counts["scores_missing_value"] = int(joined["value"].isna().sum())
    observations = joined.loc[joined["value"].notna(), OBSERVATION_COLUMNS].reset_index(drop=True)
    assignments = frame.assign(analysed=frame["reason"] == "")[list(SCHEMAS["assignments"])]
    rated = frame[~frame["reason"].str.startswith("its ")]  # rates count every reply of a compared post
    return AnalysisData(design, source, reference, control, rated, observations, assignments, counts, derived)


def rate_observations(data: AnalysisData) -> pd.DataFrame:
    """Each response as 0/1 outcomes: refused, filtered, error (same columns as the observations)."""
    frame = data.responses
    parts = [
        frame.assign(metric=metric, value=(frame["status"] == status).astype(float))
        for status, metric in RATE_METRICS.items()
    ]
    return pd.concat(parts, ignore_index=True)[OBSERVATION_COLUMNS]
