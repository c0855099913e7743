"""The run directory: Parquet tables, manifest.json, atomic writes, stage fingerprints.

Layout::

    RUN/
      manifest.json          study, versions, checksums, per-stage status and fingerprints
      study.toml             the study file as run
      tables/<name>.parquet  one file per table
      <other artefacts>      report.html, figures/, findings.csv ...
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from carelens.errors import CarelensError
from carelens.tables import SCHEMAS, conform

_UMASK = os.umask(0)
os.umask(_UMASK)


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file ordinary permissions
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str) -> None:
    """Write text to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def chunks_hash(chunks: Iterable[pd.DataFrame], columns: list[str]) -> str:
    """A content hash of a table read in chunks (row order and values): the same as ``frame_hash``
    of the chunks put together."""
    digest = hashlib.sha256()
    for chunk in chunks:
        hashed = pd.util.hash_pandas_object(chunk.astype("string").fillna("\x00<NA>"), index=False)
        digest.update(hashed.to_numpy().tobytes())
    digest.update(json.dumps(columns).encode())
    return digest.hexdigest()


def frame_hash(frame: pd.DataFrame) -> str:
    """A content hash of a frame (row order and values), stable across runs."""
    return chunks_hash([frame], list(frame.columns))


@dataclass(frozen=True)
class WrittenTable:
    """A table a stage streamed to Parquet itself (``RunDir.table_writer``), never held whole in memory;
    the stage runner moves it into place as it writes a returned frame."""

    path: Path
    rows: int

    def __len__(self) -> int:
        return self.rows


Table: TypeAlias = pd.DataFrame | WrittenTable  # what a stage returns for each of its tables


class TableWriter:
    """Appends frames, each cast to the table's schema, to a Parquet file beside the table; after the
    ``RunDir.table_writer`` block, ``table`` is the ``WrittenTable`` for the stage to return."""

    def __init__(self, name: str, path: Path) -> None:
        self.name, self.path, self.rows = name, path, 0
        empty = conform(name, pd.DataFrame(columns=list(SCHEMAS[name])))
        self._schema = pa.Schema.from_pandas(empty, preserve_index=False)
        self._parquet = pq.ParquetWriter(path, self._schema)
        self.table: WrittenTable | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows (conformed to the table's schema)."""
        if len(frame):
            chunk = conform(self.name, frame)
            self._parquet.write_table(pa.Table.from_pandas(chunk, schema=self._schema, preserve_index=False))
            self.rows += len(chunk)

    def close(self) -> None:
        self._parquet.close()
        self.table = WrittenTable(self.path, self.rows)


class RunDir:
    """A run directory. Nothing is created on disk until the first write."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def table_path(self, name: str) -> Path:
        return self.path / "tables" / f"{name}.parquet"

    def has_table(self, name: str) -> bool:
        return self.table_path(name).exists()

    def read_table(self, name: str) -> pd.DataFrame:
        """Read a table; a missing table is an error that names the stage to run."""
        path = self.table_path(name)
        if not path.exists():
            raise CarelensError(
                f"run has no '{name}' table yet (run the stage that makes it)", where=str(path)
            )
        frame = pd.read_parquet(path)
        return conform(name, frame) if name in SCHEMAS else frame

    def write_table(self, name: str, frame: Table) -> str:
        """Write a table atomically (or move a streamed one into place) and return its content hash."""
        if isinstance(frame, WrittenTable):
            return self._move_written(name, frame)
        if name in SCHEMAS:
            frame = conform(name, frame)
        with atomic_path(self.table_path(name)) as tmp:
            frame.to_parquet(tmp, index=False)
        return frame_hash(frame)

    @contextmanager
    def table_writer(self, name: str) -> Iterator[TableWriter]:
        """A writer that streams a table to a temporary file in the run; removed if the block fails."""
        folder = self.path / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".streamed.parquet", dir=folder)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_UMASK)
        writer = TableWriter(name, Path(tmp))
        try:
            yield writer
        except BaseException:
            writer.close()
            writer.path.unlink(missing_ok=True)
            raise
        writer.close()

    def _move_written(self, name: str, table: WrittenTable) -> str:
        """Check a streamed table's columns, hash it chunk by chunk, and move it onto the table's path."""
        columns = pq.read_schema(table.path).names
        if columns[: len(SCHEMAS[name])] != list(SCHEMAS[name]):
            raise RuntimeError(
                f"streamed table '{name}' has columns {columns}, expected {list(SCHEMAS[name])}"
            )
        parquet = pq.ParquetFile(table.path)
        chunks = (conform(name, b.to_pandas()) for b in parquet.iter_batches(batch_size=65_536))
        digest = chunks_hash(chunks, columns)
        os.replace(table.path, self.table_path(name))
        return digest

    def manifest(self) -> dict[str, Any]:
        """The manifest, or an empty one."""
        if not self.manifest_path.exists():
            return {"stages": {}}
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CarelensError(f"corrupt manifest: {exc}", where=str(self.manifest_path)) from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_text_atomic(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=True, default=str))

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge top-level fields into the manifest and write it."""
        manifest = self.manifest()
        manifest.update(fields)
        self.write_manifest(manifest)
        return manifest
