"""Shared test set-up: the data mirror and a private cache directory."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("CARELENS_DATA_MIRROR", REPO.parent / "shared" / "data")).resolve()
os.environ["CARELENS_DATA_MIRROR"] = str(MIRROR)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local data mirror (``../shared/data`` unless CARELENS_DATA_MIRROR says otherwise)."""
    if not (MIRROR / "mh-eval").exists():
        pytest.fail(f"data mirror not found at {MIRROR}; set CARELENS_DATA_MIRROR")
    return MIRROR


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty carelens cache for one test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("CARELENS_CACHE_DIR", str(path))
    return path
