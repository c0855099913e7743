"""The CLI: user errors print one message without a traceback and exit with code 2."""

import errno
import subprocess
import sys

import pytest

from carelens.errors import path_error


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
    assert "b1 [ok]: 1" in result.stdout  # bracketed text is printed, not read as markup
    validated = carelens("validate", str(tmp_path / "audit.toml"))
    assert validated.returncode == 0, validated.stderr


def test_data_list_names_every_dataset():
    result = carelens("data", "list")
    for name in ("mh-eval-reddit", "mh-eval-gpt4", "mh-eval-counterfactual", "epitome", "counsel-chat"):
        assert name in result.stdout


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.stderr.strip().endswith(line)  # the error is the last thing printed, on one line
    return line


def test_brackets_in_file_names_are_shown(tmp_path):
    assert "study[x].toml: study file not found" in _one_line_error(carelens("validate", "study[x].toml",
                                                                              cwd=tmp_path))
    (tmp_path / "audit.toml").write_text(
        '[study]\nname = "audit [draft]"\noutput = "run[1]"\n\n[[data]]\nfile = "posts[x].csv"\n',
        encoding="utf-8")
    line = _one_line_error(carelens("run", "audit.toml", cwd=tmp_path))
    assert f"{tmp_path / 'posts[x].csv'}: file not found" in line


def test_an_unwritable_run_directory_is_one_line_exit_2(tmp_path):
    (tmp_path / "posts.csv").write_text("text\nI feel low and alone these days.\n", encoding="utf-8")
    (tmp_path / "somefile.txt").write_text("not a folder", encoding="utf-8")
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "s"\noutput = "somefile.txt/run"\n\n[[data]]\nfile = "posts.csv"\n\n'
        '[generation]\nresponders = ["peer"]\n', encoding="utf-8")
    line = _one_line_error(carelens("run", "study.toml", cwd=tmp_path))
    assert str(tmp_path / "somefile.txt" / "run") in line and "a file stands where a folder is needed" in line
    line = _one_line_error(carelens("run", "study.toml", "-o", str(tmp_path / "somefile.txt" / "x[1]"),
                                    cwd=tmp_path))
    assert str(tmp_path / "somefile.txt" / "x[1]") in line


@pytest.mark.parametrize(("code", "reason"), [(errno.EACCES, "permission denied"),
                                               (errno.EROFS, "read-only file system"),
                                               (errno.ENOSPC, "no space left on the device")])
def test_path_errors_name_the_path_and_the_reason(code, reason):
    error = path_error(OSError(code, "strerror", "/data/run[2]/tables"))
    assert str(error).startswith("/data/run[2]/tables: cannot read or write here: " + reason)
