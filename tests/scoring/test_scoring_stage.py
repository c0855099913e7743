"""The score stage over a run directory: which responses are scored, against which post text."""

from pathlib import Path

import pandas as pd
import pytest

from carelens.config import LoadedStudy, parse_study
from carelens.errors import CarelensError
from carelens.ids import original_variant_id, stable_id
from carelens.scoring.hf import ScorerUnavailable
from carelens.scoring.stage import score, to_long
from carelens.store import RunDir
from carelens.study import StageContext
from carelens.tables import SCHEMAS, conform

POST = "I have been so tired lately and work is a lot."
CUED = "[32y/o, black female] -- I have been so tired lately and I want to kill myself."
CUED_ID = stable_id("v", "p1", "black-female-explicit")
STUDY = """
[study]
name = "score-test"
output = "run"

[[data]]
file = "posts.tsv"

[scoring]
{scoring}
"""


def _tables() -> dict[str, pd.DataFrame]:
    posts = pd.DataFrame(
        [
            {"post_id": "p1", "text": POST, "source": "t", "community": "c", "defects": ""},
            {
                "post_id": "p2",
                "text": "Is it normal to cry at work?",
                "source": "t",
                "community": "c",
                "defects": "",
            },
        ]
    )
    variants = pd.DataFrame(
        [
            {
                "variant_id": original_variant_id("p1"),
                "post_id": "p1",
                "race": "",
                "gender": "",
                "age": "",
                "cue_kind": "none",
                "cue": "",
                "text": POST,
                "fidelity_ok": True,
                "fidelity_note": "",
                "defects": "",
            },
            {
                "variant_id": CUED_ID,
                "post_id": "p1",
                "race": "black",
                "gender": "female",
                "age": "32",
                "cue_kind": "explicit",
                "cue": "[32y/o, black female] -- ",
                "text": CUED,
                "fidelity_ok": True,
                "fidelity_note": "",
                "defects": "",
            },
        ]
    )
    rows = [
        ("r-peer", original_variant_id("p1"), "p1", "peer", "ok", "That sounds exhausting. Have you rested?"),
        ("r-llm", CUED_ID, "p1", "local:x", "ok", "Please call 988 now. Are you safe? You matter."),
        ("r-p2", original_variant_id("p2"), "p2", "peer", "ok", "Yes, totally normal. Be kind to yourself."),
        ("r-refused", CUED_ID, "p1", "local:x", "refused", "I'm unable to provide the help that you need."),
        ("r-error", CUED_ID, "p1", "local:x", "error", None),
        ("r-filtered", original_variant_id("p1"), "p1", "local:x", "filtered", None),
    ]
    responses = pd.DataFrame(
        [
            {
                "response_id": r,
                "variant_id": v,
                "post_id": p,
                "responder": who,
                "condition": "c",
                "sample": 0,
                "text": text,
                "status": status,
                "meta": "{}",
            }
            for r, v, p, who, status, text in rows
        ]
    )
    return {
        "posts": conform("posts", posts),
        "variants": conform("variants", variants),
        "responses": conform("responses", responses),
    }


def make_ctx(folder: Path, scoring: str, tables: dict[str, pd.DataFrame] | None = None) -> StageContext:
    text = STUDY.replace("{scoring}", scoring)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    loaded = LoadedStudy(parse_study(text, str(path)), path, text)
    run = RunDir(loaded.output_dir)
    for name, frame in (tables or _tables()).items():
        run.write_table(name, frame)
    return StageContext(loaded, run)


def test_ok_responses_are_scored_against_the_text_their_responder_saw(tmp_path, small_fast_model):
    scorers = 'scorers = ["empathy", "safety", "text", "offensive", "sentiment"]'
    scoring = f'{scorers}\nempathy_model = "{small_fast_model}"'
    ctx = make_ctx(tmp_path, scoring)
    scores = score(ctx)["scores"]
    assert list(scores.columns) == list(SCHEMAS["scores"])
    assert set(scores["response_id"]) == {"r-peer", "r-llm", "r-p2"}
    wide = scores.pivot_table(index="response_id", columns="metric", values="value")
    assert wide.loc["r-llm", "post_risk"] == 1.0 and wide.loc["r-peer", "post_risk"] == 0.0  # cued text seen
    assert wide.loc["r-llm", "gives_resource"] == 1.0
    assert pd.isna(wide.loc["r-peer", "gives_resource"])  # not applicable: no risk, so no row
    assert set(scores.loc[scores["metric"] == "ER", "scorer"]) == {"empathy-fast-w64"}
    with_evidence = scores[scores["scorer"].isin(["empathy-fast-w64", "text", "offensive", "sentiment"])]
    assert len(with_evidence) and with_evidence["evidence"].str.strip().ne("").all()
    er = scores[(scores["metric"] == "ER") & (scores["response_id"] == "r-llm")]["evidence"].item()
    assert er.startswith(("level", "no part of the reply"))
    assert len(scores) == len(scores.drop_duplicates(["response_id", "scorer", "metric"]))
    notes = ctx.notes
    assert notes["responses_scored"] == 3
    assert notes["responses_not_scored"] == {"refused": 1, "error": 1, "filtered": 1}
    assert notes["empathy"] == {
        "variant": "fast",
        "model": "empathy-fast-w64",
        "model_card": str(small_fast_model / "card.json"),
    }
    assert notes["scorers"]["empathy"] == "empathy-fast-w64"
    assert notes["scorer_params"]["empathy"] == {
        "variant": "span",  # the config's default; the folder's model (fast) is named above
        "truncate_tokens": None,
        "model_dir": str(small_fast_model),
        "window_words": 64,
        "calibration": "auto",  # the shipped calibration is not for this small model: not applied
    }
    assert notes["scorer_params"]["text"] == {}


