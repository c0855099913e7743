"""The `mi` scorer: motivational-interviewing behaviour codes, MITI 4.2.1 summary scores and
estimated globals of each reply, offline.

Every sentence of a reply gets one MITI 4.2.1 behaviour code (``carelens.scoring.mi_model``: giving
information, persuade with / without permission, question, simple / complex reflection, affirm,
seeking collaboration, emphasizing autonomy, confront, or not coded). From the codes come MITI's
summary scores and the estimated globals (``carelens.scoring.mi_globals``). Each metric comes with
an ``evidence:<metric>`` column: the coded sentences that decided it ("CR: It sounds like you feel
trapped. | Q: What would help?"). The coding guide and the model card are docs/mi-coding-guide.md
and docs/mi-model-card.md. ``JUDGE_RUBRIC`` is the prompt for users who rate the globals with a
model instead (the ``judge`` scorer).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from carelens.errors import CarelensError
from carelens.scoring.mi_globals import post_talk, summarise
from carelens.scoring.mi_model import SHIPPED, CodeModel, load_model
from carelens.scoring.mi_text import content_words, split_sentences

if TYPE_CHECKING:
    from carelens.scoring.settings import ScoringConfig

Pair = tuple[str, str]
OPTIONS_KEY = "scoring.options.mi"
DEFAULT_MODEL = SHIPPED / "mi_model_finetuned.npz"
FAST_MODEL = SHIPPED / "mi_model.npz"  # the logistic-regression variant: numpy only, about 8x faster

METRICS: tuple[str, ...] = (
    "mi_change_talk",
    "mi_sustain_talk",
    "mi_partnership",
    "mi_reflection_question_ratio",
    "mi_pct_complex_reflections",
    "mi_adherent",
    "mi_non_adherent",
    "mi_reflections",
    "mi_questions",
)
RANGES: dict[str, tuple[float, float]] = {
    "mi_change_talk": (1.0, 5.0),
    "mi_sustain_talk": (1.0, 5.0),
    "mi_partnership": (1.0, 5.0),
    "mi_pct_complex_reflections": (0.0, 1.0),
}

JUDGE_RUBRIC = """\
You rate one reply to a person who asked for mental-health support online, as a clinician trained in
the Motivational Interviewing Treatment Integrity code (MITI 4.2.1) would rate a short exchange. Read
the seeker's post, then the reply. Rate the reply only.

First decide what the post contains:
- Change talk: the seeker's own words in favour of change (wanting, being able, having reasons,
  needing, or committing to change: "I want to stop", "I started seeing a therapist").
- Sustain talk: the seeker's own words in favour of the status quo ("I can't stop", "nothing helps",
  "I don't want to go to therapy").

