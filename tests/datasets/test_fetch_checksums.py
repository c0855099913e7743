"""Dataset files are verified against their pinned sha256, from the mirror and from the cache."""

import shutil

import pytest

from carelens.datasets.fetch import dataset_file
from carelens.datasets.sources import COUNSEL_CHAT
from carelens.errors import CarelensError


def test_mirror_file_verified(mirror):
    assert dataset_file(COUNSEL_CHAT, "20200325_counsel_chat.csv").stat().st_size > 1_000_000


def test_checksum_mismatch_is_reported(tmp_path, monkeypatch, mirror):
    fake = tmp_path / "mirror" / "counsel-chat"
    fake.mkdir(parents=True)
    target = fake / "20200325_counsel_chat.csv"
    shutil.copy(mirror / "counsel-chat" / "20200325_counsel_chat.csv", target)
    with target.open("ab") as handle:
        handle.write(b"tampered")
    monkeypatch.setenv("CARELENS_DATA_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(CarelensError, match="checksum mismatch") as info:
        dataset_file(COUNSEL_CHAT, "20200325_counsel_chat.csv")
    assert str(target) in str(info.value)


def test_missing_mirror_file_and_offline_download(tmp_path, monkeypatch, cache_dir):
    monkeypatch.setenv("CARELENS_DATA_MIRROR", str(tmp_path / "empty"))
    with pytest.raises(CarelensError, match="missing from the data mirror"):
        dataset_file(COUNSEL_CHAT, "20200325_counsel_chat.csv")
    monkeypatch.delenv("CARELENS_DATA_MIRROR")
    monkeypatch.setattr("carelens.datasets.sources.Upstream.url", lambda self, rel: "http://127.0.0.1:9/x")
    with pytest.raises(CarelensError, match="could not download"):
        dataset_file(COUNSEL_CHAT, "20200325_counsel_chat.csv")
    assert not any(cache_dir.rglob("*.csv"))
