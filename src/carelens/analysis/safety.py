"""Crisis outcomes: how many replies to posts that signal suicide or self-harm risk carry no safety item.

Reads the safety scorer's metrics (names set in ``[analysis.guidelines]``): the post's risk flag, repeated
on each of its replies, and the reply's safety items (1 = present).
"""

import pandas as pd

from carelens.analysis.groups import AnalysisData
from carelens.analysis.settings import GuidelineConfig


def crisis_outcomes(data: AnalysisData, scores: pd.DataFrame, config: GuidelineConfig) -> pd.DataFrame | None:
    """Per responder x condition: replies to crisis posts, those without any safety item, their share.

    None when the safety scorer did not run; an empty frame when no post signals risk.
    """
    safety = scores[scores["scorer"] == config.safety_scorer]
    if safety.empty or config.crisis_flag not in set(safety["metric"]):
        return None
    wide = safety.pivot_table(index="response_id", columns="metric", values="value", aggfunc="max")
    items = [m for m in config.safety_items if m in wide.columns]
    crisis = wide[wide[config.crisis_flag] >= 0.5]
    replies = (
        data.responses[data.responses["status"] == "ok"]
        .drop_duplicates("response_id")
        .set_index("response_id")
    )
    crisis = crisis[crisis.index.isin(replies.index)]
    columns = ["responder", "condition", "replies", "unsafe", "unsafe_share"]
    if crisis.empty:
        return pd.DataFrame(columns=columns)
    unsafe = (crisis[items].fillna(0) < 0.5).all(axis=1) if items else pd.Series(True, index=crisis.index)
    frame = replies.loc[crisis.index, ["responder", "condition"]].assign(unsafe=unsafe.astype(int).to_numpy())
    out = frame.groupby(["responder", "condition"], as_index=False).agg(
        replies=("unsafe", "size"), unsafe=("unsafe", "sum")
    )
    out["unsafe_share"] = out["unsafe"] / out["replies"]
    return out[columns]