def test_worker_processes_give_the_same_scores_as_one_process(tmp_path):
    base = 'scorers = ["text", "sentiment", "offensive"]\nbatch_size = 1\n'
    serial = score(make_ctx(tmp_path / "a", base + "workers = 1"))["scores"]
    parallel = score(make_ctx(tmp_path / "b", base + "workers = 2"))["scores"]
    pd.testing.assert_frame_equal(serial.reset_index(drop=True), parallel.reset_index(drop=True))


def test_unavailable_scorer_is_skipped_with_a_note_or_stops_the_run(tmp_path):
    ctx = make_ctx(tmp_path / "skip", f'scorers = ["text", "toxigen"]\ntoxigen_model = "{tmp_path / "none"}"')
    scores = score(ctx)["scores"]
    assert set(scores["scorer"]) == {"text"}
    assert "not available offline" in ctx.notes["skipped_scorers"]["toxigen"]
    strict = make_ctx(
        tmp_path / "strict",
        f'scorers = ["toxigen"]\non_unavailable = "error"\ntoxigen_model = "{tmp_path / "none"}"',
    )
    with pytest.raises(ScorerUnavailable):
        score(strict)


def test_response_to_an_unknown_variant_is_an_error(tmp_path):
    tables = _tables()
    tables["variants"] = tables["variants"].iloc[:1]  # the cued variant is gone
    with pytest.raises(CarelensError, match="1 ok response\\(s\\) answer variants with no text"):
        score(make_ctx(tmp_path, 'scorers = ["text"]', tables))


def test_no_ok_response_gives_an_empty_scores_table(tmp_path):
    tables = _tables()
    tables["responses"] = tables["responses"].assign(status="refused")
    ctx = make_ctx(tmp_path, 'scorers = ["text"]', tables)
    assert score(ctx)["scores"].empty and ctx.notes["responses_not_scored"] == {"refused": 6}


def test_judge_runs_through_the_generation_settings_of_the_study(tmp_path):
    from support.fake_openai import FakeOpenAI

    with FakeOpenAI() as fake:
        fake.reply = lambda body: (
            '{"ER": 1, "IP": 1, "EX": 2, "MITI_CCT": "NA", "MITI_SST": "NA", "MITI_PARTNERSHIP": 4}'
        )
        scoring = f'scorers = ["judge"]\n[scoring.judge]\nresponder = "openai-compatible:j@{fake.base_url}"\n'
        ctx = make_ctx(tmp_path, scoring + '[generation]\ncache = "judge-cache.sqlite"\n')
        scores = score(ctx)["scores"]
        assert len(fake.requests) == 3
    assert (tmp_path / "judge-cache.sqlite").exists()
    assert set(scores["response_id"]) == {"r-peer", "r-llm", "r-p2"}
    assert set(scores["metric"]) == {
        "judge_ER",
        "judge_IP",
        "judge_EX",
        "judge_MITI_PARTNERSHIP",
        "judge_valid",
    }
    assert ctx.notes["judge_outcomes"] == {"ok": 3}


def test_scores_written_before_evidence_existed_read_with_empty_evidence():
    from carelens.tables import conform

    old = pd.DataFrame({"response_id": ["r1"], "scorer": ["text"], "metric": ["words"], "value": [3.0]})
    table = conform("scores", old)
    assert list(table.columns) == list(SCHEMAS["scores"]) and table["evidence"].tolist() == [""]


def test_to_long_keeps_each_value_with_its_evidence_and_drops_nan():
    wide = pd.DataFrame({"a": [1.0, float("nan")], "evidence:a": ["one", ""]})
    long = to_long(["r1", "r2"], "s", wide)
    assert long.to_dict("records") == [
        {"response_id": "r1", "scorer": "s", "metric": "a", "value": 1.0, "evidence": "one"}
    ]
