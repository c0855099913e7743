"""Import a user's own posts or responses (CSV, TSV, JSONL, Parquet): one implementation for a study's
``[[data]]`` file entry and for ``carelens import``.

Posts need a ``text`` column. Responses need ``post`` (the help-seeker's message), ``response`` and
``responder``, and may have ``post_id``, ``community``, ``condition`` and ``status``
(ok/refused/filtered/error/empty). ``columns`` maps carelens names to the file's columns, ``set`` gives
every row a constant field, ``scores`` reads recorded scores into ``collected_scores``; any other
column is kept in ``meta``.

Nothing is dropped silently. An empty or whitespace-only reply is kept with status ``empty``; a reply
with no status whose text is a refusal gets status ``refused`` (``meta.refusal_pattern``); a record
whose post text is empty has no post to show a model or to group a reply by, so it is skipped; NUL
bytes are removed from every field. Each is counted in the bundle's notes.
"""

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from carelens.config import DataSource
from carelens.datasets.bundle import Bundle
from carelens.datasets.records import FORMATS, file_columns, is_delimited, read_records
from carelens.errors import CarelensError
from carelens.ids import original_variant_id, stable_id
from carelens.llm.detect import refusal_pattern
from carelens.tables import RESPONSE_STATUSES

REQUIRED = {"posts": ("text",), "responses": ("post", "response", "responder")}
OPTIONAL = {"posts": ("post_id", "community"), "responses": ("post_id", "community", "condition", "status")}
# Names ``set`` may not give: texts and ids differ per row; posts keep no extra fields.
NOT_CONSTANT = ("text", "post", "response", "post_id")
POST_CONSTANTS = ("community",)
RESERVED_META = ("line", "refusal_pattern", "given_status")
# A score cell holding one of these (any case) is a missing score, like an empty cell.
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})
_METRIC = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
# The command-line option of each data-entry key, to name the option in a problem.
OPTIONS = {
    "file": "FILE",
    "columns": "--map",
    "header": "--header",
    "header_line": "--no-header-line",
    "scores": "--score",
    "scorer": "--scorer",
    "set": "--set",
}


def key_path(key: str | None, option: str, name: str | None = None) -> str:
    """``data[0].columns.xyz`` in a study; ``--map xyz`` on the command line (``key`` None)."""
    if key is None:
        return f"{OPTIONS[option]} {name}" if name else OPTIONS[option]
    return f"{key}.{option}.{name}" if name else f"{key}.{option}"


def source_problems(source: DataSource, key: str | None) -> list[str]:
    """The problems of a file entry's names that show without reading the file, each with its key."""
    kind, problems = source.kind, []
    known = REQUIRED[kind] + OPTIONAL[kind]
    suffix = Path(source.file or "").suffix.lower()
    if suffix not in FORMATS:
        problems.append(
            f"{key_path(key, 'file')}: unsupported file type '{suffix}'; use one of {', '.join(FORMATS)}"
        )
    for name in source.columns:
        if name not in known:
            problems.append(
                f"{key_path(key, 'columns', name)}: unknown carelens name '{name}' for {kind}; "
                f"allowed: {', '.join(known)}"
            )
    if source.scores and kind != "responses":
        problems.append(f'{key_path(key, "scores")}: recorded scores belong to replies (kind = "responses")')
    for metric, column in source.scores.items():
        if not _METRIC.fullmatch(metric):
            problems.append(
                f"{key_path(key, 'scores', metric)}: a metric name is a letter then letters, digits, _ . -"
            )
        if not column:
            problems.append(f"{key_path(key, 'scores', metric)}: name the column that holds the score")
    for name in source.set:
        where = key_path(key, "set", name)
        if name in source.columns:
            problems.append(f"{where}: also mapped by {key_path(key, 'columns', name)}; give one of them")
        elif name in NOT_CONSTANT or name in RESERVED_META:
            problems.append(f"{where}: '{name}' cannot be a constant")
        elif kind == "posts" and name not in POST_CONSTANTS:
            problems.append(f"{where}: posts keep no extra fields; posts may set {', '.join(POST_CONSTANTS)}")
    if source.header is not None:
        twice = sorted(n for n, c in Counter(source.header).items() if c > 1)
        if twice:
            problems.append(f"{key_path(key, 'header')}: names {twice} more than once")
    delimited = suffix in FORMATS and FORMATS[suffix] not in ("jsonl", "parquet")
    if source.header is not None and suffix in FORMATS and not delimited:
        problems.append(f"{key_path(key, 'header')}: applies to CSV/TSV files only (their fields are named)")
    if not source.header_line and source.header is None and delimited:
        problems.append(
            f"{key_path(key, 'header_line')}: a file without a header line needs `header = [...]`"
        )
    return problems


