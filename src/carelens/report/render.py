"""The report: one self-contained HTML page (figures inlined as base64 PNG, CSS inline, no network).

Everything the page prints goes through Jinja2 with autoescaping on, post and reply texts included.
"""

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from carelens import __version__
from carelens.analysis import groups as analysis_groups
from carelens.analysis.compare import PAPER_TEST
from carelens.analysis.groups import ALL, ORIGINAL, AnalysisData
from carelens.analysis.guidelines import empathy_metrics
from carelens.analysis.paper_scores import parse_meta
from carelens.analysis.safety import crisis_outcomes
from carelens.config import Study
from carelens.demographics.manipulation import manipulation_table
from carelens.report import plots
from carelens.report.display import (
    Cell,
    Table,
    comparison_table,
    frame_table,
    interval,
    num,
    pct,
    pval,
    significance_cell,
)

STAND_IN = (
    "Replies from {names} come from the small model embedded in carelens (SmolLM2-135M-Instruct), "
    "a stand-in that shows the pipeline runs end to end. They are not a research finding: do not "
    "read their figures as evidence about language models in mental-health support."
)
VERDICT_CSS = {"pass": "pass", "warn": "warn", "fail": "fail", "not assessed": "na"}


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
    """What the report reads from a run."""

    study: Study
    study_text: str
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    run_path: Path
    agreement: dict[str, Any] | None = None
    figures: list[Figure] = field(default_factory=list)

    @property
    def findings(self) -> pd.DataFrame:
        return self.tables["findings"]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def _primary(findings: pd.DataFrame, kind: str) -> pd.DataFrame:
    rows = findings[(findings["kind"] == kind) & findings["primary"].fillna(False).astype(bool)]
    return rows.sort_values(["metric", "model", "condition", "stratum", "group"])


def _suspect_conditions(responses: pd.DataFrame) -> set[str]:
    """Conditions whose released labels are flagged as probably swapped (``meta.label_swap_suspected``)."""
    metas, _ = parse_meta(responses["meta"])
    return {c for c, m in zip(responses["condition"], metas, strict=True) if m.get("label_swap_suspected")}


def _condition_label(condition: str, suspects: set[str]) -> str:
    return f"{condition} ⚠" if condition in suspects else condition


def analysis_data(inputs: ReportInputs) -> AnalysisData:
    """The run's responses with their groups, exactly as the analysis assigned them."""
    t, a = inputs.tables, inputs.study.analysis
    return analysis_groups.build(
        t["responses"],
        t["variants"],
        t["inferences"],
        t["scores"],
        inputs.study.demographics,
        a,
        a.seed if a.seed is not None else inputs.study.study.seed,
    )


def _plot_caption(metric: str, frame: pd.DataFrame, unit: str) -> str:
    if plots.is_discrete(frame["value"]):
        return (
            f"Mean {metric} ({unit}) with 95% t intervals: the metric has few levels, so box plots "
            "would collapse onto them."
        )
    return f"Box plots of {metric} ({unit}); diamonds are means."


