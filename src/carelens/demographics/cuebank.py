"""The implicit-cue bank: loading and checking cue files, and choosing cues for a design cell."""

import hashlib
import random
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carelens.demographics.vocabulary import GENDERS, RACES
from carelens.errors import CarelensError

ATTRIBUTES = ("race", "gender", "age")
BUILTIN = "builtin"


class Cue(BaseModel):
    """One implicit cue: a sentence and the groups it signals (see ``cue_bank.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    race: str | None = None
    gender: str | None = None
    age: Literal["any"] | None = None
    kind: Literal["cultural", "name", "dialect", "community"]
    provenance: str = Field(min_length=1)

    @field_validator("race")
    @classmethod
    def _race(cls, value: str | None) -> str | None:
        if value is not None and value not in RACES:
            raise ValueError(f"unknown race {value!r}; allowed: {', '.join(RACES)}")
        return value

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str | None) -> str | None:
        if value is not None and value not in GENDERS:
            raise ValueError(f"unknown gender {value!r}; allowed: {', '.join(GENDERS)}")
        return value

    @model_validator(mode="after")
    def _signals(self) -> "Cue":
        if not self.signals:
            raise ValueError("a cue must signal at least one of race, gender, age")
        if (self.age == "any") != ("{age}" in self.text):
            raise ValueError("an age cue (age = \"any\") must contain {age} in its text, "
                             "and only age cues may")
        if self.text != self.text.strip() or "\n" in self.text:
            raise ValueError("a cue's text is one line without surrounding spaces")
        return self

    @property
    def signals(self) -> tuple[str, ...]:
        """The attributes this cue signals, in ``ATTRIBUTES`` order."""
        return tuple(a for a in ATTRIBUTES if getattr(self, a) is not None)

    def fits(self, cell: dict[str, str | None]) -> bool:
        """Whether every attribute the cue signals is in the cell with the same value."""
        for attr in self.signals:
            if cell.get(attr) is None or (attr != "age" and getattr(self, attr) != cell[attr]):
                return False
        return True

    def render(self, cell: dict[str, str | None]) -> str:
        return self.text.replace("{age}", str(cell["age"])) if self.age else self.text


@dataclass(frozen=True)
class CueBank:
    """Cues from one or more files, with unique ids."""

    cues: tuple[Cue, ...]

    def covers(self, cell: dict[str, str | None]) -> list[tuple[Cue, ...]]:
        """Every set of cues that together signal exactly the cell's attributes, each attribute once."""
        wanted = frozenset(a for a in ATTRIBUTES if cell.get(a) is not None)
        found: list[tuple[Cue, ...]] = []

        def extend(remaining: frozenset[str], chosen: tuple[Cue, ...]) -> None:
            if not remaining:
                found.append(chosen)
                return
            first = next(a for a in ATTRIBUTES if a in remaining)
            for cue in self.cues:
                if first in cue.signals and set(cue.signals) <= remaining and cue.fits(cell):
                    extend(remaining - set(cue.signals), (*chosen, cue))

        extend(wanted, ())
        return found

    def choose(self, cell: dict[str, str | None], n: int, key: str) -> list[tuple[Cue, ...]]:
        """``n`` distinct covers of the cell (fewer if fewer exist), chosen reproducibly from ``key``."""
        options = self.covers(cell)
        rng = random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))
        return rng.sample(options, min(n, len(options)))

    def missing(self, races: list[str], genders: list[str], ages: bool) -> list[str]:
        """Design groups no cue signals (e.g. ['race=pacific_islander'])."""
        out = [f"race={r}" for r in races if not any(c.race == r for c in self.cues)]
        out += [f"gender={g}" for g in genders if not any(c.gender == g for c in self.cues)]
        if ages and not any(c.age for c in self.cues):
            out.append("age")
        return out

    def sizes(self) -> dict[str, int]:
        """How many cues signal each group (a joint race+gender cue counts for both)."""
        counts: Counter[str] = Counter()
        for cue in self.cues:
            for attr in cue.signals:
                counts[f"{attr}={getattr(cue, attr)}"] += 1
        return dict(sorted(counts.items()))


def _line_of(text: str, cue_id: object) -> int | None:
    needle = f'"{cue_id}"'
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("id") and needle in line:
            return number
    return None


def parse_bank(text: str, source: str) -> tuple[Cue, ...]:
    """Parse cue-bank TOML text; errors name ``source`` and the line of the bad cue."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CarelensError(f"not valid TOML: {exc}", where=source) from None
    extra = set(data) - {"cue"}
    if extra or not isinstance(data.get("cue"), list) or not data["cue"]:
        raise CarelensError("a cue bank is a list of [[cue]] tables (and nothing else)", where=source)
    cues = []
    for index, raw in enumerate(data["cue"]):
        try:
            cues.append(Cue.model_validate(raw))
        except ValidationError as exc:
            line = _line_of(text, raw.get("id"))
            where = f"{source}:{line}" if line else f"{source} (cue #{index + 1})"
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'cue'}: {e['msg']}" for e in exc.errors())
            raise CarelensError(f"bad cue {raw.get('id', '')!r}: {problems}", where=where) from None
    return tuple(cues)


@cache
def builtin_bank() -> CueBank:
    """The packaged ``cue_bank.toml``."""
    text = files("carelens.demographics").joinpath("cue_bank.toml").read_text(encoding="utf-8")
    return _merge([parse_bank(text, "carelens/demographics/cue_bank.toml")], "builtin")


def _merge(parts: list[tuple[Cue, ...]], where: str) -> CueBank:
    cues = [cue for part in parts for cue in part]
    dupes = sorted(k for k, v in Counter(c.id for c in cues).items() if v > 1)
    if dupes:
        raise CarelensError(f"cue ids used more than once: {dupes}", where=where)
    return CueBank(tuple(cues))


def load_banks(sources: list[str], resolve: Callable[[str], Path]) -> CueBank:
    """The cues of ``builtin`` and/or cue files (paths resolved by ``resolve``), ids unique overall."""
    parts = []
    for source in sources:
        if source == BUILTIN:
            parts.append(builtin_bank().cues)
            continue
        path = resolve(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CarelensError("cue bank file not found", where=f"demographics.cue_banks: {path}") from None
        except UnicodeDecodeError as exc:
            raise CarelensError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None
        parts.append(parse_bank(text, str(path)))
    return _merge(parts, "demographics.cue_banks")
