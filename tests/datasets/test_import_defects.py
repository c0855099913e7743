"""Files that real users bring: each defect below once stopped or silently changed an import.

Each test drives ``carelens import`` / ``carelens validate`` in-process, then reads the imported tables
where the summary alone cannot show the repair.
"""

import json

import pytest
from typer.testing import CliRunner

from carelens.cli import app
from carelens.config import DataSource, load_study, parse_study
from carelens.datasets.importing import import_file
from carelens.errors import CarelensError

RUNNER = CliRunner()
REFUSAL = "I'm really sorry that you're feeling this way, but I'm unable to provide the help that you need."


def cli(*args):
    return RUNNER.invoke(app, [str(a) for a in args])


def succeeded(result) -> str:
    assert result.exit_code == 0, f"{result.exception!r}\n{result.output}"
    return result.output


def failed(result) -> str:
    assert isinstance(result.exception, CarelensError), f"{result.exception!r}\n{result.output}"
    return str(result.exception)


def load(path, kind="responses", **entry):
    source = DataSource.model_validate({"file": str(path), "kind": kind, **entry})
    return import_file(path, source, "data[0]")


def test_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("text,community\r\nI can't sleep,anxiety\r\n".encode("utf-8-sig"))
    assert "1 records, 1 posts" in succeeded(cli("import", "posts", path))
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes('{"text": "I can\'t sleep", "community": "anxiety"}\n'.encode("utf-8-sig"))
    posts = load(path, "posts").posts
    assert list(posts["text"]) == list(load(jsonl, "posts").posts["text"]) == ["I can't sleep"]
    assert list(posts["community"]) == ["anxiety"]


def test_long_csv_cell_imports_like_jsonl(tmp_path):
    reply = "You are not alone. " * 12_000  # 228,000 characters, over the csv module's default limit
    path = tmp_path / "long.csv"
    path.write_text(f'post,response,responder\nI feel low,"{reply}",bot\n', encoding="utf-8")
    assert "1 records, 1 posts, 1 responses" in succeeded(cli("import", "responses", path))
    jsonl = tmp_path / "long.jsonl"
    jsonl.write_text(json.dumps({"post": "I feel low", "response": reply, "responder": "bot"}) + "\n")
    from_csv, from_jsonl = load(path), load(jsonl)
    assert from_csv.responses["text"].iloc[0] == from_jsonl.responses["text"].iloc[0] == reply.strip()