def file_problems(source: DataSource, path: Path, key: str | None) -> list[str]:
    """The problems that show in the file's header (or first record): columns it lacks, duplicates.

    An unreadable file raises its CarelensError.
    """
    columns = file_columns(path, source.header, source.header_line)
    problems = []
    name = path.name
    listing = f"its columns: {', '.join(columns) or 'none'}"
    twice = sorted(c for c, n in Counter(columns).items() if n > 1)
    if twice:
        problems.append(
            f"{key_path(key, 'header')}: {name} names column(s) {twice} more than once; "
            "give `header = [...]` with distinct names"
        )
    for carelens_name, column in source.columns.items():
        if carelens_name in REQUIRED[source.kind] + OPTIONAL[source.kind] and column not in columns:
            problems.append(
                f"{key_path(key, 'columns', carelens_name)}: no column '{column}' in {name} ({listing})"
            )
    for required in REQUIRED[source.kind]:
        if required not in source.columns and required not in source.set and required not in columns:
            problems.append(
                f"{key_path(key, 'columns')}: {name} has no '{required}' column; map yours with "
                f"{key_path(key, 'columns', required)} ({listing})"
            )
    for metric, column in source.scores.items():
        if column and column not in columns:
            problems.append(f"{key_path(key, 'scores', metric)}: no column '{column}' in {name} ({listing})")
    for constant in source.set:
        if constant in columns:
            problems.append(
                f"{key_path(key, 'set', constant)}: {name} already has a column '{constant}'; "
                "map it or drop the constant"
            )
    return problems


def problem_listing(problems: list[str]) -> str:
    """One problem as is; several as a count and one indented line each."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems:\n  " + "\n  ".join(problems)


def check_file_source(source: DataSource, path: Path, key: str | None) -> list[str]:
    """Every problem of a file entry that can be found without importing it (the file when it exists)."""
    problems = source_problems(source, key)
    if not path.exists() or path.suffix.lower() not in FORMATS:
        return problems
    try:
        problems += file_problems(source, path, key)
    except CarelensError as exc:
        return [*problems, f"{key_path(key, 'file')}: {exc}"]
    if not problems and is_delimited(path):
        try:  # the header against the first record's fields
            next(iter(read_records(path, source.header, source.header_line)), None)
        except CarelensError as exc:
            problems.append(f"{key_path(key, 'header')}: {exc}")
    return problems


def _cell(value: Any) -> str:
    """A cell as stripped text; None and NaN are empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _strip_nul(record: dict[str, Any]) -> int:
    """Remove NUL bytes from the record's text fields in place; the number of fields that had any."""
    cleaned = 0
    for column, value in record.items():
        if isinstance(value, str) and "\x00" in value:
            record[column] = value.replace("\x00", "")
            cleaned += 1
    return cleaned


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _score(value: Any, column: str, option: str, where: str) -> float | None:
    """A recorded score as a number; None when the cell is empty or says the score is missing."""
    if isinstance(value, bool):
        raise CarelensError(f"score {value!r} in column '{column}' ({option}) is not a number", where=where)
    if isinstance(value, int | float):
        number = float(value)
    elif _cell(value).lower() in MISSING:
        return None
    else:
        try:
            number = float(_cell(value))
        except ValueError:
            raise CarelensError(
                f"score '{_cell(value)[:40]}' in column '{column}' ({option}) is not a number", where=where
            ) from None
    if math.isnan(number):
        return None
    if not math.isfinite(number):
        raise CarelensError(f"score '{value}' in column '{column}' ({option}) is not finite", where=where)
    return number


