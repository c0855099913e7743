"""A reply cut into EPITOME-sized windows of whole sentences, and levels decided over its windows.

EPITOME's replies are short (mean 47 words) and its mechanisms are communicated by single
sentences or spans. A long reply scored as one text dilutes a specific exploring question at its
end among a dozen sentences of advice; scored window by window, with windows about as long as the
replies the classifier learnt from, the question stands in its own window. A reply's level for a
mechanism is the highest level the classifier gives any of its windows, so the level depends on
every part of the reply, wherever it stands, and neutral paragraphs added to a reply (new windows
of level 0) do not change it. Neutral sentences added inside a paragraph share a window with its
sentences and can still dilute them. The window that decided each level is the score's evidence.
"""

import re

import numpy as np

from carelens.scoring.text import SENTENCE_END, WORD

WINDOW_WORDS = 64
PARAGRAPH = re.compile(r"\n\s*\n")


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` with their closing punctuation and original spacing inside."""
    out, start = [], 0
    for end in [m.end() for m in SENTENCE_END.finditer(text)] + [len(text)]:
        part = text[start:end].strip()
        if WORD.search(part):
            out.append(part)
        start = end
    return out


def windows(text: str, max_words: int = WINDOW_WORDS) -> list[str]:
    """Consecutive whole sentences of one paragraph packed greedily into windows of at most
    ``max_words`` words (a longer sentence is a window of its own). Windows never span a blank
    line, so a paragraph added to a reply leaves the windows of the others as they were."""
    out: list[str] = []
    for paragraph in PARAGRAPH.split(text):
        current: list[str] = []
        count = 0
        for sentence in sentences(paragraph):
            n = len(WORD.findall(sentence))
            if current and count + n > max_words:
                out.append(" ".join(current))
                current, count = [], 0
            current.append(sentence)
            count += n
        if current:
            out.append(" ".join(current))
    return out


def split_all(texts: list[str], max_words: int | None) -> tuple[list[str], np.ndarray]:
    """Every window of ``texts`` and the index of the text each belongs to (whole texts if None)."""
    parts: list[str] = []
    owner: list[int] = []
    for index, text in enumerate(texts):
        pieces = windows(text, max_words) if max_words else ([text] if WORD.search(text) else [])
        parts.extend(pieces)
        owner.extend([index] * len(pieces))
    return parts, np.asarray(owner, dtype=int)


def decide(proba: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Levels (n, mechanisms) from window probabilities (windows, mechanisms, levels): per text the
    highest level any window reaches; and the deciding window per text and mechanism: among the
    windows at that level, the one most confident of it (for level 0, the one closest to level 1).
    Texts without windows get level 0 and window -1."""
    mechanisms = proba.shape[1] if proba.ndim == 3 else 3
    levels = np.zeros((n, mechanisms), dtype=int)
    deciding = -np.full((n, mechanisms), 1, dtype=int)
    best = np.full((n, mechanisms), -np.inf)
    window_levels = proba.argmax(-1) if len(proba) else np.zeros((0, mechanisms), dtype=int)
    for w in range(len(owner)):
        t = owner[w]
        for j in range(mechanisms):
            lv = window_levels[w, j]
            strength = proba[w, j, lv] if lv > 0 else proba[w, j, 1:].sum()
            if deciding[t, j] < 0 or lv > levels[t, j] or (lv == levels[t, j] and strength > best[t, j]):
                levels[t, j], best[t, j], deciding[t, j] = lv, strength, w
    return levels, deciding


def quote(text: str, limit: int = 400) -> str:
    """A window as evidence: whitespace collapsed, cut at ``limit`` characters."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
