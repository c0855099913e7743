"""The upstream repositories carelens fetches data from, each at a pinned commit with checksums."""

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Upstream:
    """A public repository folder at a pinned commit; ``folder`` is also the mirror's subfolder."""

    folder: str
    repository: str
    commit: str
    data_path: str
    license: str
    citation: str

    def url(self, relpath: str) -> str:
        return f"https://raw.githubusercontent.com/{self.repository}/{self.commit}/{self.data_path}/{relpath}"

    def sha256(self, relpath: str) -> str:
        return _checksums()[self.folder][relpath]

    def files(self, prefix: str = "") -> list[str]:
        return sorted(p for p in _checksums()[self.folder] if p.startswith(prefix))


@cache
def _checksums() -> dict[str, dict[str, str]]:
    text = files("carelens.datasets").joinpath("checksums.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


MH_EVAL = Upstream(
    folder="mh-eval",
    repository="skgabriel/mh-eval",
    commit="55b709640c96cdb01712b2257267e1c8fa44e692",
    data_path="data",
    license="Apache-2.0 (repository); texts are Reddit content: research use, never re-identify authors",
    citation=(
        "Gabriel, Puri, Xu, Malgaroli, Ghassemi. Can AI Relate: Testing Large Language Model "
        "Response for Mental Health Support. Findings of EMNLP 2024. arXiv:2405.12021."
    ),
)
EPITOME = Upstream(
    folder="epitome",
    repository="behavioral-data/Empathy-Mental-Health",
    commit="0e11f98901527550885dbf253bd2af92dbcec43b",
    data_path="dataset",
    license="Althoff academic license: non-commercial academic research only; keep the UW copyright notice",
    citation=(
        "Sharma, Miner, Atkins, Althoff. A Computational Approach to Understanding Empathy "
        "Expressed in Text-Based Mental Health Support. EMNLP 2020. arXiv:2009.08441."
    ),
)
COUNSEL_CHAT = Upstream(
    folder="counsel-chat",
    repository="nbertagnolli/counsel-chat",
    commit="e202e19c5002482f4f6631af754c276dd9adf7f2",
    data_path="data",
    license="MIT (c) 2020 nbertagnolli; text scraped from counselchat.com: cite the article",
    citation=(
        "Bertagnolli, N. (2020). Counsel chat: Bootstrapping high-quality therapy data. Towards Data Science."
    ),
)
