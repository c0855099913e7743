"""Where carelens keeps its cache and where it reads a local data mirror from."""

import os
from pathlib import Path

from platformdirs import user_cache_dir

MIRROR_ENV = "CARELENS_DATA_MIRROR"
CACHE_ENV = "CARELENS_CACHE_DIR"


def cache_dir() -> Path:
    """The cache root: ``$CARELENS_CACHE_DIR`` or ``~/.cache/carelens``."""
    root = os.environ.get(CACHE_ENV) or user_cache_dir("carelens", appauthor=False)
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """Where trained scorer models and their cards live."""
    path = cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_mirror() -> Path | None:
    """The local data mirror folder named by ``$CARELENS_DATA_MIRROR``, if set."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser().resolve() if value else None
