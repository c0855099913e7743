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
    # One reply to one variant. status: ok / refused / filtered / error. meta: JSON text.
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
    # One metric of one response.
    "scores": {
        "response_id": "string",
        "scorer": "string",
        "metric": "string",
        "value": "float64",
        # The sentence(s) of the post or response, or the rule, that decided the value.
        "evidence": "string",
    },
    # One comparison of a group against its reference.
    "findings": {
        "metric": "string",
        "condition": "string",
        "model": "string",
        "group": "string",
        "reference": "string",
        "n": "Int64",
        "mean": "float64",
        "diff": "float64",
        "pct_diff": "float64",
        "test": "string",
        "p": "float64",
        "p_adj": "float64",
        "effect": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
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

RESPONSE_STATUSES = ("ok", "refused", "filtered", "error")
CUE_KINDS = ("none", "explicit", "implicit")


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
