"""Get a dataset file: from ``$CARELENS_DATA_MIRROR`` or the cache, else download it; verify sha256."""

import hashlib
from pathlib import Path

import httpx

from carelens.datasets.sources import Upstream
from carelens.errors import CarelensError
from carelens.paths import cache_dir, data_mirror
from carelens.store import atomic_path

_verified: dict[Path, str] = {}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected: str) -> Path:
    key = path.resolve()
    stamp = f"{path.stat().st_mtime_ns}:{path.stat().st_size}"
    if _verified.get(key) == stamp:
        return path
    actual = sha256_file(path)
    if actual != expected:
        raise CarelensError(
            f"checksum mismatch: expected sha256 {expected}, found {actual}; the file is not the pinned "
            "upstream version (replace it, or delete it from the cache to fetch it again)",
            where=str(path),
        )
    _verified[key] = stamp
    return path


def _download(upstream: Upstream, relpath: str, target: Path) -> None:
    url = upstream.url(relpath)
    try:
        with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
            response.raise_for_status()
            with atomic_path(target) as tmp, tmp.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                out.flush()
                actual = hashlib.sha256(tmp.read_bytes()).hexdigest()
                if actual != upstream.sha256(relpath):
                    raise CarelensError(
                        f"checksum mismatch: expected {upstream.sha256(relpath)}, downloaded {actual}",
                        where=url,
                    )
    except httpx.HTTPError as exc:
        raise CarelensError(
            f"could not download ({exc}); without network access, set CARELENS_DATA_MIRROR to a folder "
            f"that holds '{upstream.folder}/{relpath}'",
            where=url,
        ) from None


def dataset_file(upstream: Upstream, relpath: str) -> Path:
    """The verified local path of one upstream file, fetching it into the cache when needed."""
    expected = upstream.sha256(relpath)
    mirror = data_mirror()
    if mirror is not None:
        path = mirror / upstream.folder / relpath
        if not path.exists():
            raise CarelensError("file missing from the data mirror ($CARELENS_DATA_MIRROR)", where=str(path))
        return _verify(path, expected)
    target = cache_dir() / "data" / upstream.folder / relpath
    if not target.exists():
        _download(upstream, relpath, target)
    return _verify(target, expected)
