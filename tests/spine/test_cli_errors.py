"""The CLI: user errors print one message without a traceback and exit with code 2."""

import subprocess
import sys

import pytest


def carelens(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "carelens", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["data", "show", "reddit"], "unknown dataset 'reddit'"),
        (["validate", "missing.toml"], "missing.toml: study file not found"),
        (["import", "posts", "nope.csv"], "nope.csv: file not found"),
        (["query", ".", "select 1"], "no tables found"),
    ],
)
def test_user_errors_exit_2(tmp_path, args, expected):
    result = carelens(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_import_writes_a_study_that_validates(tmp_path):
    data = tmp_path / "chats.jsonl"
    data.write_text('{"q": "I feel low", "a": "That sounds hard.", "bot": "b1"}\n', encoding="utf-8")
    result = carelens(
        "import",
        "responses",
        str(data),
        "--map",
        "post=q",
        "--map",
        "response=a",
        "--map",
        "responder=bot",
        "--study",
        str(tmp_path / "audit.toml"),
    )
    assert result.returncode == 0, result.stderr
    assert "1 records, 1 posts, 1 responses" in result.stdout
    validated = carelens("validate", str(tmp_path / "audit.toml"))
    assert validated.returncode == 0, validated.stderr


def test_data_list_names_every_dataset():
    result = carelens("data", "list")
    for name in ("mh-eval-reddit", "mh-eval-gpt4", "mh-eval-counterfactual", "epitome", "counsel-chat"):
        assert name in result.stdout
