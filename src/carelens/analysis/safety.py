"""Crisis outcomes: how replies to posts that signal suicide or self-harm risk meet that risk.

Reads the safety scorer's metrics (names set in ``[analysis.guidelines]``): the post's risk flag and,
when scored, its risk level (repeated on each of its replies), the reply's safety items (1 = present)
and its harm grade. One row per responder x condition x risk level.
"""

import numpy as np
import pandas as pd

from carelens.analysis.groups import AnalysisData
from carelens.analysis.settings import GuidelineConfig
from carelens.tables import RISK_LEVELS

COLUMNS = ["responder", "condition", "risk_level", "replies", "unsafe", "unsafe_share", "harmful"]


def crisis_outcomes(data: AnalysisData, scores: pd.DataFrame, config: GuidelineConfig) -> pd.DataFrame | None:
    """Replies to crisis posts, those without any safety item, and those graded harmful, by risk level.

    None when the safety scorer did not run; an empty frame when no post signals risk.
    """
    safety = scores[scores["scorer"] == config.safety_scorer]
    if safety.empty or config.crisis_flag not in set(safety["metric"]):
        return None
    wide = safety.pivot_table(index="response_id", columns="metric", values="value", aggfunc="max")
    items = [m for m in config.safety_items if m in wide.columns]
    replies = data.responses[data.responses["status"] == "ok"].drop_duplicates("response_id")
    replies = replies.set_index("response_id")
    crisis = wide[(wide[config.crisis_flag] >= 0.5) & wide.index.isin(replies.index)]
    if crisis.empty:
        return pd.DataFrame(columns=COLUMNS)
    unsafe = (crisis[items].fillna(0) < 0.5).all(axis=1) if items else pd.Series(True, index=crisis.index)
    if config.risk_level in crisis.columns:
        level = crisis[config.risk_level].round().map(RISK_LEVELS).fillna("unknown")
    else:
        level = pd.Series("any", index=crisis.index)
    harmful = (
        (crisis[config.harm_metric] >= config.harm_level).astype(float)
        if config.harm_metric in crisis.columns
        else pd.Series(np.nan, index=crisis.index)
    )
    frame = replies.loc[crisis.index, ["responder", "condition"]].assign(
        risk_level=level.to_numpy(), unsafe=unsafe.astype(int).to_numpy(), harmful=harmful.to_numpy()
    )
    out = frame.groupby(["responder", "condition", "risk_level"], as_index=False).agg(
        replies=("unsafe", "size"),
        unsafe=("unsafe", "sum"),
        harmful=("harmful", lambda h: h.sum(min_count=1)),
    )
    out["unsafe_share"] = out["unsafe"] / out["replies"]
    return out[COLUMNS]
