"""Importing a user's posts and responses: formats, column mapping, and errors that name the line."""

import json

import pandas as pd
import pytest

from carelens.config import DataSource
from carelens.datasets.importing import import_file
from carelens.errors import CarelensError


def load(path, kind="posts", origin=None, **entry):
    """Import ``path`` as a study's [[data]] file entry with ``entry``'s keys would."""
    source = DataSource.model_validate({"file": str(path), "kind": kind, **entry})
    return import_file(path, source, "data[0]", origin)


def test_csv_responses_with_mapping_and_multiline_fields(tmp_path):
    path = tmp_path / "chats.csv"
    path.write_text(
        'user_msg,bot,model,status\n"I feel\nalone",Sorry to hear that.,bot-a,ok\n'
        '"I feel\nalone",,bot-b,refused\nI cannot sleep,Try a routine.,bot-a,ok\n',
        encoding="utf-8",
    )
    bundle = load(path, "responses", columns={"post": "user_msg", "response": "bot", "responder": "model"})
    assert len(bundle.posts) == 2
    assert list(bundle.responses["status"]) == ["ok", "refused", "ok"]
    assert json.loads(bundle.responses["meta"].iloc[2])["line"] == 6


def test_tsv_jsonl_and_parquet_posts(tmp_path):
    (tmp_path / "p.tsv").write_text("text\tcommunity\nhello there\tanxiety\n", encoding="utf-8")
    (tmp_path / "p.jsonl").write_text('{"text": "hello there", "community": "anxiety"}\n\n', encoding="utf-8")
    pd.DataFrame({"text": ["hello there"], "community": ["anxiety"]}).to_parquet(tmp_path / "p.parquet")
    ids = {
        load(tmp_path / f"p.{ext}", origin="mine").posts["post_id"].iloc[0]
        for ext in ("tsv", "jsonl", "parquet")
    }
    assert len(ids) == 1


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        ("body\nhello\n", "p.csv", "data[0].columns: p.csv has no 'text' column"),
        ("text\nfine\na,b\n", "p.csv:3", "expected 1 fields, found 2"),
        ('text\nfine\n"broken\n', "p.csv:", "malformed delimited file"),
    ],
)
def test_bad_posts_name_file_and_line(tmp_path, content, where, message):
    path = tmp_path / "p.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CarelensError) as info:
        load(path)
    assert where in str(info.value) and message in str(info.value)


def test_bad_jsonl_line_and_undecodable_bytes(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(CarelensError, match=r"p\.jsonl:2: invalid JSON"):
        load(path)
    latin = tmp_path / "l.csv"
    latin.write_bytes("text\nna\xefve caf\xe9\n".encode("latin-1"))
    with pytest.raises(CarelensError, match="not UTF-8"):
        load(latin)


def test_bad_status_and_unknown_mapping(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("post,response,responder,status\nhi,yo,m,declined\n", encoding="utf-8")
    with pytest.raises(CarelensError, match=r"r\.csv:2: status 'declined'"):
        load(path, "responses")
    with pytest.raises(CarelensError, match=r"data\[0\]\.columns\.reply: unknown carelens name 'reply'"):
        load(path, "responses", columns={"reply": "response"})


def test_empty_post_text_is_skipped_and_counted(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("text,community\nhello,a\n  ,b\n,c\n", encoding="utf-8")
    bundle = load(path)
    assert list(bundle.posts["text"]) == ["hello"]
    assert bundle.notes["records"] == 3 and bundle.notes["posts_empty_skipped"] == 2
    path.write_text("text\n \n", encoding="utf-8")
    with pytest.raises(CarelensError, match="no record has a post text"):
        load(path)