def _figures(inputs: ReportInputs, data: AnalysisData, empathy: list[str]) -> list[Figure]:
    """Empathy by group and condition per responder, models against peers, and forest plots of gaps."""
    findings, aggregate, peer = inputs.findings, inputs.study.analysis.aggregate, inputs.study.analysis.peer
    unit = "post means" if aggregate == "post" else "single replies"
    observations = data.observations
    order = [data.reference] + sorted(set(observations["group"]) - {data.reference})
    out: list[Figure] = []
    for metric in empathy:
        rows = observations[(observations["metric"] == metric) & (observations["responder"] != peer)]
        for model, frame in rows.groupby("responder"):
            cued = ~frame["stratum"].isin([ALL, ORIGINAL])
            frame = frame.assign(
                group=np.where(cued, frame["stratum"] + ": " + frame["group"], frame["group"])
            )
            x_order = [g for g in order if g in set(frame["group"])] + sorted(
                set(frame["group"]) - set(order)
            )
            out.append(
                Figure(
                    f"empathy_{_slug(metric)}_{_slug(str(model))}",
                    f"{metric} of {model} by group and prompt condition",
                    f"{_plot_caption(metric, frame, unit)} Reference group: {data.reference}.",
                    plots.group_plot(
                        frame, "group", "condition", f"{metric} — {model}", metric, aggregate, x_order
                    ),
                )
            )
    for metric in empathy:
        rows = observations[observations["metric"] == metric]
        if peer not in set(rows["responder"]) or rows["responder"].nunique() < 2:
            continue
        is_peer = rows["responder"] == peer
        frame = rows.assign(who=np.where(is_peer, peer, rows["responder"] + "\n" + rows["condition"]))
        who_order = [peer] + sorted(set(frame["who"]) - {peer})
        out.append(
            Figure(
                f"llm_vs_peer_{_slug(metric)}",
                f"{metric}: language models against peers",
                f"{_plot_caption(metric, frame, unit)} Per responder and prompt condition, peers "
                "first, coloured by group.",
                plots.group_plot(
                    frame, "who", "group", f"{metric}: LLM vs peer", metric, aggregate, who_order
                ),
            )
        )
    gaps = _primary(findings, "group_gap")
    for metric, rows in gaps.groupby("metric"):
        if metric not in empathy and len(empathy):
            continue
        stratum = np.where(rows["stratum"].isin([ALL, ORIGINAL]), "", rows["stratum"] + " · ")
        rows = rows.assign(label=rows["model"] + " · " + rows["condition"] + " · " + stratum + rows["group"])
        out.append(
            Figure(
                f"forest_{_slug(str(metric))}",
                f"Group gaps in {metric}",
                f"% difference of each group's {metric} from '{data.reference}' "
                f"({rows['test'].iloc[0]}; bootstrap CI resampling posts); red: significant after "
                f"{inputs.study.analysis.correction} correction.",
                plots.forest(rows, f"{metric}: gaps against '{data.reference}'"),
            )
        )
    return out


def _verdicts(findings: pd.DataFrame) -> list[dict[str, str]]:
    rows = findings[findings["kind"] == "guideline"]
    return [
        {
            "title": r.title,
            "verdict": r.verdict,
            "css": VERDICT_CSS.get(r.verdict, "na"),
            "evidence": r.evidence,
            "guideline": r.note,
        }
        for r in rows.itertuples()
    ]


def _study_facts(inputs: ReportInputs, data: AnalysisData) -> Table:
    s, a = inputs.study, inputs.study.analysis
    notes = inputs.manifest.get("stages", {}).get("analyze", {}).get("notes", {})
    facts = [
        ("study", s.study.name),
        ("description", s.study.description or "–"),
        ("data", ", ".join(d.dataset or d.file or "?" for d in s.data)),
        ("responders", ", ".join(s.generation.responders)),
        ("conditions", ", ".join(s.generation.conditions)),
        ("demographic design", data.design),
        ("groups from", data.group_source),
        ("reference group", data.reference),
        ("aggregation", a.aggregate),
        ("tests (paired / independent)", f"{a.paired_test} / {a.independent_test}"),
        ("correction", f"{a.correction} over family '{a.family}', alpha {a.alpha}"),
        ("scorers", ", ".join(s.scoring.scorers)),
        ("seed", str(notes.get("seed", a.seed or s.study.seed))),
        ("study file sha256", str(inputs.manifest.get("study", {}).get("sha256", "–"))),
        ("git commit", str(inputs.manifest.get("git_commit") or "–")),
        ("carelens", __version__),
    ]
    table = Table(["", ""])
    table.rows = [[Cell(k), Cell(v)] for k, v in facts]
    return table


def _stages(manifest: dict[str, Any]) -> Table:
    table = Table(["stage", "status", "ended", "seconds", "rows"])
    for name, entry in manifest.get("stages", {}).items():
        rows = ", ".join(f"{k}: {v}" for k, v in entry.get("rows", {}).items())
        table.rows.append(
            [
                Cell(name),
                Cell(str(entry.get("status", ""))),
                Cell(str(entry.get("ended", ""))),
                Cell(num(entry.get("seconds"), 1)),
                Cell(rows),
            ]
        )
    return table


def _key_values(values: dict[str, Any]) -> Table:
    table = Table(["", ""])
    for key, value in values.items():
        text = (
            json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else str(value)
        )
        table.rows.append([Cell(str(key)), Cell(text)])
    return table


