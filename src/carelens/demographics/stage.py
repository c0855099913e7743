"""The ``variants`` and ``probe`` stages.

``build_variants``: the unchanged original of every post (the control), the cue variants shipped
with a dataset (``collected_variants``, kept as they are, method ``collected``), and, for a
counterfactual design, explicit and implicit cue variants of every post; then fidelity checks.
``run_probe``: the inference probe over every variant when a probe model is configured (an
observational design requires one); otherwise an empty ``inferences`` table.
"""

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from carelens.demographics.cuebank import load_banks
from carelens.demographics.cues import bank_variants, design_cells, explicit_variants, original_row
from carelens.demographics.fidelity import check_fidelity
from carelens.demographics.manipulation import manipulation_table
from carelens.demographics.observational import observational_groups
from carelens.demographics.probe import probe_variants
from carelens.demographics.rewrite import rewrite_variants
from carelens.demographics.vocabulary import canonical_gender, canonical_race
from carelens.errors import CarelensError
from carelens.llm.cache import default_cache_path
from carelens.llm.engine import SamplingParams
from carelens.study import StageContext
from carelens.tables import SCHEMAS, conform, empty_table

# A designed variant with the same post, groups, cue kind and text as a shipped one is that variant:
# the shipped one (which carries the dataset's recorded replies) is kept.
_SAME = ("post_id", "race", "gender", "age", "cue_kind", "text")


def _cache_path(ctx: StageContext) -> Path:
    gen = ctx.study.generation
    return ctx.loaded.resolve(gen.cache) if gen.cache else default_cache_path()


def _collected(frame: pd.DataFrame) -> pd.DataFrame:
    """Shipped cue variants with canonical group names and method ``collected``."""
    out = frame.copy()
    out["race"] = [canonical_race(v) or v if isinstance(v, str) else None for v in out["race"]]
    out["gender"] = [canonical_gender(v) or v if isinstance(v, str) else None for v in out["gender"]]
    if "cue_id" not in out.columns:
        out["cue_id"] = ""
    out["cue_method"] = "collected"
    return out


def _counterfactual_rows(ctx: StageContext, posts: pd.DataFrame) -> list[dict[str, Any]]:
    config = ctx.study.demographics
    seed = ctx.study.study.seed
    cells = design_cells(config)
    pairs = list(zip(posts["post_id"].astype(str), posts["text"].fillna("").astype(str), strict=True))
    rows: list[dict[str, Any]] = []
    if "explicit" in config.cue_kinds:
        for post_id, text in pairs:
            rows += explicit_variants(post_id, text, cells, config.explicit_templates)
    if "implicit" in config.cue_kinds:
        bank = load_banks(config.cue_banks, ctx.input_file)
        missing = bank.missing(config.races, config.genders, bool(config.ages))
        if missing:
            raise CarelensError(f"no implicit cue in the cue banks for {missing}",
                                where="demographics.cue_banks")
        ctx.notes["cue_bank_sizes"] = bank.sizes()
        if "bank" in config.implicit_methods:
            for post_id, text in pairs:
                rows += bank_variants(post_id, text, cells, bank, config.cues_per_cell,
                                      config.cue_position, seed)
        if "rewrite" in config.implicit_methods and config.rewrite_model:
            rows += rewrite_variants(pairs, cells, bank, model=config.rewrite_model, n=config.cues_per_cell,
                                     seed=seed, max_tokens=config.rewrite_max_tokens,
                                     config=ctx.study.generation, cache_path=_cache_path(ctx))
    return rows


def build_variants(ctx: StageContext) -> dict[str, pd.DataFrame]:
    """Stage ``variants``: originals, collected cue variants, designed cue variants, fidelity-checked."""
    config = ctx.study.demographics
    posts = ctx.table("posts")
    collected = ctx.table("collected_variants")
    rows = [original_row(str(p.post_id), str(p.text) if isinstance(p.text, str) else "",
                         str(p.defects) if isinstance(p.defects, str) else "")
            for p in posts.itertuples(index=False)]
    if config.design == "counterfactual":
        rows += _counterfactual_rows(ctx, posts)
    columns = [*SCHEMAS["variants"], "cue_id", "cue_method"]
    designed = pd.DataFrame(rows, columns=columns)
    frames = [designed]
    if len(collected):
        shipped = _collected(collected)[columns]
        keys = shipped[list(_SAME)].drop_duplicates()
        same = designed.merge(keys, on=list(_SAME), how="left", indicator=True)["_merge"]
        ctx.notes["designed_variants_identical_to_collected"] = int((same == "both").sum())
        frames = [designed[(same != "both").to_numpy()], shipped]
    frame = pd.concat(frames, ignore_index=True)
    duplicated = frame["variant_id"].duplicated(keep="first")
    ctx.notes["duplicate_variants_merged"] = int(duplicated.sum())
    frame = frame[~duplicated]
    originals = dict(zip(posts["post_id"].astype(str), posts["text"].fillna("").astype(str), strict=True))
    checked = check_fidelity(frame, originals, config)
    ctx.notes["variants"] = {f"{k}/{m}": int(n) for (k, m), n in
                             checked.groupby(["cue_kind", "cue_method"]).size().items()}
    ctx.notes["fidelity_failed"] = int((~checked["fidelity_ok"].astype(bool)).sum())
    if ctx.notes["fidelity_failed"]:
        reasons: Counter[str] = Counter()
        for note in checked.loc[~checked["fidelity_ok"].astype(bool), "fidelity_note"]:
            reasons.update(" ".join(part.split()[:2]) for part in str(note).split("; ") if part)
        ctx.notes["fidelity_failures_by_check"] = dict(reasons.most_common())
    return {"variants": conform("variants", checked)}


def probe_params(ctx: StageContext) -> SamplingParams:
    config = ctx.study.demographics
    return SamplingParams(temperature=config.probe_temperature, max_tokens=config.probe_max_tokens,
                          seed=ctx.study.study.seed)


def run_probe(ctx: StageContext) -> dict[str, pd.DataFrame]:
    """Stage ``probe``: one inference per variant from the configured probe model (or none)."""
    config = ctx.study.demographics
    variants = ctx.table("variants")
    if config.probe is None:
        ctx.notes["probe"] = "no probe model configured (demographics.probe): inferences left empty"
        return {"inferences": empty_table("inferences")}
    inferences = probe_variants(variants, config.probe, style=config.probe_prompt, params=probe_params(ctx),
                                config=ctx.study.generation, cache_path=_cache_path(ctx))
    ctx.notes["probe"] = {"model": config.probe, "prompt": config.probe_prompt,
                          "status": {str(k): int(v) for k, v in inferences["status"].value_counts().items()}}
    groups = observational_groups(variants, inferences, config.control, races=config.races or None,
                                  control_size=config.control_size, seed=ctx.study.study.seed)
    ctx.notes["observational_groups"] = {str(k): int(v) for k, v in groups["group"].value_counts().items()}
    if (variants["cue_kind"] != "none").any():
        table = manipulation_table(variants, inferences)
        cued = table[table["cue_kind"] != "none"]
        ctx.notes["manipulation_recall"] = {
            f"{r.cue_kind}/{r.cue_method}/{r.attribute}={r.intended}": round(float(r.recall), 3)
            for r in cued.itertuples(index=False)}
    return {"inferences": inferences}
