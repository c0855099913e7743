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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

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


def frame_hash(frame: pd.DataFrame) -> str:
    """A content hash of a frame (row order and values), stable across runs."""
    hashed = pd.util.hash_pandas_object(frame.astype("string").fillna("\x00<NA>"), index=False)
    digest = hashlib.sha256(hashed.to_numpy().tobytes())
    digest.update(json.dumps(list(frame.columns)).encode())
    return digest.hexdigest()


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

    def write_table(self, name: str, frame: pd.DataFrame) -> str:
        """Write a table atomically and return its content hash."""
        if name in SCHEMAS:
            frame = conform(name, frame)
        with atomic_path(self.table_path(name)) as tmp:
            frame.to_parquet(tmp, index=False)
        return frame_hash(frame)

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
