"""Cheap surface measures of a response: length, readability, second-person and question rates.

They explain much of the ER/EX gap between models and peers (longer replies that ask more questions
and address the reader directly score higher), so a report can tell style from substance.
"""

import re
from collections.abc import Sequence

import pandas as pd
import textstat

from carelens.scoring.base import Pair
from carelens.scoring.settings import ScoringConfig

WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
SECOND_PERSON = frozenset(
    {
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "you're",
        "you’re",
        "you've",
        "you’ve",
        "you'll",
        "you’ll",
        "you'd",
        "you’d",
        "u",
        "ur",
        "ya",
        "y'all",
        "y’all",
    }
)
# A sentence ends at . ! ? (runs of them) or a line break.
SENTENCE_END = re.compile(r"[.!?]+|\n+")


def words(text: str) -> list[str]:
    """The words of a text (letters/digits with inner apostrophes), lower-cased."""
    return [w.lower() for w in WORD.findall(text)]


def sentences(text: str) -> list[str]:
    """Sentences with their closing punctuation, blank ones dropped."""
    parts: list[str] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        parts.append(text[start : match.end()])
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if WORD.search(p)]


def measure(text: str) -> dict[str, float]:
    """The text measures of one response; rates and readability are NaN for a text without words."""
    tokens = words(text)
    sents = sentences(text)
    if not tokens:
        return {
            "words": 0.0,
            "readability": float("nan"),
            "second_person_rate": float("nan"),
            "question_rate": float("nan"),
        }
    return {
        "words": float(len(tokens)),
        "readability": float(textstat.flesch_reading_ease(text)),
        "second_person_rate": sum(t in SECOND_PERSON for t in tokens) / len(tokens),
        "question_rate": sum("?" in s for s in sents) / len(sents),
    }


class TextScorer:
    """Length in words, Flesch reading ease (textstat 0.7.8; higher = easier, about 60-70 is plain
    English), the share of words that address the reader (you, your, ...) and the share of sentences
    that are questions. Only the response is measured."""

    name = "text"
    parallel = True  # pure Python and cheap to build: may run in worker processes
    metrics = ("words", "readability", "second_person_rate", "question_rate")

    def __init__(self, config: ScoringConfig | None = None) -> None:
        del config

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        return pd.DataFrame([measure(response) for _, response in pairs], columns=list(self.metrics))
