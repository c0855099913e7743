"""Records of a user's CSV, TSV, JSONL or Parquet file, each with the line it starts on.

A UTF-8 byte-order mark (as Excel writes) is ignored; CSV cells may be as long as JSONL strings. For
delimited files ``header`` names the fields instead of the file's header line (``header_line`` False:
the file has none, every line is a record).
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from carelens.errors import CarelensError

FORMATS = {".csv": ",", ".tsv": "\t", ".jsonl": "jsonl", ".parquet": "parquet"}
# Python's csv module stops at 131,072 characters a cell by default; a long reply is not an error.
_FIELD_LIMIT = 2**31 - 1
HEADER_HINT = (
    "give `header = [...]` (`--header NAME,...` on the command line) with the names of the fields "
    "the rows carry"
)


def file_format(path: Path) -> str:
    """The separator of a delimited file, or ``jsonl`` / ``parquet``."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise CarelensError(
            f"unsupported file type '{path.suffix}'; use one of {', '.join(FORMATS)}", where=str(path)
        )
    return kind


def is_delimited(path: Path) -> bool:
    return file_format(path) not in ("jsonl", "parquet")


def _mismatch(expected: int, found: int, given: bool) -> str:
    message = f"expected {expected} fields, found {found}"
    if given:
        return f"{message} (the `header` option names {expected})"
    if found == expected - 1:
        return f"{message} (the header names one field more than the rows hold: {HEADER_HINT})"
    return f"{message} (the header and the rows differ: {HEADER_HINT})"


def _delimited(
    path: Path, sep: str, header: list[str] | None, header_line: bool
) -> Iterator[tuple[int, dict[str, Any]]]:
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=sep, strict=True)
        try:
            names = next(reader, None) if header_line else None
            if header_line and names is None:
                raise CarelensError("the file is empty", where=str(path))
            names = header or names
            if names is None:
                raise CarelensError("a file without a header line needs `header = [...]`", where=str(path))
            start = reader.line_num + 1
            for row in reader:
                if row:  # a blank line is no record
                    if len(row) != len(names):
                        raise CarelensError(
                            _mismatch(len(names), len(row), header is not None), where=f"{path}:{start}"
                        )
                    yield start, dict(zip(names, row, strict=True))
                start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise CarelensError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None
        except csv.Error as exc:
            raise CarelensError(
                f"malformed delimited file: {exc}", where=f"{path}:{reader.line_num}"
            ) from None


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
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
        except UnicodeDecodeError as exc:
            raise CarelensError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None


def _parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise CarelensError(f"not a readable Parquet file: {exc}", where=str(path)) from None
    for index, record in enumerate(frame.to_dict("records")):
        yield index + 1, record


def read_records(
    path: Path, header: list[str] | None = None, header_line: bool = True
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) pairs; line numbers are where each record starts in the file."""
    kind = file_format(path)
    if header is not None and kind in ("jsonl", "parquet"):
        raise CarelensError(
            "`header` applies to CSV/TSV files only (their fields are named)", where=str(path)
        )
    if kind == "parquet":
        return _parquet(path)
    if kind == "jsonl":
        return _jsonl(path)
    return _delimited(path, kind, header, header_line)


def file_columns(path: Path, header: list[str] | None = None, header_line: bool = True) -> list[str]:
    """The field names the file's records carry, read from its header line, schema or first record."""
    kind = file_format(path)
    if kind == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise CarelensError(f"not a readable Parquet file: {exc}", where=str(path)) from None
    if kind == "jsonl":
        first = next(_jsonl(path), None)
        return list(first[1]) if first else []
    if header is not None or not header_line:
        return list(header or [])
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle, delimiter=kind), [])
    except UnicodeDecodeError as exc:
        raise CarelensError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None
    except csv.Error as exc:
        raise CarelensError(f"malformed header line: {exc}", where=f"{path}:1") from None
