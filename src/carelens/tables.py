"""The tables that flow between stages: their columns and a check that a frame has them.

One row of each table is described in DESIGN.md. Every stage reads the tables before it and
writes its own; these schemas are the contract between stages.
"""

import pandas as pd

from carelens.errors import CarelensError

# Column name -> pandas dtype. "string" columns may hold <NA> only where the doc says so.
SCHEMAS: dict[str, dict[str, str]] = {
    # A help-seeking post. `defects`: semicolon-separated data-defect flags ("" when clean).
    "posts": {
        "post_id": "string",
        "text": "string",
        "source": "string",
        "community": "string",
        "defects": "string",
    },
    # A post as shown to a model: the original (cue_kind "none") or with a demographic cue.
    # `fidelity_ok` False means the variant failed a fidelity check and is excluded from analysis.
    "variants": {
        "variant_id": "string",
        "post_id": "string",
        "race": "string",
        "gender": "string",
        "age": "string",
        "cue_kind": "string",
        "cue": "string",
        "text": "string",
        "fidelity_ok": "boolean",
        "fidelity_note": "string",
        "defects": "string",
    },
    # The probe's reading of a variant. status: ok / no_prediction / unparsed / refused / filtered / error.
    "inferences": {
        "variant_id": "string",
        "model": "string",
        "race": "string",
        "gender": "string",
        "age": "string",
        "explanation": "string",
        "raw": "string",
        "status": "string",
    },
    # One reply to one variant. status: ok / refused / filtered / error / empty (a collected reply whose
    # text is empty or whitespace only: kept, counted, never scored as text). meta: JSON text.
    "responses": {
        "response_id": "string",
        "variant_id": "string",
        "post_id": "string",
        "responder": "string",
        "condition": "string",
        "sample": "Int64",
        "text": "string",
        "status": "string",
        "meta": "string",
    },
    # A score recorded with a collected reply (a user's file or a dataset's released scores), written by
    # the data stage. scorer: "recorded" (or the data entry's `scorer`), "recorded:paper" for the
    # mh-eval release; evidence: the file column the value was read from.
    "collected_scores": {
        "response_id": "string",
        "scorer": "string",
        "metric": "string",
        "value": "float64",
        "evidence": "string",
    },
    # One metric of one response.
    "scores": {
        "response_id": "string",
        "scorer": "string",
        "metric": "string",
        "value": "float64",
        # The sentence(s) of the post or response, or the rule, that decided the value.
        "evidence": "string",
    },
    # Where each response went in the analysis: its group and stratum (cue kind, or "all"), whether
    # its scores were analysed and, when not, why (status not ok, failed fidelity, unknown variant ...).
    "assignments": {
        "response_id": "string",
        "post_id": "string",
        "responder": "string",
        "condition": "string",
        "stratum": "string",
        "group": "string",
        "status": "string",
        "analysed": "boolean",
        "reason": "string",
    },
    # A metric's summary in one cell (responder x condition x stratum x group). The unit is the post:
    # each post's replies are averaged first; n_responses counts the replies behind the n_posts means.
    # ci_low/ci_high: the t interval of the mean of post means, clipped to [scale_low, scale_high].
    "descriptives": {
        "metric": "string",
        "responder": "string",
        "condition": "string",
        "stratum": "string",
        "group": "string",
        "n_posts": "Int64",
        "n_responses": "Int64",
        "mean": "float64",
        "sd": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "ci_method": "string",
        "scale_low": "float64",
        "scale_high": "float64",
    },
    # One test of one comparison (kind: group_gap, rate_gap, condition_gap, responder_gap): `group`
    # against `reference` on post means (unit "post"), paired when the same posts are on both sides.
    # estimate = mean - ref_mean, pct_diff = 100 * estimate / ref_mean (NaN, "undefined", when
    # ref_mean is 0). `effect` is the effect size that matches `test` (effect_name), ci_low/ci_high its
    # CI, estimate_ci_*/pct_ci_* the CIs of the difference (ci_method says how). `primary` tests are
    # corrected together over `family` (`correction`, `family_size` tests); secondary tests and the
    # paper's method (unit "response") carry no p_adj. unit_sd: the sd of the post means (of the
    # per-post differences when paired); mde: the smallest difference the comparison could detect.
    "comparisons": {
        "kind": "string",
        "metric": "string",
        "responder": "string",
        "condition": "string",
        "stratum": "string",
        "group": "string",
        "reference": "string",
        "unit": "string",
        "paired": "boolean",
        "n_posts": "Int64",
        "ref_n_posts": "Int64",
        "n_responses": "Int64",
        "ref_n_responses": "Int64",
        "mean": "float64",
        "ref_mean": "float64",
        "sd": "float64",
        "ref_sd": "float64",
        "estimate": "float64",
        "pct_diff": "float64",
        "estimate_ci_low": "float64",
        "estimate_ci_high": "float64",
        "pct_ci_low": "float64",
        "pct_ci_high": "float64",
        "test": "string",
        "statistic": "float64",
        "df": "float64",
        "p": "float64",
        "primary": "boolean",
        "correction": "string",
        "family": "string",
        "family_size": "Int64",
        "p_adj": "float64",
        "significant": "boolean",
        "effect": "float64",
        "effect_name": "string",
        "ci_low": "float64",
        "ci_high": "float64",
        "ci_method": "string",
        "unit_sd": "float64",
        "mde": "float64",
        "mde_pct": "float64",
        "note": "string",
    },
    # One term of a fitted model. term_kind: group_main (a group's gap averaged over conditions),
    # group_simple (its gap within one condition), condition_main, interaction.
    "models": {
        "model": "string",
        "metric": "string",
        "responder": "string",
        "stratum": "string",
        "term": "string",
        "term_kind": "string",
        "group": "string",
        "condition": "string",
        "reference": "string",
        "estimate": "float64",
        "se": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "ci_method": "string",
        "p": "float64",
        "n_responses": "Int64",
        "n_posts": "Int64",
        "post_variance": "float64",
        "note": "string",
    },
    # One safety guideline judged for one responder (verdict: pass / warn / fail / inconclusive /
    # not assessed). `statement` is the guideline, `evidence` the numbers that decided the verdict,
    # `caveat` what limits it (e.g. a metric known to be unreliable for this responder).
    "verdicts": {
        "guideline": "string",
        "title": "string",
        "responder": "string",
        "verdict": "string",
        "evidence": "string",
        "statement": "string",
        "caveat": "string",
        "metric": "string",
        "threshold": "float64",
    },
    # One clinician answer.
    "ratings": {
        "item_id": "string",
        "rater_id": "string",
        "question": "string",
        "value": "string",
        "time": "string",
    },
}

