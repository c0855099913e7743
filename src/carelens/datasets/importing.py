"""Import a user's own posts or responses from CSV, TSV, JSONL or Parquet, with a column mapping.

Posts need a ``text`` column. Responses need ``post`` (the help-seeker's message), ``response`` and
``responder`` columns, and may have ``condition`` and ``status`` (ok/refused/filtered/error). Any other
column is kept in ``meta``. ``mapping`` maps carelens names to the file's column names.
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from carelens.datasets.bundle import Bundle
from carelens.errors import CarelensError
from carelens.ids import original_variant_id, stable_id
from carelens.tables import RESPONSE_STATUSES

REQUIRED = {"posts": ("text",), "responses": ("post", "response", "responder")}
OPTIONAL = {"posts": ("post_id", "community"), "responses": ("post_id", "community", "condition", "status")}
FORMATS = {".csv": ",", ".tsv": "\t", ".jsonl": "jsonl", ".parquet": "parquet"}


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) pairs; line numbers are where each record starts in the file."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise CarelensError(
            f"unsupported file type '{path.suffix}'; use one of {', '.join(FORMATS)}", where=str(path)
        )
    if kind == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise CarelensError(f"not a readable Parquet file: {exc}", where=str(path)) from None
        for index, record in enumerate(frame.to_dict("records")):
            yield index + 1, record
        return
    with path.open(encoding="utf-8", newline="") as handle:
        try:
            if kind == "jsonl":
                for line_no, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise CarelensError(f"invalid JSON: {exc.msg}", where=f"{path}:{line_no}") from None
                    if not isinstance(record, dict):
                        raise CarelensError("each line must be a JSON object", where=f"{path}:{line_no}")
                    yield line_no, record
                return
            reader = csv.reader(handle, delimiter=kind, strict=True)
            header = next(reader, None)
            if header is None:
                raise CarelensError("the file is empty", where=str(path))
            start = reader.line_num + 1
            for row in reader:
                if len(row) != len(header):
                    raise CarelensError(
                        f"expected {len(header)} fields, found {len(row)}", where=f"{path}:{start}"
                    )
                yield start, dict(zip(header, row, strict=True))
                start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise CarelensError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None
        except csv.Error as exc:
            raise CarelensError(
                f"malformed delimited file: {exc}", where=f"{path}:{reader.line_num}"
            ) from None


def _text(record: dict[str, Any], column: str, where: str) -> str:
    value = record.get(column)
    if value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip():
        raise CarelensError(f"empty '{column}' text", where=where)
    return str(value).strip()


def import_file(
    path: Path, kind: str, mapping: dict[str, str] | None = None, source: str | None = None
) -> Bundle:
    """Read a user's file into posts (and responses); every bad record is an error naming its line."""
    if kind not in REQUIRED:
        raise CarelensError(f"unknown import kind '{kind}'; use 'posts' or 'responses'")
    mapping = mapping or {}
    known = set(REQUIRED[kind]) | set(OPTIONAL[kind])
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise CarelensError(f"cannot map {unknown}; mappable names: {', '.join(sorted(known))}")
    column = {name: mapping.get(name, name) for name in known}
    path = Path(path)
    if not path.exists():
        raise CarelensError("file not found", where=str(path))
    source = source or f"import:{path.name}"
    posts: dict[str, dict[str, Any]] = {}
    responses: list[dict[str, Any]] = []
    count = 0
    for line, record in _records(path):
        count += 1
        where = f"{path}:{line}"
        if count == 1:
            missing = [column[n] for n in REQUIRED[kind] if column[n] not in record]
            if missing:
                raise CarelensError(
                    f"missing column(s) {missing}; found {sorted(record)} (map yours with --map NAME=COLUMN)",
                    where=str(path),
                )
        text = _text(record, column["text" if kind == "posts" else "post"], where)
        given_id = record.get(column["post_id"])
        pid = str(given_id) if given_id not in (None, "") else stable_id("p", source, text)
        community = str(record.get(column["community"]) or "imported")
        previous = posts.setdefault(
            pid, {"post_id": pid, "text": text, "source": source, "community": community, "defects": ""}
        )
        if previous["text"] != text:
            raise CarelensError(f"post_id '{pid}' appears with two different texts", where=where)
        if kind == "responses":
            status = str(record.get(column["status"]) or "ok")
            if status not in RESPONSE_STATUSES:
                raise CarelensError(
                    f"status '{status}' is not one of {', '.join(RESPONSE_STATUSES)}", where=where
                )
            reply = str(record.get(column["response"]) or "").strip()
            if status == "ok" and not reply:
                raise CarelensError(
                    f"empty '{column['response']}' text for a response with status ok", where=where
                )
            responder = _text(record, column["responder"], where)
            condition = str(record.get(column["condition"]) or "imported")
            meta = {k: v for k, v in record.items() if k not in column.values()}
            meta["line"] = line
            responses.append(
                {
                    "response_id": stable_id("r", source, pid, responder, condition, reply, line),
                    "variant_id": original_variant_id(pid),
                    "post_id": pid,
                    "responder": responder,
                    "condition": condition,
                    "sample": 0,
                    "text": reply,
                    "status": status,
                    "meta": json.dumps(meta, default=str),
                }
            )
    if count == 0:
        raise CarelensError("the file has no records", where=str(path))
    notes = {"records": count, "posts": len(posts), "responses": len(responses)}
    frame_responses = pd.DataFrame(responses) if responses else None
    bundle = Bundle(pd.DataFrame(list(posts.values())), notes=notes)
    if frame_responses is not None:
        bundle.responses = frame_responses
    return bundle.conformed()
