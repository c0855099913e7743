"""Counterfactual variants of a post: explicit template cues and cue-bank sentences.

A design cell is a dict ``{"race": ..., "gender": ..., "age": ...}`` (None for attributes the design
does not vary). Each variant is a dict with the columns of the ``variants`` table plus ``cue_id`` (the
cue-bank ids, "+"-joined) and ``cue_method`` (``template:<name>``, ``bank``, ``rewrite:<model>``,
``collected``, or ``original``).
"""

import hashlib
import itertools
import random
import re
from typing import Any

from carelens.demographics.cuebank import CueBank
from carelens.demographics.settings import EXPLICIT_TEMPLATES, DemographicsConfig
from carelens.demographics.vocabulary import GENDERS, RACES, article
from carelens.ids import original_variant_id, stable_id

Cell = dict[str, str | None]

# A sentence boundary: end punctuation (with closing quotes/brackets) then spaces, or line breaks.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*[ \t]+(?=\S)|\n+(?=\S)")


def design_cells(config: DemographicsConfig) -> list[Cell]:
    """The cells of a counterfactual design: every combination (``full``) or one attribute at a time."""
    levels = {"race": list(config.races), "gender": list(config.genders),
              "age": [str(a) for a in config.ages]}
    used = [a for a in levels if levels[a]]
    if config.crossing == "full":
        return [{a: dict(zip(used, combo, strict=True)).get(a) for a in levels}
                for combo in itertools.product(*(levels[a] for a in used))]
    return [{a: (value if a == attr else None) for a in levels} for attr in used for value in levels[attr]]


def cell_words(cell: Cell) -> dict[str, str]:
    """Template placeholder values for a cell (see ``settings.PLACEHOLDERS``)."""
    race, gender, age = cell.get("race"), cell.get("gender"), cell.get("age")
    race_lower = RACES[race].lower if race else ""
    race_title = RACES[race].title if race else ""
    short_gender, noun = GENDERS[gender] if gender else ("", "")
    short = ", ".join(p for p in (f"{age}y/o" if age else "", f"{race_lower} {short_gender}".strip()) if p)
    person = noun or "person"
    if age:
        described = " ".join(p for p in (f"{age}-year-old", race_title, person) if p)
        sentence = f"I'm {article(described)} {described}." if (race or gender) else f"I'm {age} years old."
    elif race and gender:
        described = f"{race_title} {noun}"
        sentence = f"I'm {article(described)} {described}."
    elif race:
        sentence = f"I'm {race_title}."
    elif gender == "non-binary":
        sentence = "I'm non-binary."
    else:
        sentence = f"I'm {article(noun)} {noun}."
    return {"short": short, "sentence": sentence, "person": person, "race": race_lower, "Race": race_title,
            "gender": short_gender, "age": age or ""}


def explicit_cue(template: str, cell: Cell) -> tuple[str, str]:
    """The text a template puts before and after the post: ``(prefix, suffix)``, one of them empty."""
    text = EXPLICIT_TEMPLATES.get(template, template)
    before, _, after = text.partition("{post}")
    words = cell_words(cell)
    return before.format(**words), after.format(**words)


def sentence_boundaries(text: str) -> list[int]:
    """Offsets where a sentence or line starts (0 excluded), in order."""
    return [m.end() for m in _BOUNDARY.finditer(text)]


def insert_sentence(text: str, sentence: str, position: str, key: str) -> str:
    """Insert ``sentence`` at a sentence boundary of ``text`` without touching anything else.

    position: ``after-first`` (the first boundary; the start if there is none), ``start``, ``end``,
    or ``random`` (a boundary, start or end chosen reproducibly from ``key``).
    """
    bounds = sentence_boundaries(text)
    if position == "random":
        choices = [0, *bounds, len(text)]
        at = random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16)).choice(choices)
    elif position == "after-first":
        at = bounds[0] if bounds else 0
    elif position == "start":
        at = 0
    else:
        at = len(text)
    if at >= len(text.rstrip()):
        tail = text.rstrip()
        spacer = " " if tail[-1:] in (".", "!", "?", "…", '"', "”", "'", "’", ")") else "\n\n"
        return tail + spacer + sentence + text[len(tail):] if tail else sentence
    return text[:at] + sentence + " " + text[at:]


def variant_row(post_id: str, cell: Cell, cue_kind: str, method: str, cue: str, cue_id: str,
                text: str) -> dict[str, Any]:
    """A variants-table row (fidelity filled in later) with a content-hash id."""
    vid = stable_id("v", post_id, cell.get("race"), cell.get("gender"), cell.get("age"), cue_kind, method,
                    cue, text)
    return {"variant_id": vid, "post_id": post_id, "race": cell.get("race"), "gender": cell.get("gender"),
            "age": cell.get("age"), "cue_kind": cue_kind, "cue": cue, "text": text, "fidelity_ok": True,
            "fidelity_note": "", "defects": "", "cue_id": cue_id, "cue_method": method}


def original_row(post_id: str, text: str, defects: str = "") -> dict[str, Any]:
    """The unchanged original: the control (cue_kind "none")."""
    return {"variant_id": original_variant_id(post_id), "post_id": post_id, "race": None, "gender": None,
            "age": None, "cue_kind": "none", "cue": "", "text": text, "fidelity_ok": True,
            "fidelity_note": "", "defects": defects, "cue_id": "", "cue_method": "original"}


def explicit_variants(post_id: str, text: str, cells: list[Cell],
                      templates: list[str]) -> list[dict[str, Any]]:
    """One variant per cell and template: the template's cue around the unchanged post."""
    rows = []
    for template in templates:
        name = template if template in EXPLICIT_TEMPLATES else "custom"
        for cell in cells:
            prefix, suffix = explicit_cue(template, cell)
            rows.append(variant_row(post_id, cell, "explicit", f"template:{name}",
                                    (prefix + suffix).strip(), "", prefix + text + suffix))
    return rows


def bank_cues(post_id: str, cell: Cell, bank: CueBank, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` implicit cues for a post and cell: ``(sentence block, cue ids)``, reproducible from seed."""
    key = f"{seed}|{post_id}|{cell.get('race')}|{cell.get('gender')}|{cell.get('age')}"
    return [(" ".join(c.render(cell) for c in cover), "+".join(c.id for c in cover))
            for cover in bank.choose(cell, n, key)]


def bank_variants(post_id: str, text: str, cells: list[Cell], bank: CueBank, n: int, position: str,
                  seed: int) -> list[dict[str, Any]]:
    """Cue-bank variants: each chosen cue block inserted whole at a sentence boundary."""
    rows = []
    for cell in cells:
        for block, ids in bank_cues(post_id, cell, bank, n, seed):
            new = insert_sentence(text, block, position, f"{seed}|{post_id}|{ids}")
            rows.append(variant_row(post_id, cell, "implicit", "bank", block, ids, new))
    return rows
