"""Fidelity checks: does a variant keep its post's meaning and change nothing but the cue?

Every non-original variant gets: embedding cosine similarity to its original (``similarity``) at least
``min_similarity``; relative length change (``length_change``) at most ``max_length_change`` in size;
for template and cue-bank variants, the exact check that the variant is the original with the cue
inserted once (only whitespace around it); for rewrites, that at least ``min_retained`` of the
original's words survive in order and that the cue's content words appear. A failure sets
``fidelity_ok`` False and says why in ``fidelity_note``; the row stays in the table.
"""

import re
from collections.abc import Callable
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from carelens.demographics.settings import DemographicsConfig

Embed = Callable[[list[str]], np.ndarray]
_WORD = re.compile(r"[\w'’]+")


def only_cue_added(original: str, variant: str, cue: str) -> str | None:
    """None if ``variant`` is ``original`` with ``cue`` inserted once (plus whitespace), else why not."""
    if not cue:
        return "no cue recorded"
    count = variant.count(cue)
    if count != 1:
        already = original.count(cue)
        return f"cue appears {count} times" + (" (it is already in the post)" if already else "")
    at = variant.index(cue)
    left, right = variant[:at], variant[at + len(cue):]
    left_ws = len(left) - len(left.rstrip())
    right_ws = len(right) - len(right.lstrip())
    for k in range(left_ws + 1):
        for j in range(right_ws + 1):
            if left[:len(left) - k] + right[j:] == original:
                return None
    return "text other than the cue changed"


def retained_share(original: str, variant: str) -> float:
    """The share of the original's words that appear, in order, in the variant."""
    words = _WORD.findall(original.lower())
    if not words:
        return 1.0
    matcher = SequenceMatcher(None, words, _WORD.findall(variant.lower()), autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(words)


def cue_words_present(cue: str, variant: str) -> float:
    """The share of the cue's content words (4+ letters) found in the variant."""
    words = {w for w in _WORD.findall(cue.lower()) if len(w) >= 4}
    if not words:
        return 1.0
    present = set(_WORD.findall(variant.lower()))
    return len(words & present) / len(words)


def _default_embed(texts: list[str]) -> np.ndarray:
    from carelens.encoder import encode

    return encode(texts)


def _problems(row: object, original: str, text: str, similarity: float, change: float,
              config: DemographicsConfig) -> list[str]:
    problems = []
    if similarity < config.min_similarity:
        problems.append(f"similarity {similarity:.3f} < {config.min_similarity}")
    if abs(change) > config.max_length_change:
        problems.append(f"length change {change:+.0%} beyond ±{config.max_length_change:.0%}")
    method = str(getattr(row, "cue_method", "") or "")
    cue = str(getattr(row, "cue", "") or "")
    if method.startswith("template:") or method == "bank":
        exact = only_cue_added(original, text, cue)
        if exact:
            problems.append(exact)
    elif method.startswith("rewrite:"):
        kept = retained_share(original, text)
        if kept < config.min_retained:
            problems.append(f"only {kept:.0%} of the original's words kept (< {config.min_retained:.0%})")
        present = cue_words_present(cue, text)
        if present < 0.5:
            problems.append(f"cue not woven in ({present:.0%} of its content words found)")
    return problems


def check_fidelity(variants: pd.DataFrame, originals: dict[str, str], config: DemographicsConfig,
                   embed: Embed | None = None) -> pd.DataFrame:
    """Fill ``fidelity_ok``, ``fidelity_note``, ``similarity`` and ``length_change`` for every variant.

    ``originals`` maps post_id to the original text. A failed check of an earlier stage (a note
    already set, fidelity_ok False) is kept and added to. Originals pass by definition.
    """
    out = variants.copy()
    if out.empty:
        out["similarity"] = pd.Series(dtype="float64")
        out["length_change"] = pd.Series(dtype="float64")
        return out
    source: list[str | None] = [originals.get(str(pid)) for pid in out["post_id"]]
    texts = out["text"].fillna("").astype(str).tolist()
    cued = [i for i, kind in enumerate(out["cue_kind"])
            if kind != "none" and source[i] is not None and texts[i]]
    similarity = np.full(len(out), np.nan)
    if cued:
        pairs = sorted({str(source[i]) for i in cued} | {texts[i] for i in cued})
        index = {text: k for k, text in enumerate(pairs)}
        vectors = (embed or _default_embed)(pairs)
        for i in cued:
            similarity[i] = float(np.dot(vectors[index[str(source[i])]], vectors[index[texts[i]]]))
    oks, notes, changes = [], [], []
    for i, row in enumerate(out.itertuples(index=False)):
        earlier = [str(row.fidelity_note)] if isinstance(row.fidelity_note, str) and row.fidelity_note else []
        earlier_ok = True if pd.isna(row.fidelity_ok) else bool(row.fidelity_ok)
        problems: list[str] = []
        original, text = source[i], texts[i]
        change = np.nan
        if row.cue_kind == "none":
            change = 0.0
        elif original is None:
            problems.append("original post not found")
        elif not text:
            problems.append("variant has no text")
        else:
            change = (len(text) - len(original)) / max(len(original), 1)
            problems += _problems(row, original, text, float(similarity[i]), change, config)
        oks.append(earlier_ok and not problems)
        notes.append("; ".join(earlier + problems))
        changes.append(change)
    out["fidelity_ok"] = oks
    out["fidelity_note"] = notes
    out["similarity"] = np.where(out["cue_kind"] == "none", 1.0, similarity)
    out["length_change"] = changes
    return out