def _response_counts(responses: pd.DataFrame) -> Table:
    pivot = responses.pivot_table(
        index=["responder", "condition"],
        columns="status",
        values="response_id",
        aggfunc="count",
        fill_value=0,
    )
    pivot["total"] = pivot.sum(axis=1)
    return frame_table(pivot.reset_index(), formats={c: lambda v: num(v, 0) for c in pivot.columns})


def _group_counts(data: AnalysisData) -> Table:
    frame = data.responses[data.responses["status"] == "ok"]
    counts = (
        frame.groupby(["stratum", "group"])
        .agg(posts=("post_id", "nunique"), replies=("response_id", "count"))
        .reset_index()
    )
    return frame_table(counts)


def _label_gap(row: pd.Series, suspects: set[str]) -> list[str]:
    stratum = "" if row["stratum"] in (ALL, ORIGINAL) else f"{row['stratum']}: "
    return [
        row["metric"],
        row["model"],
        _condition_label(row["condition"], suspects),
        f"{stratum}{row['group']} vs {row['reference']}",
    ]


def _paper_table(findings: pd.DataFrame, suspects: set[str], alpha: float) -> Table:
    """The paper's Student t (uncorrected) beside the study's corrected primary test, per comparison."""
    key = ["kind", "metric", "model", "condition", "stratum", "group", "reference"]
    kinds = findings["kind"].isin(["group_gap", "responder_gap"])
    paper = findings[kinds & (findings["test"] == PAPER_TEST)]
    primary = findings[kinds & findings["primary"].fillna(False).astype(bool)]
    merged = paper.merge(primary, on=key, suffixes=("_paper", ""))
    table = Table(
        [
            "metric",
            "responder",
            "condition",
            "comparison",
            "paper: n",
            "paper: % diff",
            "paper: p",
            "carelens: test",
            "carelens: % diff [CI]",
            "carelens: p adj.",
            "verdicts agree",
        ]
    )
    for _, row in merged.sort_values(key).iterrows():
        paper_sig = bool(row["p_paper"] < alpha) if pd.notna(row["p_paper"]) else False
        ours = row["significant"] is True
        what = (
            f"{row['model']} vs {row['reference']}"
            if row["kind"] == "responder_gap"
            else _label_gap(row, suspects)[3]
        )
        table.rows.append(
            [
                Cell(row["metric"], "label"),
                Cell(row["model"], "label"),
                Cell(_condition_label(row["condition"], suspects), "label"),
                Cell(what, "label"),
                Cell(f"{num(row['n_paper'], 0)} / {num(row['ref_n_paper'], 0)}", "num"),
                Cell(pct(row["pct_diff_paper"]), "num"),
                Cell(pval(row["p_paper"]), "num sig" if paper_sig else "num"),
                Cell(str(row["test"]), "num"),
                Cell(f"{pct(row['pct_diff'])} {interval(row['pct_ci_low'], row['pct_ci_high'], pct)}", "num"),
                Cell(pval(row["p_adj"]), "num sig" if ours else "num"),
                Cell("yes" if paper_sig == ours else "no", "num" if paper_sig == ours else "num neg"),
            ]
        )
    return table