class _Importer:
    """Turns records into posts, responses and collected scores, counting what it repaired."""

    def __init__(self, source: DataSource, key: str | None, origin: str) -> None:
        self.source, self.key, self.origin = source, key, origin
        known = REQUIRED[source.kind] + OPTIONAL[source.kind]
        self.column = {name: source.columns.get(name, name) for name in known}
        self.used = set(self.column.values()) | set(source.scores.values())
        self.extra = {k: v for k, v in source.set.items() if k not in known}
        self.posts: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []
        self.scores: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        # meta columns -> whether every non-empty value so far reads as a number (a score left unread?)
        self.numeric: dict[str, bool] = {}

    def get(self, record: dict[str, Any], name: str) -> str:
        if name in self.source.set:
            return self.source.set[name]
        return _cell(record.get(self.column[name]))

    def add(self, line: int, record: dict[str, Any], where: str) -> None:
        self.counts["nul_fields_cleaned"] += _strip_nul(record)
        text = self.get(record, "text" if self.source.kind == "posts" else "post")
        if not text:
            self.counts["posts_empty_skipped"] += 1
            return
        given_id = self.get(record, "post_id")
        pid = given_id or stable_id("p", self.origin, text)
        community = self.get(record, "community") or "imported"
        previous = self.posts.setdefault(
            pid, {"post_id": pid, "text": text, "source": self.origin, "community": community, "defects": ""}
        )
        if previous["text"] != text:
            raise CarelensError(f"post_id '{pid}' appears with two different texts", where=where)
        if self.source.kind == "responses":
            self.add_response(line, record, pid, where)

    def add_response(self, line: int, record: dict[str, Any], pid: str, where: str) -> None:
        given = self.get(record, "status")
        if given and given not in RESPONSE_STATUSES:
            raise CarelensError(f"status '{given}' is not one of {', '.join(RESPONSE_STATUSES)}", where=where)
        responder = self.get(record, "responder")
        if not responder:
            raise CarelensError(f"empty '{self.column['responder']}' (the responder)", where=where)
        reply = self.get(record, "response")
        condition = self.get(record, "condition") or "imported"
        meta: dict[str, Any] = {k: v for k, v in record.items() if k not in self.used}
        for column, value in meta.items():
            if self.numeric.get(column, True) and _cell(value).lower() not in MISSING:
                self.numeric[column] = _is_number(value)
        meta.update(self.extra)
        meta["line"] = line
        status = given
        if not reply and given in ("", "ok"):
            status = "empty"
            if given:
                meta["given_status"] = given
            self.counts["replies_empty"] += 1
        elif not given:
            pattern = refusal_pattern(reply)
            status = "refused" if pattern else "ok"
            if pattern:
                meta["refusal_pattern"] = pattern
                self.counts["refusals_detected"] += 1
        self.statuses[status] += 1
        rid = stable_id("r", self.origin, pid, responder, condition, reply, line)
        self.responses.append(
            {
                "response_id": rid,
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
        for metric, column in self.source.scores.items():
            value = _score(record.get(column), column, key_path(self.key, "scores", metric), where)
            if value is None:
                self.counts["scores_missing"] += 1
                continue
            self.scores.append(
                {
                    "response_id": rid,
                    "scorer": self.source.scorer,
                    "metric": metric,
                    "value": value,
                    "evidence": column,
                }
            )

    def notes(self, records: int) -> dict[str, Any]:
        notes: dict[str, Any] = {
            "records": records,
            "posts": len(self.posts),
            "posts_empty_skipped": self.counts["posts_empty_skipped"],
            "nul_fields_cleaned": self.counts["nul_fields_cleaned"],
        }
        if self.source.kind == "responses":
            notes.update(
                responses=len(self.responses),
                responses_by_status=dict(sorted(self.statuses.items())),
                replies_empty=self.counts["replies_empty"],
                refusals_detected=self.counts["refusals_detected"],
                collected_scores=len(self.scores),
                scores_missing=self.counts["scores_missing"],
                numeric_meta_columns=sorted(c for c, numeric in self.numeric.items() if numeric),
            )
        return notes


def import_file(path: Path, source: DataSource, key: str | None = None, origin: str | None = None) -> Bundle:
    """Read a user's file as ``source`` describes; every bad record is an error naming its line.

    ``key`` is the entry's key path in a study (``data[0]``), None on the command line; ``origin``
    names the posts' source (default ``import:<file name>``).
    """
    path = Path(path)
    problems = source_problems(source, key)
    if not path.exists():
        raise CarelensError("file not found", where=str(path))
    if path.suffix.lower() in FORMATS:
        problems += file_problems(source, path, key)
    if problems:
        raise CarelensError(problem_listing(problems), where=str(path))
    importer = _Importer(source, key, origin or f"import:{path.name}")
    records = 0
    for line, record in read_records(path, source.header, source.header_line):
        records += 1
        importer.add(line, record, f"{path}:{line}")
    if records == 0:
        raise CarelensError("the file has no records", where=str(path))
    if not importer.posts:
        raise CarelensError(f"no record has a post text ({records} records)", where=str(path))
    bundle = Bundle(pd.DataFrame(list(importer.posts.values())), notes=importer.notes(records))
    if importer.responses:
        bundle.responses = pd.DataFrame(importer.responses)
    if importer.scores:
        bundle.scores = pd.DataFrame(importer.scores)
    return bundle.conformed()
