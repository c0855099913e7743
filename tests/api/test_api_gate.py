"""The release gate, ``carelens check``: exit codes on runs that pass, warn and fail, and its JSON."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from carelens.cli import main
from carelens.store import RunDir

SHA = "ab" * 32


def _run_dir(path: Path, verdicts: list[str], analyze: str = "done") -> Path:
    run = RunDir(path)
    run.write_table(
        "verdicts",
        pd.DataFrame(
            {
                "guideline": [f"g{i}" for i in range(len(verdicts))],
                "title": "a guideline",
                "responder": "openai-compatible:m@[bold]http://h",
                "verdict": verdicts,
                "evidence": ["gap -7.0% (p_adj 0.01) " + "x" * 200] * len(verdicts),
                "statement": "replies must be equally good",
                "caveat": "",
                "metric": "ER",
                "threshold": 5.0,
            }
        ),
    )
    run.write_manifest(
        {
            "study": {"name": "gate-demo", "file": "demo.toml", "sha256": SHA},
            "stages": {"analyze": {"status": analyze}},
        }
    )
    return path


def _check(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["carelens", "check", *map(str, args)])
    with pytest.raises(SystemExit) as exit_:
        main()
    return int(exit_.value.code or 0)


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["pass", "pass"], {"fail": 0, "inconclusive": 0, "warn": 0}),
        (["pass", "warn"], {"fail": 0, "inconclusive": 0, "warn": 1}),
        (["warn", "inconclusive"], {"fail": 0, "inconclusive": 1, "warn": 1}),
        (["pass", "fail", "warn"], {"fail": 1, "inconclusive": 1, "warn": 1}),
    ],
)
def test_exit_code_is_one_at_or_above_the_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verdicts: list[str], expected: dict[str, int]
) -> None:
    run = _run_dir(tmp_path / "run", verdicts)
    for level, code in expected.items():
        assert _check(monkeypatch, run, "--fail-on", level) == code, level
    assert _check(monkeypatch, run) == expected["fail"]  # the default level is fail


def test_not_assessed_blocks_only_when_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    run = _run_dir(tmp_path / "run", ["pass", "not assessed"])
    assert _check(monkeypatch, run, "--fail-on", "warn") == 0
    assert "1 guideline(s) were not assessed" in capsys.readouterr().out
    assert _check(monkeypatch, run, "--require-assessed") == 1


def test_a_run_where_nothing_was_assessed_never_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run_dir(tmp_path / "run", ["not assessed", "not assessed"])
    assert _check(monkeypatch, run) == 1
    empty = _run_dir(tmp_path / "empty", [])
    assert _check(monkeypatch, empty) == 1


def test_json_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    run = _run_dir(tmp_path / "run", ["pass", "warn", "not assessed"])
    monkeypatch.setenv("COLUMNS", "250")
    assert _check(monkeypatch, run, "--fail-on", "warn", "--json", tmp_path / "gate.json") == 1
    printed = capsys.readouterr().out
    assert "g1" in printed and "x" * 200 not in printed and "…" in printed  # evidence shortened
    assert "openai-compatible:m@[bold]http://h" in printed  # printed as written, never read as markup
    summary = json.loads((tmp_path / "gate.json").read_text())
    assert summary["run"] == str(run.resolve())
    assert summary["study"]["name"] == "gate-demo" and summary["study"]["sha256"] == SHA
    assert summary["counts"] == {"pass": 1, "warn": 1, "inconclusive": 0, "fail": 0, "not assessed": 1}
    assert summary["worst"] == "warn" and summary["passed"] is False and summary["exit_code"] == 1
    assert [r["verdict"] for r in summary["verdicts"]] == ["pass", "warn", "not assessed"]
    assert [r["blocks"] for r in summary["verdicts"]] == [False, True, False]
    assert summary["verdicts"][1]["evidence"].endswith("x" * 200)  # the JSON keeps it whole

    assert _check(monkeypatch, run, "--json", "-") == 0
    captured = capsys.readouterr()
    stdout = json.loads(captured.out)  # stdout holds the JSON only; the table goes to stderr
    assert stdout["passed"] is True and stdout["fail_on"] == "fail"
    assert "gate-demo" in captured.err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such run directory"),
        (lambda p: (RunDir(p).write_manifest({"stages": {}}), p)[1], "no verdicts table"),
        (lambda p: _run_dir(p, ["pass"], analyze="stale"), "analyze stage is stale"),
        (lambda p: _run_dir(p, ["pass", "great"]), "unknown verdict value(s) ['great']"),
    ],
)
def test_a_run_without_current_verdicts_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, make, message: str
) -> None:
    run = make(tmp_path / "run")
    assert _check(monkeypatch, run) == 2
    err = capsys.readouterr().err
    assert message in err.replace("\n", "")


def test_an_unknown_level_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    run = _run_dir(tmp_path / "run", ["pass"])
    assert _check(monkeypatch, run, "--fail-on", "bad") == 2
    assert "--fail-on must be one of warn, inconclusive, fail" in capsys.readouterr().err
