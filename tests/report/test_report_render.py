"""The report stage over hand-built analysis tables: what the page shows, the files it writes."""

import ast
import base64
import html as html_lib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import PLAN, RISK_SENTENCE, RULE, VERDICT_ROWS, RunFactory

from carelens.report import plots, render
from carelens.report import stage as report_stage
from carelens.report.stage import report
from carelens.store import RunDir

PNG = b"\x89PNG\r\n\x1a\n"
REPORT_PACKAGE = Path(__file__).parents[2] / "src" / "carelens" / "report"
OTHER_STAGES = ("analysis", "demographics", "generation", "scoring", "datasets", "review", "llm", "execution")


def _page(ctx: object) -> str:
    report(ctx)  # type: ignore[arg-type]
    html = (ctx.run.path / "report.html").read_text(encoding="utf-8")  # type: ignore[attr-defined]
    assert "forum_<wbr>with_<wbr>demographics" in html  # table cells may break after underscores
    return html.replace("<wbr>", "")


def _text(html: str) -> str:
    """The page's text: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def test_report_imports_no_other_stage() -> None:
    imported = []
    for path in REPORT_PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.append(node.module)
    assert imported and "carelens.tables" in imported
    bad = [m for m in imported if m.split(".")[:2] in (["carelens", s] for s in OTHER_STAGES)]
    assert not bad, bad


def test_report_writes_page_figures_and_csvs(report_run: RunFactory) -> None:
    ctx = report_run()
    assert report(ctx) == {}
    run = ctx.run.path
    html = (run / "report.html").read_text(encoding="utf-8")
    figures = sorted((run / "figures").glob("*.png"))
    assert {f.stem for f in figures} == {
        "responders_vs_peer_empathy_er",
        "responders_vs_peer_empathy_ip",
        "responders_vs_peer_empathy_all",
        "forest_empathy_er",
        "forest_empathy_ip",
    }
    assert all(f.read_bytes().startswith(PNG) for f in figures)
    embedded = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert {base64.b64decode(e) for e in embedded} == {f.read_bytes() for f in figures}
    comparisons = pd.read_csv(run / "comparisons.csv")
    assert len(comparisons) == len(ctx.run.read_table("comparisons"))
    assert list(pd.read_csv(run / "verdicts.csv")["verdict"]) == [v[2] for v in VERDICT_ROWS]
    assert not (run / "findings.csv").exists() and not (run / "findings.parquet").exists()
    assert ctx.notes["figures"] == [f.name for f in figures]


def test_report_is_self_contained(report_run: RunFactory) -> None:
    html = _page(report_run())
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html and "<link" not in html and "@import" not in html


def test_verdicts_come_first_one_row_per_guideline_and_responder(report_run: RunFactory) -> None:
    html = _page(report_run())
    assert html.index('id="verdicts"') < html.index('id="study"') < html.index('id="figures"')
    verdicts = html[html.index('id="verdicts"') : html.index('id="study"')]
    badges = re.findall(r'<span class="badge (v-[a-z_]+)">([a-z ]+)</span>', verdicts)
    assert badges == [
        ("v-fail", "fail"),
        ("v-warn", "warn"),
        ("v-inconclusive", "inconclusive"),
        ("v-pass", "pass"),
        ("v-not_assessed", "not assessed"),
    ]
    for _, title, _, evidence, caveat in VERDICT_ROWS:
        assert title in verdicts and evidence in verdicts and caveat in verdicts
    assert verdicts.count('<td class="one">recorded:gpt-4</td>') == 5


def test_verdict_colours_mean_verdicts_only(report_run: RunFactory) -> None:
    html = _page(report_run())
    style = html[html.index("<style>") : html.index("</style>")]
    for name in ("pass", "warn", "fail", "inconclusive", "na"):
        users = [line for line in style.splitlines() if f"var(--{name})" in line]
        assert users and all(".badge" in line for line in users), (name, users)
    # a significant test is marked by weight and a mark, a negative gap by its sign: no colour class
    assert 'class="num neg"' not in html and "td.neg" not in style
    assert re.search(r"td\.sig \{ font-weight: 700; \}", style)


def test_headline_states_the_papers_finding_and_what_survives(report_run: RunFactory) -> None:
    text = _text(_page(report_run()))
    assert "The paper's method (Student's t on single replies, uncorrected) finds:" in text
    # the paper's gaps are -8.8, -13.1 and -16.2 %; p < .05 in two conditions, neither significant on posts
    assert (
        "recorded:gpt-4 empathy_ER lower for black than white posters in 3 of 3 conditions "
        "(-8.8% to -16.2%), significantly (p < 0.05, uncorrected) in 2; of these 2, 0 survive the "
        "corrected post-level test." in text
    )
    assert f"tests post means and applies holm correction over {PLAN['family']} (14 tests)." in text


def test_no_headline_without_the_papers_method(report_run: RunFactory) -> None:
    html = _page(report_run(paper=False))
    assert 'id="headline"' not in html and 'id="paper"' not in html


def test_methods_are_generated_from_the_plan(report_run: RunFactory) -> None:
    ctx = report_run()
    text = _text(_page(ctx))
    methods = text[text.index("Methods Design:") :]
    for expected in (
        "The unit of analysis is the post",
        "paired t-test (effect size: Cohen's d_z)",
        "Welch's t-test (effect size: Hedges' g)",
        "Mann-Whitney U test (effect size: Cliff's delta)",
        "Wilcoxon signed-rank test (effect size: matched-pairs rank-biserial r)",
        f"Correction: holm at alpha 0.05. The family: {PLAN['family']} (14 tests)",
        "percentile bootstrap resampling posts (2000 bootstrap resamples; 9999 permutations)",
        "Mixed model: value ~ group * condition + (1 | post), its confidence intervals Wald.",
        "empathy_ALL = mean of ER, IP and EX of each reply",
        "empathy_IP: the 64-token classifier truncates long replies",
        "Replies not analysed: status refused: 1",
        "fewer than 50.0% of variants",
        "Student's t on single replies, uncorrected (the paper's method)",
    ):
        assert expected in methods, expected
    # another plan, another Methods: nothing is written by hand
    manifest = ctx.run.manifest()
    manifest["stages"]["analyze"]["notes"]["plan"] = PLAN | {
        "correction": "fdr_bh",
        "family": "each metric's group gaps",
        "mixed_model": None,
    }
    ctx.run.write_manifest(manifest)
    text = _text(_page(ctx))
    assert "Correction: fdr_bh at alpha 0.05. The family: each metric's group gaps" in text
    assert "Mixed model: not fitted in this study." in text


def test_undefined_percent_gap_shows_the_raw_difference(report_run: RunFactory) -> None:
    text = _text(_page(report_run()))
    assert "undefined (reference mean 0); Δ +0.200" in text  # empathy_IP: reference mean 0
    assert "undefined (reference mean 0); Δ +0.250" in text  # the refusal rate gap
    assert "-100.0%" not in text


def test_group_gap_table_marks_significance_without_colour(report_run: RunFactory) -> None:
    html = _page(report_run())
    gaps = html[html.index('id="gaps"') : html.index('id="conditions"')]
    assert '<td class="num sig">0.020 ●</td>' in gaps  # forum_with_demographics: significant after holm
    assert '<td class="num">0.090</td>' in gaps
    assert "g -0.33 [-1.60, 0.90]" in gaps and "±0.71 (79.0%)" in gaps
    assert "4 / 4 (4 / 4 replies)" in gaps


def test_models_terms_are_named_with_their_ci_method(report_run: RunFactory) -> None:
    models = _page(report_run()).split('id="models"')[1].split("</section>")[0]
    assert "main effect: black vs white, averaged over conditions" in models
    assert "simple effect: black vs white within social_media" in models
    assert "condition social_media against the reference condition" in models
    assert "-0.140 [-0.340, 0.060]" in models and "Wald" in models
    assert "percentile bootstrap resampling posts" in models
    main, rest = models.split("<details>")
    assert "main effect: black vs white" in main and "condition social_media against" in main
    assert "simple effect: " not in main and "simple effect: " in rest
    assert main.count("post variance 0.040") == 1 and rest.count("post variance 0.040") == 1
    assert models.count(">Wald<") == 2  # a CI method is printed where it changes


def test_papers_method_beside_the_corrected_test(report_run: RunFactory) -> None:
    paper = _page(report_run()).split('id="paper"')[1].split("</section>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", paper)[1:]
    assert len(rows) == 3
    forum = next(r for r in rows if "forum_with_demographics ⚠" in r)
    assert "-16.2%" in forum and ">0.200<" in forum and "0.020 ●" in forum and ">no<" in forum
    assert "40 / 38" in forum and "-16.6% [-55.0%, +22.0%]" in forum


def test_examples_show_scores_and_evidence(report_run: RunFactory) -> None:
    html = _page(report_run())
    examples = html.split('id="examples"')[1].split("</section>")[0]
    assert examples.count('class="example"') == 4  # one per group and responder
    assert examples.count("<b>empathy_ER ") == 4 and examples.count("<b>empathy_IP ") == 4
    # a sentence of the reply is quoted; any other basis (a rule, a source column) is named, not quoted
    quotes = re.findall(r"evidence: <q>([^<]+)</q>", examples)
    assert sorted(quotes) == ["hang in there."] * 2 + ["that sounds exhausting."] * 2
    assert examples.count(f"from {RULE}") == 4 and f"<q>{RULE}" not in examples


def test_examples_without_an_evidence_column_show_scores_only(report_run: RunFactory) -> None:
    ctx = report_run(evidence=False)
    assert "evidence" not in pd.read_parquet(ctx.run.table_path("scores")).columns  # an older run
    examples = _page(ctx).split('id="examples"')[1].split("</section>")[0]
    assert examples.count("<b>empathy_ER ") == 4 and "evidence:" not in examples


def test_group_counts_and_exclusions_come_from_assignments(report_run: RunFactory) -> None:
    study = _page(report_run()).split('id="study"')[1].split("</section>")[0]
    assert "status refused" in study
    # recorded:gpt-4, black: 12 replies, 11 analysed (one refusal), 4 posts
    assert re.search(
        r"recorded:gpt-4</td><td>all</td><td>black</td><td[^>]*>4</td><td[^>]*>11</td>"
        r"<td[^>]*>1</td>",
        study,
    )


def test_crisis_and_manipulation_tables(report_run: RunFactory) -> None:
    html = _page(report_run(manipulation=True))
    safety = html.split('id="safety"')[1].split("</section>")[0]
    assert "high" in safety and "33.3%" in safety and "not scored" in safety
    assert "rate_refused" in safety and "25.0%" in safety
    manipulation = html.split('id="manipulation"')[1].split("</section>")[0]
    assert "12.5%" in manipulation and "fewer than 50.0% of variants" in manipulation


def test_replies_rated_harmful_are_listed_with_their_deciding_sentences(report_run: RunFactory) -> None:
    safety = _page(report_run(harm_flags=True)).split('id="safety"')[1].split("</section>")[0]
    listing = safety.split("Replies rated harmful")[1]
    assert "rated harmful: 2, of them 1 to posts it rates at risk" in listing
    rows = re.findall(r"<tr>(.*?)</tr>", listing, re.S)[1:]
    assert len(rows) == 2
    assert "high" in rows[0] and "see you on the other side" in rows[0] and RISK_SENTENCE in rows[0]
    assert "not at risk" in rows[1] and "a fatal dose" in rows[1] and RISK_SENTENCE not in rows[1]
    assert "Replies rated harmful" not in _page(report_run())  # no safety scores, no listing


def test_a_long_harm_listing_says_what_it_leaves_out(report_run: RunFactory, monkeypatch) -> None:
    monkeypatch.setattr(render, "HARM_ROWS", 1)
    listing = _page(report_run(harm_flags=True)).split("Replies rated harmful")[1]
    assert "The first 1 are shown; all are in the scores table." in listing
    assert len(re.findall(r"<tr>", listing.split("</table>")[0])) == 2


def test_missing_crisis_and_manipulation_tables_are_said(report_run: RunFactory) -> None:
    html = _page(report_run(crisis=False))
    assert "Not assessed: the safety scorer &#39;safety&#39; did not run" in html
    assert "No probe ran in this study" in html


def test_stand_in_banner_only_for_the_embedded_model(report_run: RunFactory) -> None:
    assert "Stand-in model." not in _page(report_run())
    html = _page(report_run(responder="local:smollm2-135m"))
    assert "Stand-in model." in html and "local:smollm2-135m" in html


def test_texts_are_escaped(report_run: RunFactory) -> None:
    html = _page(report_run(texts='<script>alert("owned")</script><img src=x onerror=alert(1)>'))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in html


def test_suspected_label_swap_is_flagged(report_run: RunFactory) -> None:
    html = _page(report_run())
    assert "forum_with_demographics ⚠" in html
    assert "prompt-condition label probably swapped in the release" in html


def test_clinician_agreement_is_shown_when_present(report_run: RunFactory) -> None:
    ctx = report_run()
    assert "Clinician agreement" not in _page(ctx)
    agreement = {
        "n_items": 50,
        "raters": ["r1", "r2"],
        "questions": {
            "ER": {
                "scale": "ordinal",
                "n_items": 50,
                "n_answers": 100,
                "na": {"total": 0},
                "alpha": 0.61,
                "alpha_ci": [0.4, 0.75],
                "pairs": [{"raters": ["r1", "r2"], "exact": 0.7, "kappa": 0.5, "kappa_quadratic": 0.64}],
            }
        },
        "ai_guess": {
            "r1": {"n": 50, "correct": 31, "accuracy": 0.62, "ci": [0.48, 0.74], "p_vs_chance": 0.119}
        },
        "scorer_validity": {},
        "notes": ["a note for the reader"],
    }
    path = ctx.run.path / "review" / "agreement.json"
    path.parent.mkdir()
    path.write_text(json.dumps(agreement), encoding="utf-8")
    html = _page(ctx)
    assert "Clinician agreement" in html and "0.610" in html and "0.640" in html
    assert "a note for the reader" in html


def test_a_failed_render_leaves_the_earlier_report(
    report_run: RunFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = report_run()
    report(ctx)
    run: Path = ctx.run.path
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and "tables" not in p.parts}

    def broken(_: object) -> None:
        raise RuntimeError("render failed")

    monkeypatch.setattr(report_stage, "build_page", broken)
    with pytest.raises(RuntimeError):
        report(ctx)
    after = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and "tables" not in p.parts}
    assert after == before
    assert not [p for p in run.iterdir() if p.name.startswith(".")]


def test_report_of_a_run_that_compared_nothing(report_run: RunFactory) -> None:
    """Empty analysis tables and no plan still give a readable page that says so."""
    ctx = report_run(crisis=False)
    run: RunDir = ctx.run
    for name in ("scores", "descriptives", "comparisons", "models", "verdicts"):
        run.write_table(name, run.read_table(name).iloc[0:0])
    run.write_manifest({"stages": {}})
    html = _page(ctx)
    assert "No empathy metric was scored" in html
    assert "The analysis judged no guideline in this run." in html
    assert "recorded no plan" in html


def test_intervals_are_clipped_to_the_scale_and_colours_are_fixed() -> None:
    assert plots.clip(-0.12, 1.2, (0.0, 2.0)) == (0.0, 1.2)
    assert plots.clip(1.5, 2.4, (0.0, 2.0)) == (1.5, 2.0)
    assert plots.clip(-3.0, 3.0, None) == (-3.0, 3.0)
    colours = plots.GroupColours(["white", "black"])
    assert colours("white") == plots.PALETTE[0] and colours("asian") == plots.PALETTE[2]
    assert colours("black") == plots.PALETTE[1]


def test_evidence_with_a_decision_label_is_quoted_from_the_reply() -> None:
    from carelens.report.render import _quoted

    reply = "I am sorry. Can you tell me more about what happened?"
    score = {
        "metric": "EX",
        "value": "1.00",
        "evidence": ["level 1 (P = 0.53): Can you tell me more", "pred_EX"],
    }
    shown = _quoted(score, reply)
    assert shown["quotes"] == [{"label": "level 1 (P = 0.53)", "text": "Can you tell me more"}]
    assert shown["basis"] == ["pred_EX"]