def _defects(inputs: ReportInputs) -> Table:
    """Data defects found by the parsers: flagged rows per table, and each source's cleaning counts."""
    table = Table(["where", "defect or cleaning step", "count"])
    for name in ("posts", "variants"):
        flagged = inputs.tables[name]["defects"].fillna("")
        for label, count in flagged[flagged != ""].str.split(";").explode().value_counts().items():
            table.rows.append([Cell(name), Cell(str(label)), Cell(num(count, 0), "num")])
    metas, unreadable = parse_meta(inputs.tables["responses"]["meta"])
    swapped = sum(bool(m.get("label_swap_suspected")) for m in metas)
    if swapped:
        table.rows.append(
            [
                Cell("responses"),
                Cell(
                    "prompt-condition label probably swapped in the release "
                    "(forum with / without demographics): kept, marked ⚠"
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
            table.rows.append([Cell(str(name)), Cell(key.replace("_", " ")), Cell(str(value), "num")])
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


def _rates(findings: pd.DataFrame) -> Table:
    rows = findings[(findings["kind"] == "rate") & (findings["mean"] > 0)]
    frame = rows[
        ["metric", "model", "condition", "stratum", "group", "n", "mean", "mean_ci_low", "mean_ci_high"]
    ]
    frame = frame.rename(
        columns={"model": "responder", "mean": "rate", "mean_ci_low": "CI low", "mean_ci_high": "CI high"}
    )
    return frame_table(
        frame.sort_values(["metric", "responder", "condition", "group"]),
        formats={
            "rate": lambda v: pct(100 * v, signed=False),
            "n": lambda v: num(v, 0),
            "CI low": lambda v: pct(100 * v, signed=False),
            "CI high": lambda v: pct(100 * v, signed=False),
        },
    )


def _manipulation(inputs: ReportInputs) -> tuple[Table | None, str]:
    variants, inferences = inputs.tables["variants"], inputs.tables["inferences"]
    if inferences.empty:
        return None, "No probe ran in this study, so there is no manipulation check."
    table = manipulation_table(variants, inferences)
    percent = {
        c: (lambda v: pct(100 * v, signed=False))
        for c in ("recall", "ci_low", "ci_high", "recall_ok", "original_rate")
    }
    return frame_table(table, formats={**percent, "lift": lambda v: pct(100 * v)}), (
        "How often the probe recovers the cued group (recall, Wilson 95% CI), against how often it assigns "
        "that group to the unchanged originals; lift is what the cue adds."
    )


def _crisis(inputs: ReportInputs, data: AnalysisData) -> tuple[Table | None, str]:
    outcomes = crisis_outcomes(data, inputs.tables["scores"], inputs.study.analysis.guidelines)
    if outcomes is None:
        return None, "Not assessed: the safety scorer did not run in this study."
    if outcomes.empty:
        return None, "No post in this run signals suicide or self-harm risk."
    return frame_table(outcomes, formats={"unsafe_share": lambda v: pct(100 * v, signed=False)}), (
        "Replies to posts that signal crisis risk, and how many carry none of the safety items."
    )


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


def _examples(inputs: ReportInputs, data: AnalysisData, empathy: list[str]) -> list[dict[str, Any]]:
    """A few replies per group and responder, chosen reproducibly, with their empathy scores."""
    per_group = inputs.study.report.examples_per_group
    if per_group == 0:
        return []
    ok = data.responses[data.responses["status"] == "ok"]
    posts = inputs.tables["variants"].set_index("variant_id")["text"]
    post_text = inputs.tables["posts"].set_index("post_id")["text"]
    scores = data.observations[data.observations["metric"].isin(empathy)]
    by_response = (
        scores.groupby("response_id").apply(
            lambda f: ", ".join(f"{m} {num(v, 2)}" for m, v in zip(f["metric"], f["value"], strict=True)),
            include_groups=False,
        )
        if not scores.empty
        else pd.Series(dtype=str)
    )
    out = []
    rng = np.random.default_rng(inputs.study.study.seed)
    for (stratum, group, _), frame in ok.groupby(["stratum", "group", "responder"]):
        chosen = frame.iloc[sorted(rng.choice(len(frame), size=min(per_group, len(frame)), replace=False))]
        for row in chosen.itertuples():
            shown = posts.get(row.variant_id)
            shown = shown if isinstance(shown, str) else post_text.get(row.post_id, "")
            out.append(
                {
                    "group": group if stratum in (ALL, ORIGINAL) else f"{stratum}: {group}",
                    "responder": row.responder,
                    "condition": row.condition,
                    "post": _clip(str(shown), 900),
                    "reply": _clip(str(row.text), 1800),
                    "scores": by_response.get(row.response_id, ""),
                }
            )
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def _methods(inputs: ReportInputs, data: AnalysisData, ref_condition: str | None) -> list[str]:
    a = inputs.study.analysis
    level = f"{100 * (1 - a.alpha):g}%"
    unit = (
        "each post's replies were averaged first, so every post weighs the same"
        if a.aggregate == "post"
        else "every reply weighs the same, so posts with more replies weigh more (the paper's choice)"
    )
    exclusions = ", ".join(
        f"{k.replace('_', ' ')}: {v}"
        for k, v in sorted(data.counts.items())
        if v and not k.startswith("responses_ok")
    )
    family = {
        "study": "all of the study's comparisons",
        "kind": "each kind of comparison",
        "metric": "each kind of comparison and metric",
    }[a.family]
    reference = f", the reference prompt condition '{ref_condition}'" if ref_condition else ""
    model_scope = " and cue kind" if data.design == "counterfactual" else ""
    disabled = "" if a.mixed_model else " (disabled in this study)"
    paragraphs = [
        f"Design: {data.design}. Groups come from {data.group_source}; the reference group is "
        f"'{data.reference}'{reference}, and every responder is also compared with '{a.peer}'. Only "
        "replies with status 'ok' are scored; refusals, content-filter blocks and errors are analysed as "
        f"rates by group. Counts: {exclusions or 'none'}.",
        "Comparisons of the same posts under two cues or conditions are paired: each post's replies are "
        "averaged per side, and the paired t-test, the Wilcoxon signed-rank test and a permutation test "
        f"({a.permutations} resamples, exact for small samples) are run; the effect size is Cohen's d_z "
        "(Cliff's delta beside the rank test). Independent groups are compared with Welch's t, "
        f"Mann-Whitney U and Student's t, on units where {unit}; the effect size is Cohen's d (Cliff's "
        f"delta beside the rank test). The study's primary tests are '{a.paired_test}' (paired) and "
        f"'{a.independent_test}' (independent).",
        f"p-values are adjusted with {a.correction}, each test over {family}, at alpha {a.alpha}. {level} "
        "confidence intervals of differences and effect sizes are percentile intervals of "
        f"{a.bootstrap} bootstrap resamples of posts (a post's replies stay together). Means carry t "
        "intervals.",
        "The mixed model value ~ group × condition + (1 | post) (statsmodels MixedLM, REML) is fitted per "
        f"metric and responder{model_scope}{disabled}. Beside every non-significant comparison the minimal "
        f"detectable difference at {a.power:.0%} power is shown (statsmodels t-test power, at the alpha of "
        "the strictest correction step).",
        "For reproduction, every comparison is also tested the paper's way: Student's t on single replies, "
        "without correction or effect size. The table 'The paper's method beside the corrected analysis' "
        "shows where the two disagree.",
    ]
    if a.paper_scores:
        paragraphs.append(
            "Metrics named paper_* are the authors' own classifier outputs, read from the "
            "released files; they are analysed as recorded, not re-scored."
        )
    return paragraphs


def _mixed_table(mixed: pd.DataFrame) -> Table:
    """One block per fitted model: its size, post variance and fitting note once, then its terms."""
    table = Table(
        [
            "metric",
            "responder",
            "stratum",
            "replies",
            "posts",
            "post variance",
            "term",
            "coef",
            "CI",
            "p",
            "p adj.",
            "note",
        ]
    )
    for (metric, model, stratum), terms in mixed.groupby(["metric", "model", "stratum"], sort=True):
        first = terms.iloc[0]
        head = [
            Cell(str(metric), "label"),
            Cell(str(model), "label"),
            Cell(str(stratum), "label"),
            Cell(num(first["n"], 0), "num"),
            Cell(num(first["n_posts"], 0), "num"),
            Cell(num(first["post_variance"]), "num"),
        ]
        for i, (_, row) in enumerate(terms.iterrows()):
            cells = head if i == 0 else [Cell("") for _ in head]
            cells = cells + [
                Cell(str(row["term"]), "label"),
                Cell(num(row["diff"]), "num"),
                Cell(interval(row["ci_low"], row["ci_high"]), "num"),
                Cell(pval(row["p"]), "num"),
                significance_cell(row),
                Cell(str(row["note"] or "") if i == 0 else ""),
            ]
            table.rows.append(cells)
    return table


def _scorer_notes(inputs: ReportInputs, empathy: list[str]) -> Table:
    """Which scorer produced each empathy metric, and what the score stage recorded about it."""
    scores = inputs.tables["scores"]
    made_by = scores.drop_duplicates("metric").set_index("metric")["scorer"].to_dict()
    values: dict[str, Any] = {}
    for metric in empathy:
        if metric in made_by:
            values[f"{metric} scored by"] = made_by[metric]
        elif metric.startswith("paper_"):
            values[f"{metric} scored by"] = (
                "the paper's authors (their classifier outputs, read from the release)"
            )
    if "empathy" in inputs.study.scoring.scorers:
        values["configured empathy variant"] = inputs.study.scoring.empathy_variant
    values.update(_flatten(inputs.manifest.get("stages", {}).get("score", {}).get("notes", {})))
    return _key_values(values)


def build_page(inputs: ReportInputs) -> tuple[str, list[Figure]]:
    """The HTML page and its figures."""
    data = analysis_data(inputs)
    findings = inputs.findings
    suspects = _suspect_conditions(inputs.tables["responses"])
    empathy = empathy_metrics(data.metrics(), inputs.study.analysis)
    figures = _figures(inputs, data, empathy)
    responders = sorted(inputs.tables["responses"]["responder"].dropna().unique())
    local = [r for r in responders if r.startswith("local:")]
    notes = inputs.manifest.get("stages", {}).get("analyze", {}).get("notes", {})
    conditions = findings[findings["kind"] == "condition_gap"]["reference"]
    ref_condition = str(conditions.iloc[0]) if len(conditions) else None
    manipulation, manipulation_caption = _manipulation(inputs)
    crisis, crisis_caption = _crisis(inputs, data)
    descriptive = findings[findings["kind"] == "descriptive"]
    mixed = findings[findings["kind"] == "mixed"].sort_values(["metric", "model", "stratum"], kind="stable")
    context = {
        "title": inputs.study.report.title or f"carelens report: {inputs.study.study.name}",
        "study": inputs.study.study,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run_path": str(inputs.run_path),
        "stand_in": STAND_IN.format(names=", ".join(local)) if local else "",
        "recorded": [r for r in responders if r.startswith("recorded:")],
        "suspects": sorted(suspects),
        "verdicts": _verdicts(findings),
        "facts": _study_facts(inputs, data),
        "stages": _stages(inputs.manifest),
        "versions": _key_values(inputs.manifest.get("versions", {})),
        "study_text": inputs.study_text,
        "response_counts": _response_counts(inputs.tables["responses"]),
        "group_counts": _group_counts(data),
        "figures": figures,
        "empathy": empathy,
        "reference": data.reference,
        "design": data.design,
        "group_gaps": comparison_table(
            _primary(findings, "group_gap"),
            lambda r: _label_gap(r, suspects),
            ["metric", "responder", "condition", "comparison"],
        ),
        "condition_gaps": comparison_table(
            _primary(findings, "condition_gap"),
            lambda r: [
                r["metric"],
                r["model"],
                f"{_condition_label(r['condition'], suspects)} vs "
                f"{_condition_label(r['reference'], suspects)}",
            ],
            ["metric", "responder", "comparison"],
        ),
        "responder_gaps": comparison_table(
            _primary(findings, "responder_gap"),
            lambda r: [
                r["metric"],
                _condition_label(r["condition"], suspects),
                f"{r['model']} vs {r['reference']}",
            ],
            ["metric", "condition", "comparison"],
        ),
        "mixed": _mixed_table(mixed),
        "paper": _paper_table(findings, suspects, inputs.study.analysis.alpha),
        "defects": _defects(inputs),
        "rates": _rates(findings),
        "crisis": crisis,
        "crisis_caption": crisis_caption,
        "manipulation": manipulation,
        "manipulation_caption": manipulation_caption,
        "agreement": _agreement(inputs.agreement) if inputs.agreement else None,
        "methods": _methods(inputs, data, ref_condition),
        "scorer_notes": _scorer_notes(inputs, empathy),
        "examples": _examples(inputs, data, empathy),
        "descriptives": frame_table(
            descriptive[
                [
                    "metric",
                    "model",
                    "condition",
                    "stratum",
                    "group",
                    "n",
                    "n_posts",
                    "mean",
                    "sd",
                    "mean_ci_low",
                    "mean_ci_high",
                    "diff",
                    "pct_diff",
                    "mean_per_response",
                    "mean_per_post",
                ]
            ].rename(
                columns={
                    "model": "responder",
                    "mean_ci_low": "CI low",
                    "mean_ci_high": "CI high",
                    "pct_diff": "% diff",
                }
            ),
            formats={"n": lambda v: num(v, 0), "n_posts": lambda v: num(v, 0), "% diff": pct},
        ),
        "aggregate": inputs.study.analysis.aggregate,
        "notes": notes,
    }
    env = Environment(
        loader=PackageLoader("carelens.report", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2"), default_for_string=True, default=True
        ),
    )
    return env.get_template("report.html.j2").render(**context), figures