# Columns added after the table was first written, with the value an older frame gets: scores of
# runs (or of tools) from before evidence existed read with empty evidence.
ADDED_COLUMNS: dict[str, dict[str, str]] = {"scores": {"evidence": ""}}

RESPONSE_STATUSES = ("ok", "refused", "filtered", "error", "empty")
VERDICTS = ("pass", "warn", "fail", "inconclusive", "not assessed")
CUE_KINDS = ("none", "explicit", "implicit")
RISK_LEVELS = {0: "none", 1: "low", 2: "high", 3: "imminent"}  # a post's risk level (crisis table)


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes."""
    return pd.DataFrame({col: pd.Series(dtype=dtype) for col, dtype in SCHEMAS[name].items()})


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Check that ``frame`` has the table's columns and cast them to the schema's dtypes.

    Extra columns are kept after the schema's columns (stages may add their own); a column in
    ``ADDED_COLUMNS`` that the frame lacks is filled with its default.
    """
    schema = SCHEMAS[name]
    added = {col: value for col, value in ADDED_COLUMNS.get(name, {}).items() if col not in frame.columns}
    if added:
        frame = frame.assign(**added)
    missing = [col for col in schema if col not in frame.columns]
    if missing:
        raise CarelensError(f"table '{name}' lacks columns {missing}")
    ordered = list(schema) + [c for c in frame.columns if c not in schema]
    out = frame[ordered].copy()
    for col, dtype in schema.items():
        out[col] = out[col].astype(dtype)
    return out.reset_index(drop=True)
