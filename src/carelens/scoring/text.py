"""Cheap surface measures of a response: length, readability, second-person and question rates.

They explain much of the ER/EX gap between models and peers (longer replies that ask more questions
and address the reader directly score higher), so a report can tell style from substance.
"""

import re
from collections.abc import Sequence

import pandas as pd
import textstat

from carelens.scoring.base import BaseScorer, Pair

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


def measure(text: str) -> tuple[dict[str, float], dict[str, str]]:
    """The text measures of one response and the evidence of each; rates and readability are NaN
    for a text without words."""
    tokens = words(text)
    sents = sentences(text)
    if not tokens:
        nan = float("nan")
        values = {"words": 0.0, "readability": nan, "second_person_rate": nan, "question_rate": nan}
        return values, {
            "words": "the response has no words",
            "readability": "",
            "second_person_rate": "",
            "question_rate": "",
        }
    second = [t for t in tokens if t in SECOND_PERSON]
    questions = [s for s in sents if "?" in s]
    values = {
        "words": float(len(tokens)),
        "readability": float(textstat.flesch_reading_ease(text)),
        "second_person_rate": len(second) / len(tokens),
        "question_rate": len(questions) / len(sents),
    }
    evidence = {
        "words": f"{len(tokens)} words in the response",
        "readability": f"Flesch reading ease of {len(sents)} sentence(s), {len(tokens)} words",
        "second_person_rate": (
            f"{len(second)} of {len(tokens)} words address the reader: {', '.join(sorted(set(second)))}"
            if second
            else f"none of {len(tokens)} words addresses the reader"
        ),
        "question_rate": (
            f"{len(questions)} of {len(sents)} sentence(s) ask: " + " | ".join(questions)
            if questions
            else f"none of {len(sents)} sentence(s) is a question"
        ),
    }
    return values, evidence


class TextScorer(BaseScorer):
    """Length in words, Flesch reading ease (textstat 0.7.8; higher = easier, about 60-70 is plain
    English), the share of words that address the reader (you, your, ...) and the share of sentences
    that are questions. Only the response is measured; the evidence names the words or sentences
    counted."""

    name = "text"
    registered = "text"
    parallel = True  # pure Python and cheap to build: may run in worker processes
    metrics = ("words", "readability", "second_person_rate", "question_rate")
    ranges = {"words": (0.0, float("inf")), "second_person_rate": (0.0, 1.0), "question_rate": (0.0, 1.0)}

    def __init__(self) -> None:
        pass

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        measured = [measure(response) for _, response in pairs]
        return self.frame(
            {m: [v[m] for v, _ in measured] for m in self.metrics},
            {m: [e[m] for _, e in measured] for m in self.metrics},
        )
