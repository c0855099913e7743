"""The report: one self-contained HTML page (figures inlined as base64 PNG, CSS inline, no network).

It reads the run's tables and its manifest only; every number it prints comes from a table the
analysis wrote, and its Methods section from the analysis plan in the manifest. Everything the page
prints goes through Jinja2 with autoescaping on, post and reply texts included.
"""

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from carelens import __version__
from carelens.config import Study
from carelens.report import plots
from carelens.report.display import (
    Cell,
    Table,
    comparison_table,
    effect_name,
    frame_table,
    interval,
    is_true,
    key_values,
    label_cell,
    missing,
    num,
    pct,
    pct_gap,
    pval,
    signed,
    significance_cell,
    test_name,
    words,
)
from carelens.tables import RISK_LEVELS, VERDICTS

STAND_IN = (
    "Replies from {names} come from the small model embedded in carelens (SmolLM2-135M-Instruct), "
    "a stand-in that shows the pipeline runs end to end. They are not a research finding: do not "
    "read their figures as evidence about language models in mental-health support."
)
PAPER_TEST = "student_t_paper"
NO_STRATUM = {"all", "none", ""}
EMPATHY_NAME = re.compile(r"(^|[_:./-])(er|ip|ex|all)$|empathy", re.IGNORECASE)
HEADLINE_SENTENCES = 4


@dataclass
class Figure:
    """A figure: its file name under ``figures/``, title, caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class ReportInputs:
    """What the report reads from a run: the study file, the manifest and tables (None: not written)."""

    study: Study
    study_text: str
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame | None]
    run_path: Path
    agreement: dict[str, Any] | None = None
    figures: list[Figure] = field(default_factory=list)

    def table(self, name: str) -> pd.DataFrame:
        frame = self.tables.get(name)
        return frame if frame is not None else pd.DataFrame()

    @property
    def notes(self) -> dict[str, Any]:
        notes = self.manifest.get("stages", {}).get("analyze", {}).get("notes", {})
        return notes if isinstance(notes, dict) else {}

    @property
    def plan(self) -> dict[str, Any]:
        plan = self.notes.get("plan", {})
        return plan if isinstance(plan, dict) else {}

    @property
    def reference(self) -> str:
        return str(self.plan.get("reference", self.study.analysis.reference))

    @property
    def peer(self) -> str:
        return str(self.plan.get("peer", self.study.analysis.peer))

    @property
    def alpha(self) -> float:
        return float(self.plan.get("alpha", self.study.analysis.alpha))

    def scale(self, metric: str) -> tuple[float, float] | None:
        """The metric's scale from the plan, else from the descriptives."""
        scales = self.plan.get("metric_scales") or {}
        bounds = scales.get(metric)
        if isinstance(bounds, list | tuple) and len(bounds) == 2 and not any(map(missing, bounds)):
            return float(bounds[0]), float(bounds[1])
        rows = self.table("descriptives")
        if rows.empty:
            return None
        rows = rows[rows["metric"] == metric]
        if rows.empty or rows["scale_low"].isna().all() or rows["scale_high"].isna().all():
            return None
        return float(rows["scale_low"].min()), float(rows["scale_high"].max())


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def _stratum(stratum: Any) -> str:
    return "" if missing(stratum) or str(stratum) in NO_STRATUM else str(stratum)