Then rate, each on 1-5:
- MITI_CCT, cultivating change talk (answer "NA" when the post holds no change talk):
  1 = no attention to the seeker's change talk; 2 = sporadic, misses most chances to encourage it;
  3 = often attends to it but misses some chances; 4 = consistently attends to it and encourages it
  (reflects, asks about or affirms the seeker's reasons, wishes and steps); 5 = marked, consistent
  effort to deepen and strengthen it.
- MITI_SST, softening sustain talk (answer "NA" when the post holds no sustain talk):
  1 = consistently deepens the arguments for the status quo; 2 = usually explores or focuses on
  sustain talk; 3 = gives sustain talk preference with some shifts away; 4 = typically avoids
  emphasising it; 5 = marked, consistent effort to lessen its depth and momentum (without arguing).
- MITI_PARTNERSHIP, partnership: 1 = takes the expert role throughout (tells, advises, corrects);
  2 = superficial openings for the seeker's ideas; 3 = includes the seeker's goals and ideas, but
  lukewarmly; 4 = fosters collaboration: asks for the seeker's views, respects their choices;
  5 = actively shares power: the seeker's ideas and choices substantially shape the reply.

Unsolicited advice, arguing, warning and confronting lower all three; reflections that capture the
seeker's meaning, questions that invite the seeker's own reasons, affirmations of real strengths,
and statements of the seeker's autonomy raise them. Length and warmth alone do not.

Answer with one JSON object and nothing else:
{"MITI_CCT": 1-5 or "NA", "MITI_SST": 1-5 or "NA", "MITI_PARTNERSHIP": 1-5,
 "evidence": "the reply's sentences that decided your ratings"}
"""


class MIScorer:
    """MITI 4.2.1 codes of each reply sentence, summary scores and estimated globals.

    Parameters
    ----------
    model:
        Path of a code model (``NAME.npz`` with ``NAME.json``); None uses the shipped fine-tuned one,
        ``"fast"`` the shipped logistic regression (``FAST_MODEL``: weaker on reflections, about eight
        times faster, numpy only).
    advice_asked_is_permission:
        MITI codes advice the seeker asked for as persuasion with permission: when the post asks for
        advice ("any tips?", "what should I do?"), PERS sentences count as PWP (not MI-non-adherent).
    min_shared_words:
        How many content words a reply sentence must share with a change- or sustain-talk sentence of
        the post to count as attending to it.
    """

    name = "mi"
    metrics = METRICS
    ranges = RANGES

    def __init__(
        self, model: str | None = None, advice_asked_is_permission: bool = True, min_shared_words: int = 2
    ) -> None:
        if min_shared_words < 1:
            raise CarelensError("must be at least 1", where=f"{OPTIONS_KEY}.min_shared_words")
        self.model = model
        self.advice_asked_is_permission = advice_asked_is_permission
        self.min_shared_words = min_shared_words
        path = FAST_MODEL if model == "fast" else Path(model).expanduser() if model else DEFAULT_MODEL
        self._codes: CodeModel = load_model(path)
        # Without an encoder it is numpy only and cheap to build, so it may run in worker processes.
        self.parallel = self._codes.encoder == "none"
        self.notes: dict[str, Any] = {"code_model": self._codes.card.get("model", "")}

    def get_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "advice_asked_is_permission": self.advice_asked_is_permission,
            "min_shared_words": self.min_shared_words,
        }

    @classmethod
    def from_config(cls, config: "ScoringConfig") -> "MIScorer":
        options = dict(config.options.get("mi", {}))
        allowed = {"model", "advice_asked_is_permission", "min_shared_words"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise CarelensError(f"unknown option(s) {unknown}; allowed: {sorted(allowed)}", where=OPTIONS_KEY)
        return cls(**options)

    def code(self, pairs: Sequence[Pair]) -> list[list[tuple[str, str]]]:
        """The (code, sentence) list of each reply, after the advice-asked rule."""
        sentences = [split_sentences(response) for _, response in pairs]
        flat = [s for reply in sentences for s in reply]
        post_words = [content_words(post) for post, _ in pairs]
        flat_posts = [post_words[i] for i, reply in enumerate(sentences) for _ in reply]
        codes, _ = self._codes.predict(flat, flat_posts)
        out: list[list[tuple[str, str]]] = []
        start = 0
        for (post, _), reply in zip(pairs, sentences, strict=True):
            reply_codes = codes[start : start + len(reply)]
            start += len(reply)
            if self.advice_asked_is_permission and post_talk(post).asks_advice:
                reply_codes = ["PWP" if c == "PERS" else c for c in reply_codes]
            out.append(list(zip(reply_codes, reply, strict=True)))
        return out

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        rows: list[dict[str, Any]] = []
        for (post, _), coded in zip(pairs, self.code(pairs), strict=True):
            codes = [c for c, _ in coded]
            sentences = [s for _, s in coded]
            summary = summarise(sentences, codes, post_talk(post), self.min_shared_words)
            row: dict[str, Any] = {}
            for metric in METRICS:
                value = summary.values[metric]
                row[metric] = value
                chosen = summary.evidence[metric] if not np.isnan(value) else []
                row[f"evidence:{metric}"] = " | ".join(f"{codes[i]}: {sentences[i]}" for i in chosen)
                if not np.isnan(value) and not chosen:
                    row[f"evidence:{metric}"] = "no sentence coded " + _none_of(metric)
            rows.append(row)
        columns = [*METRICS, *(f"evidence:{m}" for m in METRICS)]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.astype({m: np.float64 for m in METRICS})


def _none_of(metric: str) -> str:
    return {
        "mi_adherent": "AF, SEEK or EMPH",
        "mi_non_adherent": "PERS or CON",
        "mi_reflections": "SR or CR",
        "mi_questions": "Q",
    }.get(metric, "in any MI code (every sentence is NC)")
