"""The report stage: one self-contained page, figures, findings files, escaping, atomic writes."""

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from carelens.analysis.stage import analyze
from carelens.analysis.synthetic import Synthetic, tables
from carelens.config import LoadedStudy, parse_study
from carelens.report import stage as report_stage
from carelens.report.stage import report
from carelens.store import RunDir
from carelens.study import StageContext
from carelens.tables import empty_table

RunFactory = Callable[..., StageContext]

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_writes_page_figures_and_findings(analysed_run: RunFactory) -> None:
    ctx = analysed_run()
    assert report(ctx) == {}
    run = ctx.run.path
    html = (run / "report.html").read_text(encoding="utf-8")
    figures = sorted((run / "figures").glob("*.png"))
    assert {f.stem for f in figures} >= {
        "forest_empathy_er",
        "forest_empathy_ex",
        "llm_vs_peer_empathy_er",
        "empathy_empathy_er_local_smollm2_135m",
    }
    assert all(f.read_bytes().startswith(PNG) for f in figures)
    # every figure is embedded as the same PNG, base64
    embedded = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(embedded) == len(figures)
    assert {base64.b64decode(e) for e in embedded} == {f.read_bytes() for f in figures}
    findings = ctx.run.read_table("findings")
    assert pd.read_parquet(run / "findings.parquet").equals(findings)
    assert len(pd.read_csv(run / "findings.csv")) == len(findings)
    assert ctx.notes["figures"] == [f.name for f in figures]


def test_report_is_self_contained(analysed_run: RunFactory) -> None:
    ctx = analysed_run()
    report(ctx)
    html = (ctx.run.path / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "<style>" in html


def test_report_sections_and_contents(analysed_run: RunFactory) -> None:
    ctx = analysed_run(inferences=True)
    report(ctx)
    html = (ctx.run.path / "report.html").read_text(encoding="utf-8")
    for heading in (
        "Safety guidelines",
        "The study",
        "Group gaps",
        "Prompt conditions and peers",
        "Mixed model",
        "The paper&#39;s method beside the corrected analysis",
        "Refusals and safety",
        "Manipulation check",
        "Methods",
        "Example responses",
        "All descriptives",
    ):
        assert heading in html, heading
    assert "Stand-in model." in html and "local:smollm2-135m" in html
    assert "Equal empathy across groups" in html and html.count('class="badge ') == 5
    assert "card-123" in html  # the score stage's notes: which empathy scorer variant scored the run
    assert "recall" in html and "lift" in html  # the manipulation-check table
    assert "rate_refused" in html
    assert "Clinician agreement" not in html
    assert "Welch" in html and "holm" in html and "bootstrap resamples of posts" in html


def test_no_stand_in_banner_for_other_responders(analysed_run: RunFactory) -> None:
    ctx = analysed_run(responder="openai:gpt-4o")
    report(ctx)
    assert "Stand-in model." not in (ctx.run.path / "report.html").read_text(encoding="utf-8")


def test_texts_are_escaped(analysed_run: RunFactory) -> None:
    ctx = analysed_run(texts='<script>alert("owned")</script><img src=x onerror=alert(1)>')
    report(ctx)
    html = (ctx.run.path / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in html


def test_suspected_label_swap_is_flagged(analysed_run: RunFactory) -> None:
    ctx = analysed_run(meta={"label_swap_suspected": True})
    report(ctx)
    html = (ctx.run.path / "report.html").read_text(encoding="utf-8")
    assert "label probably swapped" in html
    assert "prompt-condition label probably swapped in the release" in html


def test_clinician_agreement_is_shown_when_present(analysed_run: RunFactory) -> None:
    ctx = analysed_run()
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
                "pairs": [
                    {"raters": ["r1", "r2"], "n": 50, "exact": 0.7, "kappa": 0.5, "kappa_quadratic": 0.64}
                ],
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
    report(ctx)
    html = (ctx.run.path / "report.html").read_text(encoding="utf-8")
    assert (
        "Clinician agreement" in html
        and "0.610" in html
        and "0.640" in html
        and "a note for the reader" in html
    )


def test_a_failed_render_leaves_the_earlier_report(
    analysed_run: RunFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = analysed_run()
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


def test_report_of_a_run_without_scores_or_groups(tmp_path: Path) -> None:
    """A study that scored nothing and compares nothing still gets a readable report."""
    text = '[study]\nname = "bare"\n[[data]]\ndataset = "mh-eval-reddit"\n'
    loaded = LoadedStudy(parse_study(text, "bare.toml"), tmp_path / "bare.toml", text)
    run = RunDir(tmp_path / "run")
    for name, frame in tables(Synthetic(design="none", posts=5, responders=("peer",))).items():
        run.write_table(name, empty_table("scores") if name == "scores" else frame)
    ctx = StageContext(loaded, run)
    run.write_table("findings", analyze(ctx)["findings"])
    report(StageContext(loaded, run))
    html = (run.path / "report.html").read_text(encoding="utf-8")
    assert "No empathy metric was scored" in html
    assert html.count('class="badge na"') >= 3
