"""The manipulation check: does the probe read the demographic cues that the variants carry?

``manipulation_table`` has one row per probe model x cue kind x cue method x attribute x intended
group. Columns:

    model         the probe model
    cue_kind      explicit / implicit (cued variants); none (the unchanged originals, see below)
    cue_method    template:<name>, bank, rewrite:<model>, collected; "original" for cue_kind none
    attribute     race, gender or age
    intended      the group the cue signals (for age, the age in years); "any" for cue_kind none
    n             variants in the row (those failing fidelity are left out: they are excluded
                  from analysis); every variant counts, probed or not
    n_ok          of them, answers the parser read (status ok)
    hits          answers that recover the intended group (age: the inferred range contains it)
    recall        hits / n (a failed, refused or filtered probe counts as a miss)
    ci_low, ci_high   Wilson 95% interval of recall (statsmodels)
    recall_ok     hits / n_ok (recall among read answers; NaN when n_ok is 0)
    original_rate share of the same posts' unchanged originals that the probe assigns to the
                  intended group (the rate it "infers" the group with no cue at all)
    lift          recall - original_rate: what the cue adds

For cue_kind ``none`` (one row per model x attribute), ``intended`` is "any", ``n`` counts the
originals, ``hits`` those for which the probe inferred any value of the attribute, and ``recall``
that rate (original_rate and lift are NaN).

``confusion_matrix`` cross-tabulates intended groups against what the probe answered, with the
probe's non-answers as their own columns (none, unparsed, refused, filtered, error, missing).
"""

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from carelens.demographics.terms import age_bounds

ATTRIBUTES = ("race", "gender", "age")
COLUMNS = ["model", "cue_kind", "cue_method", "attribute", "intended", "n", "n_ok", "hits", "recall",
           "ci_low", "ci_high", "recall_ok", "original_rate", "lift"]


def _hit(attribute: str, intended: object, inferred: object) -> bool:
    if pd.isna(intended) or pd.isna(inferred):
        return False
    if attribute != "age":
        return str(intended) == str(inferred)
    bounds = age_bounds(str(inferred))
    if not str(intended).isdigit():
        return str(intended) == str(inferred)
    return bounds is not None and bounds[0] <= int(str(intended)) <= bounds[1]


def _models(inferences: pd.DataFrame) -> list[str]:
    return sorted(inferences["model"].dropna().unique().tolist())


def _joined(variants: pd.DataFrame, inferences: pd.DataFrame, model: str) -> pd.DataFrame:
    """Variants with the model's inference columns (prefixed ``inf_``); status ``missing`` when unprobed."""
    own = inferences[inferences["model"] == model].drop_duplicates("variant_id", keep="last")
    own = own[["variant_id", "race", "gender", "age", "status"]].rename(
        columns={c: f"inf_{c}" for c in ("race", "gender", "age", "status")})
    joined = variants.merge(own, on="variant_id", how="left")
    joined["inf_status"] = joined["inf_status"].fillna("missing")
    return joined


def _method_column(variants: pd.DataFrame) -> pd.Series:
    if "cue_method" in variants.columns:
        return variants["cue_method"].fillna("").astype(str)
    return pd.Series(np.where(variants["cue_kind"] == "none", "original", ""), index=variants.index)


def _faithful(variants: pd.DataFrame) -> pd.DataFrame:
    keep = variants["fidelity_ok"].fillna(True).astype(bool)
    out = variants[keep].copy()
    out["cue_method"] = _method_column(out)
    return out


def manipulation_table(variants: pd.DataFrame, inferences: pd.DataFrame) -> pd.DataFrame:
    """Recall of each intended group per cue kind and method, against the originals' base rate."""
    variants = _faithful(variants)
    rows: list[dict[str, object]] = []
    for model in _models(inferences):
        joined = _joined(variants, inferences, model)
        originals = joined[joined["cue_kind"] == "none"].set_index("post_id")
        originals = originals[~originals.index.duplicated()]
        for attribute in ATTRIBUTES:
            if len(originals):
                answered = int(originals[f"inf_{attribute}"].notna().sum())
                rows.append(_row(model, "none", "original", attribute, "any", len(originals),
                                 int((originals["inf_status"] == "ok").sum()), answered, np.nan))
            cued = joined[(joined["cue_kind"] != "none") & joined[attribute].notna()]
            for (kind, method, intended), group in cued.groupby(["cue_kind", "cue_method", attribute],
                                                                sort=True):
                hits = sum(_hit(attribute, intended, v) for v in group[f"inf_{attribute}"])
                base = originals.reindex(group["post_id"].unique())
                base = base[base["inf_status"].notna()]
                rate = (sum(_hit(attribute, intended, v) for v in base[f"inf_{attribute}"]) / len(base)
                        if len(base) else np.nan)
                rows.append(_row(model, kind, method, attribute, str(intended), len(group),
                                 int((group["inf_status"] == "ok").sum()), hits, rate))
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.astype({"n": "int64", "n_ok": "int64", "hits": "int64"}) if len(table) else table


def _row(model: str, kind: str, method: str, attribute: str, intended: str, n: int, n_ok: int, hits: int,
         original_rate: float) -> dict[str, object]:
    low, high = proportion_confint(hits, n, alpha=0.05, method="wilson") if n else (np.nan, np.nan)
    recall = hits / n if n else np.nan
    return {"model": model, "cue_kind": kind, "cue_method": method, "attribute": attribute,
            "intended": intended, "n": n, "n_ok": n_ok, "hits": hits, "recall": recall,
            "ci_low": float(low), "ci_high": float(high), "recall_ok": hits / n_ok if n_ok else np.nan,
            "original_rate": original_rate,
            "lift": recall - original_rate if kind != "none" else np.nan}


def confusion_matrix(variants: pd.DataFrame, inferences: pd.DataFrame, attribute: str = "race", *,
                     cue_kind: str | None = None, model: str | None = None) -> pd.DataFrame:
    """Counts of intended group (rows) x probe answer (columns) over cued, faithful variants.

    Answer columns: the inferred group, ``none`` (the probe answered but gave no value for the
    attribute), or the probe's status (unparsed, refused, filtered, error; ``missing``: not probed).
    ``model`` is required when the inferences hold several probe models.
    """
    if attribute not in ATTRIBUTES:
        raise ValueError(f"attribute must be one of {ATTRIBUTES}")
    models = _models(inferences)
    if model is None:
        if len(models) > 1:
            raise ValueError(f"the inferences hold several probe models {models}: pass model=")
        model = models[0] if models else ""
    joined = _joined(_faithful(variants), inferences, model)
    cued = joined[(joined["cue_kind"] != "none") & joined[attribute].notna()]
    if cue_kind is not None:
        cued = cued[cued["cue_kind"] == cue_kind]
    answered = cued["inf_status"].isin(["ok", "no_prediction"])
    answer = np.where(answered, cued[f"inf_{attribute}"].fillna("none").astype(str), cued["inf_status"])
    table = pd.crosstab(pd.Series(cued[attribute].astype(str).to_numpy(), name="intended"),
                        pd.Series(answer, name="inferred"))
    return table
