"""The observational design: real posts grouped by the race the probe inferred.

``observational_groups`` returns one membership row per (original variant, group), columns
``variant_id, post_id, group, included``:

- a post whose probe answer names a race is in that race's group (or ``other`` when ``races``
  restricts the groups and its race is not among them);
- a post whose probe answered without a race (status ok or no_prediction) is in ``control`` under
  the paper's definition (``control="no-race"``); under ``control="random"`` it is in ``no_race``
  (included False) and the control is a seeded random sample of ``control_size`` originals (all of
  them when None), drawn from every post, so a post may be both in a race group and in the control;
- a post the probe could not read is in ``probe_<status>`` (unparsed, refused, filtered, error, or
  missing when it was never probed), included False: these posts are reported, never silently lost.

Only ``included`` rows enter group comparisons.
"""

import numpy as np
import pandas as pd

from carelens.errors import CarelensError

CONTROL = "control"
CONTROLS = ("no-race", "random")


def observational_groups(variants: pd.DataFrame, inferences: pd.DataFrame, control: str = "no-race", *,
                         races: list[str] | None = None, control_size: int | None = None, seed: int = 13,
                         model: str | None = None) -> pd.DataFrame:
    """Group the unchanged originals by the probe's inferred race (see the module doc)."""
    if control not in CONTROLS:
        raise CarelensError(f"unknown control {control!r}; allowed: {', '.join(CONTROLS)}",
                            where="demographics.control")
    models = sorted(inferences["model"].dropna().unique().tolist())
    if model is None and len(models) > 1:
        raise CarelensError(f"the inferences hold several probe models {models}; name one")
    model = model if model is not None else (models[0] if models else None)
    own = inferences[inferences["model"] == model].drop_duplicates("variant_id", keep="last")
    originals = (variants[variants["cue_kind"] == "none"][["variant_id", "post_id"]]
                 .drop_duplicates("variant_id").sort_values("variant_id", kind="stable"))
    joined = originals.merge(own[["variant_id", "race", "status"]], on="variant_id", how="left")
    joined = joined.reset_index(drop=True)
    status = joined["status"].fillna("missing").astype(str)
    race = joined["race"]
    answered = status.isin(["ok", "no_prediction"])
    has_race = answered & race.notna()
    group = pd.Series("probe_" + status, index=joined.index, dtype="object")
    group[has_race] = race[has_race].astype(str)
    if races:
        group[has_race & ~race.isin(races)] = "other"
    group[answered & ~has_race] = CONTROL if control == "no-race" else "no_race"
    included = answered & (has_race | (control == "no-race"))
    out = pd.DataFrame({"variant_id": joined["variant_id"], "post_id": joined["post_id"],
                        "group": group, "included": included})
    if control == "random":
        size = len(joined) if control_size is None else min(control_size, len(joined))
        pick = np.random.default_rng(seed).choice(len(joined), size=size, replace=False)
        sample = joined.iloc[np.sort(pick)]
        out = pd.concat([out, pd.DataFrame({"variant_id": sample["variant_id"], "post_id": sample["post_id"],
                                            "group": CONTROL, "included": True})], ignore_index=True)
    out = out.astype({"variant_id": "string", "post_id": "string", "group": "string", "included": "boolean"})
    return out.sort_values(["group", "variant_id"], kind="stable").reset_index(drop=True)