def test_nul_bytes_are_removed_and_counted(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_text("post,response,responder\nI feel\x00 low,Tell me\x00 more.,bot\nhi,hello,bot\n")
    assert "fields with NUL bytes removed: 2" in succeeded(cli("import", "responses", path))
    bundle = load(path)
    assert list(bundle.posts["text"]) == ["I feel low", "hi"]
    assert bundle.responses["text"].iloc[0] == "Tell me more."
    assert bundle.notes["nul_fields_cleaned"] == 2


def test_whitespace_only_reply_is_kept_with_status_empty(tmp_path):
    path = tmp_path / "r.csv"
    rows = "".join(f"post {i},reply {i},bot\n" for i in range(5))
    path.write_text(f"post,response,responder\n{rows}post 5,   ,bot\npost 6,,bot\n", encoding="utf-8")
    output = succeeded(cli("import", "responses", path))
    assert "7 records, 7 posts, 7 responses" in output
    assert "bot [empty]: 2" in output and "bot [ok]: 5" in output
    bundle = load(path)
    empty = bundle.responses[bundle.responses["status"] == "empty"]
    assert list(empty["text"]) == ["", ""]
    assert bundle.notes["replies_empty"] == 2 and bundle.notes["responses_by_status"] == {"empty": 2, "ok": 5}
    # a reply the file calls ok but that has no text is empty too; the given status is kept in meta
    path.write_text("post,response,responder,status\nhi, ,bot,ok\nhey,,bot,filtered\n", encoding="utf-8")
    statuses = load(path).responses
    assert list(statuses["status"]) == ["empty", "filtered"]
    assert json.loads(statuses["meta"].iloc[0])["given_status"] == "ok"


def test_recorded_scores_are_numbers_in_collected_scores(tmp_path):
    path = tmp_path / "scored.csv"
    path.write_text(
        "post,response,responder,er,tox\nhi,hello,bot,2,0.125\nhey,there,bot,,NA\nyo,sup,bot, 1 ,1e-3\n",
        encoding="utf-8",
    )
    unread = succeeded(cli("import", "responses", path))
    assert "numeric columns kept in meta: er, tox (recorded scores? read them with --score" in unread
    output = succeeded(
        cli("import", "responses", path, "--score", "ER=er", "--score", "toxicity=tox", "--scorer", "judge")
    )
    assert "numeric columns kept in meta" not in output
    assert "recorded scores: 4" in output and "missing scores): 2" in output
    scores = load(path, scores={"ER": "er", "toxicity": "tox"}, scorer="judge").scores
    assert list(scores.columns) == ["response_id", "scorer", "metric", "value", "evidence"]
    assert sorted(scores["value"]) == [0.001, 0.125, 1.0, 2.0]
    assert set(scores["scorer"]) == {"judge"} and set(scores["evidence"]) == {"er", "tox"}
    responses = load(path, scores={"ER": "er"}).responses
    assert not any("er" in json.loads(m) for m in responses["meta"])  # a score is not meta
    path.write_text("post,response,responder,er\nhi,hello,bot,2\nhey,there,bot,high\n", encoding="utf-8")
    message = failed(cli("import", "responses", path, "--score", "ER=er"))
    assert "scored.csv:3" in message and "'high'" in message and "--score ER" in message


def test_validate_names_unknown_columns_keys_and_missing_columns(tmp_path):
    (tmp_path / "chats.csv").write_text("q,a,bot,er\nhi,hello,b1,2\n", encoding="utf-8")
    study = tmp_path / "s.toml"
    study.write_text(
        '[study]\nname = "s"\n[[data]]\nfile = "chats.csv"\nkind = "responses"\n'
        'columns = { post = "q", reply = "a", responder = "bot" }\n',
        encoding="utf-8",
    )
    message = failed(cli("validate", study))
    assert "data[0].columns.reply: unknown carelens name 'reply'" in message
    study.write_text(
        '[study]\nname = "s"\n[[data]]\nfile = "chats.csv"\nkind = "responses"\n'
        'columns = { post = "q", response = "answer", responder = "bot" }\n'
        'scores = { ER = "empathy", "bad metric" = "er" }\n',
        encoding="utf-8",
    )
    message = failed(cli("validate", study))
    assert "data[0].scores.bad metric: a metric name" in message
    study.write_text(study.read_text().replace(', "bad metric" = "er"', ""), encoding="utf-8")
    message = failed(cli("validate", study))
    assert "data[0].columns.response: no column 'answer' in chats.csv" in message
    assert "data[0].scores.ER: no column 'empathy' in chats.csv" in message
    study.write_text(study.read_text().replace('"answer"', '"a"').replace('"empathy"', '"er"'))
    assert "ok" in succeeded(cli("validate", study))


def test_header_mismatch_names_the_header_option(tmp_path):
    # the layout of the paper's GPT-4 files: the header names 8 fields, every row holds 7
    path = tmp_path / "gpt4.tsv"
    path.write_text(
        "post\treply\tpred_ER\tpred_IP\tpred_EX\tsentiment\ttoxicity\ttype\n"
        "I feel low\tThat sounds hard.\t1\t0\t2\t0.0007\tclinician\n",
        encoding="utf-8",
    )
    message = failed(cli("import", "responses", path, "--map", "response=reply", "--set", "responder=gpt-4"))
    assert "gpt4.tsv:2: expected 8 fields, found 7" in message
    assert "the header names one field more than the rows hold: give `header = [...]`" in message
    header = "post,reply,ER,IP,EX,toxicity,prompt"
    args = [
        "--header",
        header,
        "--map",
        "response=reply",
        "--map",
        "condition=prompt",
        "--set",
        "responder=gpt-4",
    ]
    assert "gpt-4 [ok]: 1" in succeeded(cli("import", "responses", path, *args))
    study = tmp_path / "s.toml"
    study.write_text(
        f'[study]\nname = "s"\n[[data]]\nfile = "{path}"\nkind = "responses"\n'
        'columns = { response = "reply" }\nset = { responder = "gpt-4" }\n',
        encoding="utf-8",
    )
    assert "data[0].header: " in failed(cli("validate", study))


def test_refusal_text_without_status_is_a_refusal(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        f'post,response,responder\nI feel low,"{REFUSAL}",gpt\nI feel low,I am here for you.,gpt\n',
        encoding="utf-8",
    )
    output = succeeded(cli("import", "responses", path))
    assert "gpt [refused]: 1" in output and "gpt [ok]: 1" in output
    refused = load(path).responses.iloc[0]
    assert refused["status"] == "refused" and refused["text"] == REFUSAL
    assert "unable to provide the help that you need" in json.loads(refused["meta"])["refusal_pattern"]
    # a status given by the file is kept
    path.write_text(f'post,response,responder,status\nI feel low,"{REFUSAL}",gpt,ok\n', encoding="utf-8")
    assert list(load(path).responses["status"]) == ["ok"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "posts", "scores": {"ER": "er"}}, "data[0].scores: recorded scores belong to replies"),
        ({"set": {"response": "x"}}, "data[0].set.response: 'response' cannot be a constant"),
        (
            {"set": {"responder": "a"}, "columns": {"responder": "bot"}},
            "also mapped by data[0].columns.responder",
        ),
        ({"header": ["a", "a"]}, "data[0].header: names ['a'] more than once"),
        ({"set": {"bot": "x"}, "columns": {"post": "q", "response": "a", "responder": "bot"}}, "already has"),
    ],
)
def test_entry_problems_name_their_key(tmp_path, entry, message):
    path = tmp_path / "chats.csv"
    path.write_text("q,a,bot\nhi,hello,b1\n", encoding="utf-8")
    with pytest.raises(CarelensError) as info:
        load(path, **{"kind": "responses", **entry})
    assert message in str(info.value) and "chats.csv" in str(info.value)


def test_study_written_by_import_repeats_every_option(tmp_path):
    path = tmp_path / "gpt4.tsv"
    path.write_text("post\treply\tER\ttype\nI feel low\tThat sounds hard.\t1\n", encoding="utf-8")
    study = tmp_path / "audit.toml"
    args = ["--header", "post,reply,ER", "--map", "response=reply", "--score", "paper_ER=ER"]
    args += ["--scorer", "recorded:paper", "--set", "responder=gpt-4", "--set", "paper_race=black"]
    succeeded(cli("import", "responses", path, *args, "--study", study))
    assert "ok" in succeeded(cli("validate", study))
    entry = load_study(study).study.data[0]
    assert entry.header == ["post", "reply", "ER"] and entry.columns == {"response": "reply"}
    assert entry.scores == {"paper_ER": "ER"} and entry.scorer == "recorded:paper"
    assert entry.set == {"responder": "gpt-4", "paper_race": "black"}


def test_file_options_on_a_named_dataset_are_an_error():
    text = '[study]\nname = "s"\n[[data]]\ndataset = "counsel-chat"\nscores = { ER = "er" }\n'
    with pytest.raises(CarelensError, match=r"data\[0\]: scores apply to a 'file' source"):
        parse_study(text, "s.toml")