def _metas(responses: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for text in responses.get("meta", pd.Series(dtype=str)).fillna(""):
        try:
            value = json.loads(text) if text else {}
        except json.JSONDecodeError:
            value = {"_unreadable": True}
        out.append(value if isinstance(value, dict) else {})
    return out


def _suspect_conditions(responses: pd.DataFrame) -> set[str]:
    """Conditions whose released labels are flagged as probably swapped (``meta.label_swap_suspected``)."""
    metas = _metas(responses)
    return {c for c, m in zip(responses["condition"], metas, strict=True) if m.get("label_swap_suspected")}


class Labels:
    """Condition names with the ⚠ of a probably swapped release label."""

    def __init__(self, suspects: set[str]) -> None:
        self.suspects = suspects

    def condition(self, condition: Any) -> str:
        text = "–" if missing(condition) else str(condition)
        return f"{text} ⚠" if text in self.suspects else text

    def group(self, row: pd.Series) -> str:
        stratum = _stratum(row.get("stratum"))
        return f"{stratum + ': ' if stratum else ''}{row['group']} vs {row['reference']}"


def _group_suffix(group: Any) -> str:
    return "" if missing(group) or str(group) in NO_STRATUM else f" ({group})"


def _primary(comparisons: pd.DataFrame, kind: str) -> pd.DataFrame:
    if comparisons.empty:
        return comparisons
    rows = comparisons[(comparisons["kind"] == kind) & comparisons["primary"].fillna(False).astype(bool)]
    return rows.sort_values(["metric", "responder", "condition", "stratum", "group"], kind="stable")


def empathy_metrics(inputs: ReportInputs) -> list[str]:
    """The empathy metrics of the figures and examples: as configured, else named ER/IP/EX/ALL/empathy*,
    with the plan's derived metrics (e.g. ALL) beside them."""
    present = list(dict.fromkeys(inputs.table("descriptives").get("metric", pd.Series(dtype=str))))
    configured = inputs.study.analysis.empathy_metrics
    chosen = [m for m in configured if m in present] if configured else []
    if not configured:
        chosen = [m for m in present if EMPATHY_NAME.search(m) and not m.startswith("rate_")]
    derived = [m for m in (inputs.plan.get("derived_metrics") or {}) if m in present]
    return list(dict.fromkeys(chosen + derived))


def group_colours(inputs: ReportInputs) -> plots.GroupColours:
    groups = inputs.table("assignments").get("group", pd.Series(dtype=str)).dropna().astype(str)
    rest = sorted(set(groups) - {inputs.reference})
    return plots.GroupColours([inputs.reference, *rest])


# ---------------------------------------------------------------- headline and verdicts


def family_text(plan: dict[str, Any]) -> str:
    """The correction family as recorded, with its size where the text does not give it."""
    family, size = words(plan.get("family")), plan.get("family_size")
    return family if missing(size) or f"{size} test" in family else f"{family} ({size} tests)"


def headline(inputs: ReportInputs, empathy: list[str]) -> list[str]:
    """The paper's finding in words (its method's gaps) and what survives the corrected analysis."""
    comparisons = inputs.table("comparisons")
    if comparisons.empty:
        return []
    paper = comparisons[(comparisons["test"] == PAPER_TEST) & (comparisons["kind"] == "group_gap")]
    paper = paper[paper["responder"] != inputs.peer]
    if paper["metric"].isin(empathy).any():  # the paper's finding is about empathy
        paper = paper[paper["metric"].isin(empathy)]
    if paper.empty:
        return []
    primary = comparisons[comparisons["primary"].fillna(False).astype(bool)]
    key = ["kind", "metric", "responder", "condition", "stratum", "group", "reference"]
    merged = paper.merge(primary, on=key, how="left", suffixes=("", "_post"))
    alpha = inputs.alpha
    found: list[tuple[tuple[bool, int], str]] = []
    for (responder, metric, stratum, group, reference), rows in merged.groupby(
        ["responder", "metric", "stratum", "group", "reference"], sort=True
    ):
        rows = rows[rows["estimate"].notna()]
        significant = rows[rows["p"] < alpha]
        if significant.empty:
            continue
        lower = int((significant["estimate"] < 0).sum()) >= int((significant["estimate"] > 0).sum())
        same = rows[(rows["estimate"] < 0) if lower else (rows["estimate"] > 0)]
        same_sig = same[same["p"] < alpha]
        gaps = same["pct_diff"].dropna()
        span = ""
        if len(gaps):
            low, high = (gaps.max(), gaps.min()) if lower else (gaps.min(), gaps.max())
            span = f" ({pct(low)} to {pct(high)})" if pct(low) != pct(high) else f" ({pct(low)})"
        survive = int(same_sig["significant_post"].map(is_true).sum())
        where = f", {stratum} cues" if _stratum(stratum) else ""
        found.append(
            (
                (metric not in empathy, -len(same_sig)),
                f"{responder} {metric}{where} {'lower' if lower else 'higher'} for {group} than {reference} "
                f"posters in {len(same)} of {len(rows)} conditions{span}, significantly (p < {alpha:g}, "
                f"uncorrected) in {len(same_sig)}; of these {len(same_sig)}, {survive} "
                f"{'survives' if survive == 1 else 'survive'} the corrected post-level test",
            )
        )
    plan = inputs.plan
    family_size = plan.get("family_size")
    if missing(family_size) and len(primary):
        family_size = primary["family_size"].dropna().max()
    correction = str(
        plan.get("correction") or (primary["correction"].dropna().iloc[0] if len(primary) else "")
    )
    unit = plan.get("unit", "post")
    opening = (
        f"The paper's method ({test_name(PAPER_TEST).split(' (')[0]}) finds: "
        if found
        else f"The paper's method ({test_name(PAPER_TEST).split(' (')[0]}) finds no gap at p < {alpha:g}."
    )
    sentences = [opening]
    found.sort(key=lambda item: item[0])
    sentences += [f"{text}." for _, text in found[:HEADLINE_SENTENCES]]
    if len(found) > HEADLINE_SENTENCES:
        sentences.append(f"… and {len(found) - HEADLINE_SENTENCES} more in the paper's-method table below.")
    sentences.append(
        f"The corrected analysis tests {unit} means and applies {correction} correction over "
        f"{family_text(plan | {'family_size': family_size})}."
    )
    return sentences


def verdict_rows(inputs: ReportInputs) -> list[dict[str, str]]:
    """One row per guideline x responder, in the order the analysis wrote them."""
    verdicts = inputs.table("verdicts")
    out = []
    for _, row in verdicts.iterrows():
        verdict = str(row["verdict"]) if not missing(row["verdict"]) else "not assessed"
        out.append(
            {
                "title": str(row["title"]),
                "statement": "" if missing(row["statement"]) else str(row["statement"]),
                "responder": str(row["responder"]),
                "verdict": verdict,
                "css": "v-" + (_slug(verdict) if verdict in VERDICTS else "not_assessed"),
                "evidence": "" if missing(row["evidence"]) else str(row["evidence"]),
                "caveat": "" if missing(row["caveat"]) else str(row["caveat"]),
            }
        )
    return out


# ---------------------------------------------------------------- figures


def _beside_each_cue_kind(frame: pd.DataFrame) -> pd.DataFrame:
    """The unchanged originals (the control) repeated beside each cue kind's groups, so every cued group
    is drawn next to the group it is compared with."""
    trivial = frame["stratum"].map(_stratum) == ""
    kinds = sorted(set(frame.loc[~trivial, "stratum"].astype(str)))
    if not kinds or not trivial.any():
        return frame
    copies = [frame[trivial].assign(stratum=kind) for kind in kinds]
    return pd.concat([*copies, frame[~trivial]], ignore_index=True)


def _means_figures(
    inputs: ReportInputs, metric: str, colours: plots.GroupColours, labels: Labels
) -> list[Figure]:
    """The metric's means by group: responders beside peers in one figure where the groups are the
    design's only split, else one figure per responder with its conditions (and cue kinds)."""
    rows = inputs.table("descriptives")
    rows = rows[rows["metric"] == metric]
    peer, scale = inputs.peer, inputs.scale(metric)
    method = ", ".join(sorted(set(rows["ci_method"].dropna().astype(str)))) or "t intervals"
    scale_text = f", drawn within the scale [{num(scale[0], 0)}, {num(scale[1], 0)}]" if scale else ""
    caption = (
        f"Mean of post means (each post's replies averaged first) with its 95% interval ({method})"
        f"{scale_text}. Colour is the group, as in every figure of this report."
    )
    stratified = (rows["stratum"].map(_stratum) != "").any()
    out = []
    if peer in set(rows["responder"]) and rows["responder"].nunique() > 1:
        frame = rows[rows["stratum"].map(_stratum) == ""]
        frame = frame.assign(
            x=[
                peer if r == peer else f"{r}\n{labels.condition(c)}"
                for r, c in zip(frame["responder"], frame["condition"], strict=True)
            ]
        )
        order = [peer] + [x for x in dict.fromkeys(frame["x"]) if x != peer]
        out.append(
            Figure(
                f"responders_vs_peer_{_slug(metric)}",
                f"{metric}: responders by prompt condition, beside peers",
                caption,
                plots.means_plot(
                    frame, "x", order, colours, f"{metric}: responders and peers", metric, scale
                ),
            )
        )
        if not stratified:
            return out
    for responder, frame in rows[rows["responder"] != peer].groupby("responder", sort=True):
        frame = _beside_each_cue_kind(frame)
        frame = frame.assign(
            x=[
                labels.condition(c) + (f"\n{_stratum(t)} cues" if _stratum(t) else "")
                for c, t in zip(frame["condition"], frame["stratum"], strict=True)
            ]
        )
        out.append(
            Figure(
                f"means_{_slug(metric)}_{_slug(str(responder))}",
                f"{metric} of {responder} by prompt condition and group",
                caption,
                plots.means_plot(
                    frame,
                    "x",
                    list(dict.fromkeys(frame["x"])),
                    colours,
                    f"{metric} — {responder}",
                    metric,
                    scale,
                ),
            )
        )
    return out


def figures(
    inputs: ReportInputs, empathy: list[str], colours: plots.GroupColours, labels: Labels
) -> list[Figure]:
    """Means by condition and group (responders beside peers), then forest plots of the group gaps."""
    out: list[Figure] = []
    if inputs.table("descriptives").empty:
        return out
    shown = empathy or [
        m for m in inputs.plan.get("metrics") or [] if m in set(inputs.table("descriptives")["metric"])
    ]
    for metric in shown:
        out += _means_figures(inputs, metric, colours, labels)
    gaps = _primary(inputs.table("comparisons"), "group_gap")
    plan = inputs.plan
    for metric, rows in gaps.groupby("metric", sort=True):
        if metric not in shown:
            continue
        rows = rows.assign(
            label=[
                f"{r.responder} · "
                f"{labels.condition(r.condition) + ' · ' if r.condition != r.responder else ''}"
                f"{_stratum(r.stratum) + ' · ' if _stratum(r.stratum) else ''}{r.group}"
                for r in rows.itertuples()
            ]
        )
        methods = ", ".join(sorted(set(rows["ci_method"].dropna().astype(str)))) or "bootstrap"
        tests = ", ".join(sorted(set(rows["test"].dropna().astype(str))))
        out.append(
            Figure(
                f"forest_{_slug(str(metric))}",
                f"Group gaps in {metric} against '{inputs.reference}'",
                f"% difference of each group's mean of post means from '{inputs.reference}' ({tests}). "
                f"The lines are unadjusted 95% CIs ({methods}); the markers' fill shows significance after "
                f"{plan.get('correction', 'the')} correction over {family_text(plan)}: "
                "filled = significant, open = not. An unadjusted CI can exclude 0 while the corrected test "
                "is not significant. Colour is the group. A gap whose reference mean is 0 has no % and is "
                "written out with its raw difference.",
                plots.forest(
                    rows,
                    f"{metric}: gaps against '{inputs.reference}'",
                    colours,
                    "% difference from the reference (unadjusted 95% CI)",
                ),
            )
        )
    return out


# ---------------------------------------------------------------- tables


def study_facts(inputs: ReportInputs) -> Table:
    s, plan = inputs.study, inputs.plan
    primary = plan.get("primary_tests") or {}
    facts = [
        ("study", s.study.name),
        ("description", s.study.description or "–"),
        ("data", ", ".join(d.dataset or d.file or "?" for d in s.data)),
        ("responders", ", ".join(s.generation.responders)),
        ("conditions", ", ".join(s.generation.conditions)),
        ("demographic design", words(plan.get("design"))),
        ("groups from", words(plan.get("group_source"))),
        ("reference group", inputs.reference),
        ("reference condition", words(plan.get("reference_condition"))),
        ("unit of analysis", words(plan.get("unit"))),
        (
            "primary tests",
            f"paired: {test_name(primary.get('paired'))}; "
            f"independent: {test_name(primary.get('independent'))}",
        ),
        ("correction", f"{words(plan.get('correction'))}, alpha {words(plan.get('alpha'))}"),
        ("family", family_text(plan)),
        ("scorers", ", ".join(s.scoring.scorers)),
        ("seed", str(inputs.notes.get("seed", s.analysis.seed or s.study.seed))),
        ("study file sha256", str(inputs.manifest.get("study", {}).get("sha256", "–"))),
        ("git commit", str(inputs.manifest.get("git_commit") or "–")),
        ("carelens", __version__),
    ]
    table = Table(["", ""], css="kv")
    table.rows = [[Cell(k), Cell(v, "text")] for k, v in facts]
    return table


def stages_table(manifest: dict[str, Any]) -> Table:
    table = Table(["stage", "status", "ended", "seconds", "rows"])
    for name, entry in manifest.get("stages", {}).items():
        rows = ", ".join(f"{k}: {v}" for k, v in entry.get("rows", {}).items())
        table.rows.append(
            [
                Cell(name),
                Cell(str(entry.get("status", ""))),
                Cell(str(entry.get("ended", ""))),
                Cell(num(entry.get("seconds"), 1), "num"),
                Cell(rows, "text"),
            ]
        )
    return table


def response_counts(responses: pd.DataFrame) -> Table:
    if responses.empty:
        return Table([])
    pivot = responses.pivot_table(
        index=["responder", "condition"],
        columns="status",
        values="response_id",
        aggfunc="count",
        fill_value=0,
    )
    pivot["total"] = pivot.sum(axis=1)
    return frame_table(pivot.reset_index(), formats={c: lambda v: num(v, 0) for c in pivot.columns})


def group_counts(assignments: pd.DataFrame) -> Table:
    """Posts and replies analysed per responder, stratum and group, from the assignments."""
    if assignments.empty:
        return Table([])
    frame = assignments.assign(analysed=assignments["analysed"].fillna(False).astype(bool))
    used = frame[frame["analysed"]]
    counts = (
        frame.groupby(["responder", "stratum", "group"], dropna=False)
        .agg(replies=("response_id", "count"), analysed=("analysed", "sum"))
        .join(used.groupby(["responder", "stratum", "group"], dropna=False).agg(posts=("post_id", "nunique")))
        .fillna({"posts": 0})
        .reset_index()
    )
    counts["not analysed"] = counts["replies"] - counts["analysed"]
    counts = counts[["responder", "stratum", "group", "posts", "analysed", "not analysed"]]
    return frame_table(
        counts.rename(columns={"posts": "posts analysed", "analysed": "replies analysed"}),
        formats={c: lambda v: num(v, 0) for c in ("posts analysed", "replies analysed", "not analysed")},
    )


def exclusion_reasons(assignments: pd.DataFrame) -> Table:
    """Why replies were not analysed, per responder: every reply is accounted for."""
    if assignments.empty:
        return Table([])
    left_out = assignments[~assignments["analysed"].fillna(False).astype(bool)]
    counts = (
        left_out.assign(reason=left_out["reason"].fillna("").replace("", "(no reason recorded)"))
        .groupby(["responder", "reason"])
        .size()
        .reset_index(name="replies")
    )
    return frame_table(counts, formats={"replies": lambda v: num(v, 0)})


def _what(row: pd.Series, labels: Labels) -> str:
    """What a comparison compares, in words."""
    if row["kind"] == "responder_gap":
        return f"{row['responder']} vs {row['reference']}{_group_suffix(row['group'])}"
    if row["kind"] == "condition_gap":
        return (
            f"{labels.condition(row['condition'])} vs {labels.condition(row['reference'])}"
            f"{_group_suffix(row['group'])}"
        )
    return labels.group(row)


def paper_table(inputs: ReportInputs, labels: Labels, comparisons: pd.DataFrame) -> Table:
    """The paper's Student t (uncorrected) beside the study's corrected primary test, per comparison."""
    table = Table(
        [
            "metric",
            "responder",
            "condition",
            "comparison",
            "paper: replies",
            "paper: % diff",
            "paper: p (uncorrected)",
            "post-level: test",
            "post-level: posts",
            "post-level: % diff [CI]",
            "post-level: p adj.",
            "same conclusion",
        ]
    )
    if comparisons.empty:
        return table
    key = ["kind", "metric", "responder", "condition", "stratum", "group", "reference"]
    paper = comparisons[comparisons["test"] == PAPER_TEST]
    primary = comparisons[comparisons["primary"].fillna(False).astype(bool)]
    merged = paper.merge(primary, on=key, how="left", suffixes=("_paper", ""))
    order = {"group_gap": 0, "responder_gap": 1, "condition_gap": 2}
    merged = merged.assign(_order=merged["kind"].map(order).fillna(3))
    for _, row in merged.sort_values(["_order", *key[1:]], kind="stable").iterrows():
        paper_sig = bool(row["p_paper"] < inputs.alpha) if not missing(row["p_paper"]) else False
        ours = is_true(row["significant"])
        tested = not missing(row["p_adj"])
        what = _what(row, labels)
        table.rows.append(
            [
                label_cell(row["metric"]),
                label_cell(row["responder"]),
                label_cell(labels.condition(row["condition"])),
                label_cell(what),
                Cell(f"{num(row['n_responses_paper'], 0)} / {num(row['ref_n_responses_paper'], 0)}", "num"),
                Cell(
                    pct_gap({"pct_diff": row["pct_diff_paper"], "estimate": row["estimate_paper"]}, False),
                    "num",
                ),
                Cell(pval(row["p_paper"]) + (" ●" if paper_sig else ""), "num sig" if paper_sig else "num"),
                Cell("–" if missing(row["test"]) else str(row["test"]), "num"),
                Cell(
                    "–"
                    if missing(row["n_posts"])
                    else f"{num(row['n_posts'], 0)} / {num(row['ref_n_posts'], 0)}",
                    "num",
                ),
                Cell(pct_gap(row) if tested else "–", "ci"),
                significance_cell(row) if tested else Cell("not tested", "muted"),
                Cell(
                    "yes" if paper_sig == ours else "no", "num sig" if tested and paper_sig != ours else "num"
                )
                if tested
                else Cell("–"),
            ]
        )
    return table


def _estimates(row: pd.Series, labels: Labels) -> str:
    """What a model term estimates, in words."""
    kind, group, reference = str(row["term_kind"]), row["group"], row["reference"]
    condition = labels.condition(row["condition"])
    against = "" if missing(reference) else f" vs {reference}"
    if kind == "group_main":
        return f"main effect: {group}{against}, averaged over conditions"
    if kind == "group_simple":
        return f"simple effect: {group}{against} within {condition}"
    if kind == "condition_main":
        return f"condition {condition} against the reference condition"
    if kind == "interaction":
        return f"interaction: how the {group} gap at {condition} differs from the reference condition's"
    return "–" if kind in ("none", "", "<NA>") else kind


def _estimate(row: pd.Series) -> str:
    if missing(row["estimate"]):
        return "–"
    return f"{signed(row['estimate'])} {interval(row['ci_low'], row['ci_high'])}"


MAIN_TERMS = ("group_main", "condition_main", "none")


def models_table(models: pd.DataFrame, labels: Labels) -> Table:
    """One block per fitted model (its name, size and post variance once), then one row per term, named
    for what it estimates; its CI method and note are printed where they change."""
    table = Table(["model", "term", "estimates", "estimate [CI]", "CI method", "p", "note"])
    if models.empty:
        return table
    keys = ["model", "metric", "responder", "stratum"]
    for (model, metric, responder, stratum), terms in models.groupby(keys, sort=False, dropna=False):
        first = terms.iloc[0]
        stratum = _stratum(stratum)
        head = (
            f"{metric} · {responder}{' · ' + stratum if stratum else ''} — {model}; "
            f"{num(first['n_posts'], 0)} posts, {num(first['n_responses'], 0)} replies, "
            f"post variance {num(first['post_variance'])}"
        )
        shown: dict[str, str | None] = {"note": None, "ci_method": None}
        for i, (_, row) in enumerate(terms.iterrows()):
            once = {}
            for column in shown:
                text = "" if missing(row[column]) else str(row[column])
                once[column], shown[column] = ("" if text == shown[column] else text), text
            table.rows.append(
                [
                    Cell(head if i == 0 else "", "text"),
                    Cell(str(row["term"]), "text"),
                    Cell(_estimates(row, labels), "text"),
                    Cell(_estimate(row), "ci"),
                    Cell(once["ci_method"], "text"),
                    Cell(pval(row["p"]), "num"),
                    Cell(once["note"], "text"),
                ]
            )
    return table


def models_tables(models: pd.DataFrame, labels: Labels) -> tuple[Table, Table]:
    """Main effects (a group's gap averaged over conditions, each condition's effect), then the simple
    effects and interactions."""
    if models.empty:
        return models_table(models, labels), models_table(models, labels)
    main = models["term_kind"].astype(str).isin(MAIN_TERMS)
    return models_table(models[main], labels), models_table(models[~main], labels)


def rates_table(descriptives: pd.DataFrame) -> Table:
    """Refusal, filter and error rates of the cells where they are above 0."""
    if descriptives.empty:
        return Table([])
    rows = descriptives[descriptives["metric"].str.startswith("rate_") & (descriptives["mean"] > 0)]
    frame = rows[["metric", "responder", "condition", "stratum", "group", "n_posts", "n_responses", "mean"]]
    frame = frame.assign(
        CI=[
            interval(lo, hi, lambda v: pct(100 * v, signed=False))
            for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
        ]
    )
    return frame_table(
        frame.rename(columns={"mean": "rate", "n_posts": "posts", "n_responses": "replies"}),
        formats={
            "rate": lambda v: pct(100 * v, signed=False),
            "posts": lambda v: num(v, 0),
            "replies": lambda v: num(v, 0),
            "CI": str,
        },
    )


def manipulation_table(inputs: ReportInputs) -> tuple[Table | None, str]:
    table = inputs.tables.get("manipulation")
    if table is None or table.empty:
        return None, "No probe ran in this study, so there is no manipulation check."
    percent = {
        c: (lambda v: pct(100 * v, signed=False))
        for c in ("recall", "ci_low", "ci_high", "recall_ok", "original_rate")
        if c in table.columns
    }
    threshold = inputs.plan.get("manipulation_min_recall")
    rule = ""
    if threshold is not None and not missing(threshold):
        share = pct(100 * float(threshold), signed=False)
        rule = f" The check fails when the probe reads the cue in fewer than {share} of variants."
    return frame_table(table, formats={**percent, "lift": lambda v: pct(100 * v)}), (
        "How often the probe recovers the cued group (recall, Wilson 95% CI), against how often it assigns "
        f"that group to the unchanged originals; lift is what the cue adds.{rule}"
    )


def crisis_table(inputs: ReportInputs) -> tuple[Table | None, str]:
    crisis = inputs.tables.get("crisis")
    scorer = inputs.study.analysis.guidelines.safety_scorer
    scores = inputs.table("scores")
    if crisis is None or (crisis.empty and (scores.empty or scorer not in set(scores["scorer"]))):
        return None, f"Not assessed: the safety scorer '{scorer}' did not run in this study."
    if crisis.empty:
        return None, "No post in this run signals suicide or self-harm risk."
    formats = {"unsafe_share": lambda v: pct(100 * v, signed=False)}
    if "harmful" in crisis.columns:
        formats["harmful"] = lambda v: "not scored" if missing(v) else num(v, 0)
    return frame_table(crisis, formats=formats), (
        "Replies to posts that signal crisis risk, by risk level: 'unsafe' replies carry none of the safety "
        "items (acknowledging the risk, encouraging help, giving a resource); 'harmful' are replies scored "
        "harmful ('not scored' where no scorer judged harm). Risk level 'any': the scorer gives no level."
    )


HARM_ROWS = 100  # harmful replies listed in the report; the scores table keeps them all


def harm_flags_table(inputs: ReportInputs) -> tuple[Table | None, str]:
    """Every reply the safety scorer rated harmful, with the reply sentence and (on posts at risk) the
    post sentence that decided, so that a reader can check each flag behind a failed crisis check."""
    settings = inputs.study.analysis.guidelines
    scores = inputs.table("scores")
    if scores.empty or "evidence" not in scores.columns:
        return None, ""
    safety = scores[scores["scorer"] == settings.safety_scorer].drop_duplicates(["response_id", "metric"])
    harm = safety[safety["metric"] == settings.harm_metric]
    if harm.empty:
        return None, ""
    flagged = harm[harm["value"] >= settings.harm_level].set_index("response_id")
    if flagged.empty:
        return None, "No reply was rated harmful."
    metric = safety.set_index(["metric", "response_id"])
    replies = inputs.table("responses").drop_duplicates("response_id").set_index("response_id")
    rows = pd.DataFrame(
        {
            "responder": replies["responder"].reindex(flagged.index),
            "condition": replies["condition"].reindex(flagged.index),
            "risk": metric["value"].get(settings.crisis_flag, pd.Series(dtype=float)).reindex(flagged.index),
            "level": metric["value"].get(settings.risk_level, pd.Series(dtype=float)).reindex(flagged.index),
            "post": metric["evidence"].get(settings.crisis_flag, pd.Series(dtype=str)).reindex(flagged.index),
            "reply": flagged["evidence"],
        }
    )
    at_risk = rows["risk"] >= 0.5
    rows["post risk"] = np.where(
        at_risk, rows["level"].round().map(RISK_LEVELS).fillna("at risk"), "not at risk"
    )
    rows["post sentence that decided the risk"] = np.where(at_risk, rows["post"].fillna(""), "")
    rows["reply sentence that decided the harm"] = rows["reply"].fillna("")
    rows = rows.assign(order=-at_risk.astype(int)).sort_values(["order", "responder", "condition"])
    columns = [
        "responder",
        "condition",
        "post risk",
        "reply sentence that decided the harm",
        "post sentence that decided the risk",
    ]
    table = Table(columns)
    for row in rows.head(HARM_ROWS).itertuples(index=False):
        values = dict(zip(rows.columns, row, strict=True))
        table.rows.append([Cell(str(values[c]), "text" if "sentence" in c else "") for c in columns])
    shown = f" The first {HARM_ROWS} are shown; all are in the scores table." if len(rows) > HARM_ROWS else ""
    return table, (
        f"Every reply the safety scorer rated harmful: {len(rows)}, of them {int(at_risk.sum())} to posts it "
        "rates at risk (those count in the crisis check above). The safety scorer is a screening aid, not a "
        "clinical instrument, and on ordinary chatbot replies its harm flags are often false alarms "
        "(docs/safety-model-card.md): read each sentence before acting on a failed crisis check." + shown
    )


def defects_table(inputs: ReportInputs) -> Table:
    """Data defects found by the parsers: flagged rows per table, and each source's cleaning counts."""
    table = Table(["where", "defect or cleaning step", "count"])
    for name in ("posts", "variants"):
        frame = inputs.table(name)
        if frame.empty or "defects" not in frame.columns:
            continue
        flagged = frame["defects"].fillna("")
        for label, count in flagged[flagged != ""].str.split(";").explode().value_counts().items():
            table.rows.append([Cell(name), Cell(str(label), "text"), Cell(num(count, 0), "num")])
    responses = inputs.table("responses")
    metas = _metas(responses) if not responses.empty else []
    swapped = sum(bool(m.get("label_swap_suspected")) for m in metas)
    unreadable = sum(bool(m.get("_unreadable")) for m in metas)
    if swapped:
        table.rows.append(
            [
                Cell("responses"),
                Cell(
                    "prompt-condition label probably swapped in the release "
                    "(forum with / without demographics): kept, marked ⚠",
                    "text",
                ),
                Cell(num(swapped, 0), "num"),
            ]
        )
    if unreadable:
        table.rows.append(
            [Cell("responses"), Cell("meta not readable as JSON"), Cell(num(unreadable, 0), "num")]
        )
    sources = inputs.manifest.get("stages", {}).get("data", {}).get("notes", {}).get("sources", [])
    for source in sources if isinstance(sources, list) else []:
        name = source.get("dataset") or source.get("file") or "source"
        for key, value in _flatten(source.get("parse_notes") or {}).items():
            table.rows.append([Cell(str(name)), Cell(key.replace("_", " "), "text"), Cell(str(value), "num")])
    return table


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def descriptives_table(descriptives: pd.DataFrame, labels: Labels) -> Table:
    table = Table(
        [
            "metric",
            "responder",
            "condition",
            "stratum",
            "group",
            "posts (replies)",
            "mean",
            "sd",
            "CI",
            "CI method",
        ]
    )
    if descriptives.empty:
        return table
    for _, row in descriptives.iterrows():
        table.rows.append(
            [
                Cell(str(row["metric"]), "label"),
                Cell(str(row["responder"]), "label"),
                Cell(labels.condition(row["condition"]), "label"),
                Cell(str(row["stratum"])),
                Cell(str(row["group"]), "label"),
                Cell(f"{num(row['n_posts'], 0)} ({num(row['n_responses'], 0)})", "num"),
                Cell(num(row["mean"]), "num"),
                Cell(num(row["sd"]), "num"),
                Cell(interval(row["ci_low"], row["ci_high"]), "num"),
                Cell("–" if missing(row["ci_method"]) else str(row["ci_method"]), "text"),
            ]
        )
    return table


def _agreement(agreement: dict[str, Any]) -> dict[str, Any]:
    questions = Table(
        [
            "question",
            "scale",
            "items",
            "answers",
            "N/A",
            "Krippendorff α",
            "α CI",
            "rater pair",
            "exact",
            "κ",
            "κ quadratic",
        ]
    )
    for name, q in agreement.get("questions", {}).items():
        pairs = q.get("pairs") or [{}]
        for i, pair in enumerate(pairs):
            head = [
                Cell(name),
                Cell(str(q.get("scale", ""))),
                Cell(num(q.get("n_items"), 0)),
                Cell(num(q.get("n_answers"), 0)),
                Cell(num((q.get("na") or {}).get("total"), 0)),
                Cell(num(q.get("alpha"))),
                Cell(interval(*(q.get("alpha_ci") or [None, None]))),
            ]
            head = head if i == 0 else [Cell("") for _ in head]
            questions.rows.append(
                head
                + [
                    Cell(" × ".join(pair.get("raters", []))),
                    Cell(num(pair.get("exact"))),
                    Cell(num(pair.get("kappa"))),
                    Cell(num(pair.get("kappa_quadratic"))),
                ]
            )
    guesses = Table(["rater", "n", "correct", "accuracy", "CI", "p vs chance"])
    for rater, g in agreement.get("ai_guess", {}).items():
        guesses.rows.append(
            [
                Cell(rater),
                Cell(num(g.get("n"), 0)),
                Cell(num(g.get("correct"), 0)),
                Cell(num(g.get("accuracy"))),
                Cell(interval(*(g.get("ci") or [None, None]))),
                Cell(pval(g.get("p_vs_chance"))),
            ]
        )
    validity = Table(["mechanism", "clinicians' α", "scorer", "rater", "n", "exact", "κ quadratic", "α"])
    for mechanism, v in agreement.get("scorer_validity", {}).items():
        for s in v.get("scorers", []):
            validity.rows.append(
                [
                    Cell(mechanism),
                    Cell(num(v.get("clinician_alpha"))),
                    Cell(str(s.get("scorer"))),
                    Cell(str(s.get("rater"))),
                    Cell(num(s.get("n"), 0)),
                    Cell(num(s.get("exact"))),
                    Cell(num(s.get("kappa_quadratic"))),
                    Cell(num(s.get("alpha"))),
                ]
            )
    return {
        "questions": questions,
        "guesses": guesses,
        "validity": validity,
        "items": agreement.get("n_items"),
        "raters": ", ".join(agreement.get("raters", [])),
        "notes": agreement.get("notes", []),
    }


# ---------------------------------------------------------------- examples


def _evidence_lines(value: Any) -> list[str]:
    """A score's evidence as sentences: a JSON list of strings or one text."""
    if missing(value) or not str(value).strip():
        return []
    text = str(value).strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = None
        if isinstance(items, list):
            return [str(i) for i in items if str(i).strip()]
    return [text]


def examples(inputs: ReportInputs, empathy: list[str], labels: Labels) -> list[dict[str, Any]]:
    """A few analysed replies per group and responder, chosen reproducibly, with their empathy scores and,
    where the scores table records it, the evidence behind each score."""
    per_group = inputs.study.report.examples_per_group
    assignments, responses = inputs.table("assignments"), inputs.table("responses")
    if per_group == 0 or assignments.empty or responses.empty:
        return []
    analysed = assignments[assignments["analysed"].fillna(False).astype(bool)]
    replies = analysed[["response_id", "stratum", "group"]].merge(
        responses[["response_id", "variant_id", "post_id", "responder", "condition", "text"]],
        on="response_id",
    )
    variant_text = (
        inputs.table("variants").set_index("variant_id")["text"]
        if not inputs.table("variants").empty
        else pd.Series(dtype=str)
    )
    post_text = (
        inputs.table("posts").set_index("post_id")["text"]
        if not inputs.table("posts").empty
        else pd.Series(dtype=str)
    )
    scores = inputs.table("scores")
    if not scores.empty:
        scores = scores[
            scores["metric"].isin(empathy) & scores["response_id"].isin(set(replies["response_id"]))
        ]
    has_evidence = "evidence" in scores.columns
    by_response: dict[str, list[dict[str, Any]]] = {}
    for row in scores.itertuples():
        by_response.setdefault(str(row.response_id), []).append(
            {
                "metric": str(row.metric),
                "value": num(row.value, 2),
                "evidence": _evidence_lines(getattr(row, "evidence", None)) if has_evidence else [],
            }
        )
    out = []
    rng = np.random.default_rng(inputs.study.study.seed)
    for (stratum, group, _), frame in replies.groupby(["stratum", "group", "responder"], sort=True):
        chosen = frame.iloc[sorted(rng.choice(len(frame), size=min(per_group, len(frame)), replace=False))]
        for row in chosen.itertuples():
            shown = variant_text.get(row.variant_id)
            shown = shown if isinstance(shown, str) else post_text.get(row.post_id, "")
            found = [
                _quoted(score, str(row.text))
                for score in sorted(
                    by_response.get(str(row.response_id), []), key=lambda s: empathy.index(s["metric"])
                )
            ]
            out.append(
                {
                    "group": f"{_stratum(stratum) + ': ' if _stratum(stratum) else ''}{group}",
                    "responder": row.responder,
                    "condition": labels.condition(row.condition),
                    "post": _clip(str(shown), 900),
                    "reply": _clip(str(row.text), 1800),
                    "scores": found,
                }
            )
    return out


def _quoted(score: dict[str, Any], reply: str) -> dict[str, Any]:
    """A score with its evidence split into sentences quoted from the reply and any other basis (a rule,
    or the source column of a recorded score)."""
    quotes, basis = [], []
    for line in score["evidence"]:
        label, _, rest = line.partition(": ")
        if line in reply:
            quotes.append({"label": "", "text": line})
        elif rest and rest.strip(" …") in reply:  # e.g. "level 2 (P = 0.98): <the deciding sentences>"
            quotes.append({"label": label, "text": rest})
        else:
            basis.append(line)
    return score | {"quotes": quotes, "basis": basis}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


# ---------------------------------------------------------------- methods


def methods(inputs: ReportInputs) -> list[str]:
    """The Methods section, generated from the analysis plan the analyze stage recorded."""
    plan = inputs.plan
    if not plan:
        return ["The analysis recorded no plan in the run manifest, so its methods cannot be stated here."]
    effects = plan.get("effect_sizes") or {}

    def with_effect(test: Any) -> str:
        effect = effects.get(str(test))
        return f"{test_name(test)} (effect size: {effect_name(effect)})" if effect else test_name(test)

    primary = plan.get("primary_tests") or {}
    secondary = plan.get("secondary_tests") or []
    reference_condition = plan.get("reference_condition")
    unit = words(plan.get("unit"))
    paragraphs = [
        f"Design: {words(plan.get('design'))}. Groups come from {words(plan.get('group_source'))}; the "
        f"reference group is '{words(plan.get('reference'))}' (control label '{words(plan.get('control'))}')"
        + (
            f", the reference prompt condition '{reference_condition}'"
            if not missing(reference_condition)
            else ""
        )
        + f", and every responder is also compared with '{words(plan.get('peer'))}'.",
        f"The unit of analysis is the {unit}: each {unit}'s replies are "
        "averaged first, and every test, interval, effect size and minimal detectable difference is computed "
        f"on these {unit} means.",
        f"Primary tests: {with_effect(primary.get('paired'))} where the same posts are on both sides "
        "(paired), "
        f"{with_effect(primary.get('independent'))} otherwise."
        + (f" Secondary tests: {'; '.join(with_effect(t) for t in secondary)}." if secondary else ""),
        f"Correction: {words(plan.get('correction'))} at alpha {words(plan.get('alpha'))}. The family: "
        f"{family_text(plan)}. Secondary tests and the "
        "paper's method are not corrected.",
        f"Intervals: {words(plan.get('ci_method'))} ({words(plan.get('bootstrap'))} bootstrap resamples; "
        f"{words(plan.get('permutations'))} permutations). Minimal detectable differences at "
        f"{words(plan.get('power'))} power.",
    ]
    paragraphs.append(_mixed_model(plan.get("mixed_model")))
    derived = plan.get("derived_metrics") or {}
    if derived:
        paragraphs.append("Derived metrics: " + "; ".join(f"{k} = {v}" for k, v in derived.items()) + ".")
    caveats = plan.get("metric_caveats") or {}
    if caveats:
        paragraphs.append("Metric caveats: " + "; ".join(f"{k}: {v}" for k, v in caveats.items()))
    exclusions = plan.get("exclusions") or {}
    paragraphs.append(
        "Replies not analysed: "
        + (
            ", ".join(f"{str(k).replace('_', ' ')}: {v}" for k, v in exclusions.items())
            if exclusions
            else "none"
        )
        + " (each reply's fate is in the assignments table)."
    )
    if not missing(plan.get("manipulation_min_recall")):
        paragraphs.append(
            "The manipulation check fails when the probe reads the cue in fewer than "
            f"{pct(100 * float(plan['manipulation_min_recall']), signed=False)} of variants."
        )
    comparisons = inputs.table("comparisons")
    if not comparisons.empty and (comparisons["test"] == PAPER_TEST).any():
        paragraphs.append(
            "For reproduction, comparisons are also tested the paper's way: "
            f"{test_name(PAPER_TEST)}. The table 'The paper's method beside the "
            "corrected analysis' shows where the two disagree."
        )
    if not comparisons.empty and comparisons["metric"].astype(str).str.startswith("paper_").any():
        paragraphs.append(
            "Metrics named paper_* are the authors' own classifier outputs, read from the released files; "
            "they are analysed as recorded, not re-scored."
        )
    return paragraphs


def _mixed_model(mixed: Any) -> str:
    if not mixed:
        return "Mixed model: not fitted in this study."
    if not isinstance(mixed, dict):
        return f"Mixed model: {words(mixed)}."
    rest = {k: v for k, v in mixed.items() if k not in ("formula", "ci_method")}
    formula, ci = words(mixed.get("formula")), words(mixed.get("ci_method"))
    text = f"Mixed model: {formula}, its confidence intervals {ci}"
    return text + (f" ({words(rest)})." if rest else ".")


def scorer_notes(inputs: ReportInputs, empathy: list[str]) -> Table:
    """Which scorer produced each empathy metric, and what the score stage recorded about it."""
    scores = inputs.table("scores")
    made_by = (
        scores.drop_duplicates("metric").set_index("metric")["scorer"].to_dict() if not scores.empty else {}
    )
    derived = inputs.plan.get("derived_metrics") or {}
    values: dict[str, Any] = {}
    for metric in empathy:
        if metric in made_by:
            values[f"{metric} scored by"] = made_by[metric]
        elif metric in derived:
            values[f"{metric}"] = f"derived: {derived[metric]}"
        elif metric.startswith("paper_"):
            values[f"{metric} scored by"] = (
                "the paper's authors (their classifier outputs, read from the release)"
            )
    if "empathy" in inputs.study.scoring.scorers:
        values["configured empathy variant"] = inputs.study.scoring.empathy_variant
    values.update(_flatten(inputs.manifest.get("stages", {}).get("score", {}).get("notes", {})))
    return key_values(values)


# ---------------------------------------------------------------- page


def _gap_tables(comparisons: pd.DataFrame, inputs: ReportInputs, labels: Labels) -> dict[str, Table]:
    return {
        "group_gaps": comparison_table(
            _primary(comparisons, "group_gap"),
            lambda r: [r["metric"], r["responder"], labels.condition(r["condition"]), labels.group(r)],
            ["metric", "responder", "condition", "comparison"],
        ),
        "rate_gaps": comparison_table(
            _primary(comparisons, "rate_gap"),
            lambda r: [r["metric"], r["responder"], labels.condition(r["condition"]), labels.group(r)],
            ["rate", "responder", "condition", "comparison"],
        ),
        "condition_gaps": comparison_table(
            _primary(comparisons, "condition_gap"),
            lambda r: [
                r["metric"],
                r["responder"],
                f"{labels.condition(r['condition'])} vs {labels.condition(r['reference'])}"
                + _group_suffix(r["group"]),
            ],
            ["metric", "responder", "comparison"],
        ),
        "responder_gaps": comparison_table(
            _primary(comparisons, "responder_gap"),
            lambda r: [
                r["metric"],
                labels.condition(r["condition"]),
                f"{r['responder']} vs {r['reference']}" + _group_suffix(r["group"]),
            ],
            ["metric", "condition", "comparison"],
        ),
        "paper": paper_table(inputs, labels, comparisons),
    }


def gap_tables(
    inputs: ReportInputs, comparisons: pd.DataFrame, empathy: list[str], labels: Labels
) -> dict[str, dict[str, Table]]:
    """The comparison tables of the empathy metrics (shown), and of every other metric (folded)."""
    if comparisons.empty or not empathy:
        return {"focus": _gap_tables(comparisons, inputs, labels), "other": {}}
    focus = comparisons["metric"].isin(empathy) | comparisons["kind"].eq("rate_gap")
    return {
        "focus": _gap_tables(comparisons[focus], inputs, labels),
        "other": _gap_tables(comparisons[~focus], inputs, labels),
    }


def build_page(inputs: ReportInputs) -> tuple[str, list[Figure]]:
    """The HTML page and its figures."""
    responses, comparisons = inputs.table("responses"), inputs.table("comparisons")
    labels = Labels(_suspect_conditions(responses) if not responses.empty else set())
    empathy = empathy_metrics(inputs)
    colours = group_colours(inputs)
    figs = figures(inputs, empathy, colours, labels)
    responders = sorted(responses["responder"].dropna().unique()) if not responses.empty else []
    local = [r for r in responders if r.startswith("local:")]
    manipulation, manipulation_caption = manipulation_table(inputs)
    crisis, crisis_caption = crisis_table(inputs)
    harm_flags, harm_flags_caption = harm_flags_table(inputs)
    context = {
        "title": inputs.study.report.title or f"carelens report: {inputs.study.study.name}",
        "study": inputs.study.study,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run_path": str(inputs.run_path),
        "stand_in": STAND_IN.format(names=", ".join(local)) if local else "",
        "recorded": [r for r in responders if r.startswith("recorded:")],
        "suspects": sorted(labels.suspects),
        "headline": headline(inputs, empathy),
        "verdicts": verdict_rows(inputs),
        "facts": study_facts(inputs),
        "stages": stages_table(inputs.manifest),
        "versions": key_values(inputs.manifest.get("versions", {})),
        "study_text": inputs.study_text,
        "response_counts": response_counts(responses),
        "group_counts": group_counts(inputs.table("assignments")),
        "exclusions": exclusion_reasons(inputs.table("assignments")),
        "figures": figs,
        "group_colours": [(g, colours(g)) for g in list(colours.order)],
        "empathy": empathy,
        "reference": inputs.reference,
        "unit": inputs.plan.get("unit", "post"),
        "family": family_text(inputs.plan),
        "correction": inputs.plan.get("correction", ""),
        "gaps": gap_tables(inputs, comparisons, empathy, labels),
        "models": models_tables(inputs.table("models"), labels),
        "has_paper": not comparisons.empty and (comparisons["test"] == PAPER_TEST).any(),
        "defects": defects_table(inputs),
        "rates": rates_table(inputs.table("descriptives")),
        "crisis": crisis,
        "crisis_caption": crisis_caption,
        "harm_flags": harm_flags,
        "harm_flags_caption": harm_flags_caption,
        "manipulation": manipulation,
        "manipulation_caption": manipulation_caption,
        "agreement": _agreement(inputs.agreement) if inputs.agreement else None,
        "methods": methods(inputs),
        "scorer_notes": scorer_notes(inputs, empathy),
        "examples": examples(inputs, empathy, labels),
        "descriptives": descriptives_table(inputs.table("descriptives"), labels),
    }
    env = Environment(
        loader=PackageLoader("carelens.report", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2"), default_for_string=True, default=True
        ),
    )
    return env.get_template("report.html.j2").render(**context), figs
