"""MITI summary scores and estimated globals of one coded reply (see docs/mi-coding-guide.md).

Change talk and sustain talk in the seeker's post are found with the phrase patterns below; the
globals are fixed, documented rules on the reply's codes and on how its sentences relate to the
post's change and sustain talk. They are estimates, not trained on clinicians' ratings.
"""

import math
import re
from dataclasses import dataclass

from carelens.scoring.mi_text import content_words, split_sentences

CHANGE_TALK = re.compile(
    r"\b(i (really )?(want|wanna|need|have|hope|wish|plan|intend|am going|'m going|am gonna|'m gonna|"
    r"will|'ll|"
    r"would like|'d like|am ready|'m ready|am trying|'m trying|try|tried|started|have started|'ve started|"
    r"decided|have decided|'ve decided|can|could|know i (need|should|have to)|should)\b"
    r"(?! not\b)[^.?!]{0,60}\b(stop|quit|change|get better|improve|cut (back|down)|better|help|therapy|"
    r"therapist|doctor|counsel\w*|recover\w*|heal\w*|work on|leave|move on|fix|sober|clean|exercise|"
    r"sleep|eat|reach out|talk to|learn|get out|make friends|find)\w*"
    r"|i('m| am) (ready|determined|committed|motivated) to"
    r"|i don'?t want to (keep|be like this|feel like this|"
    r"live like this|die|drink|use|cut|hurt)|i want (my life|things) to (change|be different|get better)"
    r"|i('ve| have) been (trying|working on|going to therapy|seeing a)|i('m| am) (getting|doing) better"
    r"|how (do|can) i (stop|change|get better|improve|quit|deal|cope|overcome|get over|move on|heal|learn)"
    r"|i want to be (happy|better|healthy|normal)|i want (help|to get help))\b",
    re.IGNORECASE,
)
SUSTAIN_TALK = re.compile(
    r"\b(i can'?t (stop|change|quit|do (it|this|anything)|get better|go on|see (a|the) point|be bothered)"
    r"|i (don'?t|do not) (want to|wanna) (go to|see|try|take|stop|quit|change|talk|get help|tell)"
    r"|nothing (helps|works|will (help|change|work))|(there'?s|there is) no point|what'?s the point"
    r"|(it'?s|it is) (pointless|hopeless|no use)|i('ve| have) tried everything|i('m| am) fine the way"
    r"|i (like|enjoy|need) (drinking|smoking|to drink|to smoke|getting high)"
    r"|i don'?t (see|think) (the point|it will help|it would help|therapy|it helps)"
    r"|i (won'?t|will not|refuse to) (go|see|take|stop|change|try)"
    r"|i('m| am) not (going to|gonna) (stop|change|go|try|quit)"
    r"|(therapy|meds|medication|help) (doesn'?t|don'?t|didn'?t|won'?t|never) (help|work)"
    r"|i give up|too late for me"
    r"|i('ll| will) never (change|get better|be happy|be normal)|i('m| am) (not|never) (ready|able) to)\b",
    re.IGNORECASE,
)
ATTENDING = frozenset({"SR", "CR", "AF", "Q", "SEEK", "EMPH"})
REFLECTIONS = frozenset({"SR", "CR"})
ADHERENT = frozenset({"AF", "SEEK", "EMPH"})
NON_ADHERENT = frozenset({"CON", "PERS"})
ASKS_ADVICE = re.compile(
    r"\b(any (advice|tips|suggestions|ideas)|advice\?|suggestions?\?|tips\?|what (should|do|can) i do|"
    r"how (do|can|should) i|need (some )?(advice|help|tips|suggestions)|"
    r"looking for (advice|tips|suggestions)|"
    r"please help|help me|recommend)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PostTalk:
    """The post's change-talk and sustain-talk sentences, and whether it asks for advice."""

    change: tuple[str, ...]
    sustain: tuple[str, ...]
    asks_advice: bool


def post_talk(post: str) -> PostTalk:
    sentences = split_sentences(post)
    return PostTalk(
        change=tuple(s for s in sentences if CHANGE_TALK.search(s.replace("’", "'"))),
        sustain=tuple(s for s in sentences if SUSTAIN_TALK.search(s.replace("’", "'"))),
        asks_advice=bool(ASKS_ADVICE.search(post.replace("’", "'"))),
    )


def is_question(code: str, sentence: str) -> bool:
    """MITI counts questions; a SEEK sentence asked as a question counts as one too."""
    return code == "Q" or (code == "SEEK" and sentence.rstrip().endswith("?"))


def _echoes(sentence: str, talk: tuple[str, ...], min_shared: int) -> bool:
    words = content_words(sentence)
    return any(len(words & content_words(t)) >= min_shared for t in talk)


def _you_change(sentence: str) -> bool:
    """A reply sentence that voices change for the seeker ("you want things to be different")."""
    text = sentence.replace("’", "'")
    return bool(
        CHANGE_TALK.search(
            re.sub(r"\byou('re| are)\b", "I am", re.sub(r"\byou\b", "I", text, flags=re.I), flags=re.I)
        )
    )


@dataclass(frozen=True)
class Summary:
    values: dict[str, float]
    evidence: dict[str, list[int]]  # metric -> indices of the sentences that decided it


def summarise(sentences: list[str], codes: list[str], talk: PostTalk, min_shared: int = 2) -> Summary:
    """MITI summary counts and ratios, and the estimated globals, with their deciding sentences."""
    idx = range(len(codes))
    questions = [i for i in idx if is_question(codes[i], sentences[i])]
    reflections = [i for i in idx if codes[i] in REFLECTIONS]
    complex_ = [i for i in reflections if codes[i] == "CR"]
    adherent = [i for i in idx if codes[i] in ADHERENT]
    non_adherent = [i for i in idx if codes[i] in NON_ADHERENT]
    confront = [i for i in idx if codes[i] == "CON"]
    coded = [i for i in idx if codes[i] != "NC"]
    values: dict[str, float] = {
        "mi_reflection_question_ratio": len(reflections) / len(questions) if questions else math.nan,
        "mi_pct_complex_reflections": len(complex_) / len(reflections) if reflections else math.nan,
        "mi_adherent": float(len(adherent)),
        "mi_non_adherent": float(len(non_adherent)),
        "mi_reflections": float(len(reflections)),
        "mi_questions": float(len(questions)),
    }
    evidence: dict[str, list[int]] = {
        "mi_reflection_question_ratio": sorted(reflections + questions),
        "mi_pct_complex_reflections": reflections,
        "mi_adherent": adherent,
        "mi_non_adherent": non_adherent,
        "mi_reflections": reflections,
        "mi_questions": questions,
    }
    attends_change = [
        i
        for i in idx
        if codes[i] in ATTENDING
        and (_echoes(sentences[i], talk.change, min_shared) or _you_change(sentences[i]))
    ]
    if talk.change:
        score = 1 + min(len(attends_change), 2)
        score += any(codes[i] in {"CR", "AF"} for i in attends_change)
        score -= bool(confront)
        values["mi_change_talk"] = float(min(max(score, 1), 5))
        evidence["mi_change_talk"] = sorted(set(attends_change + confront)) or coded
    else:
        values["mi_change_talk"] = math.nan
        evidence["mi_change_talk"] = []
    if talk.sustain:
        echo_sustain = [
            i
            for i in idx
            if codes[i] in {"SR", "CR", "Q"} and _echoes(sentences[i], talk.sustain, min_shared)
        ]
        score = 3 + bool(attends_change)
        if attends_change:
            score += 1
        else:
            score -= min(len(echo_sustain), 2)
        score -= bool(confront)
        values["mi_sustain_talk"] = float(min(max(score, 1), 5))
        evidence["mi_sustain_talk"] = sorted(set(attends_change + echo_sustain + confront)) or coded
    else:
        values["mi_sustain_talk"] = math.nan
        evidence["mi_sustain_talk"] = []
    if coded:
        sharing = [i for i in idx if codes[i] in {"SEEK", "EMPH"}]
        exploring = [i for i in idx if codes[i] == "CR" or is_question(codes[i], sentences[i])]
        persuading = [i for i in idx if codes[i] == "PERS"]
        partnership = 3.0 + min(len(sharing), 2) + 0.5 * bool(exploring)
        partnership -= 1.0 if len(persuading) > len(coded) / 2 else 0.0
        partnership -= 1.0 if confront else 0.0
        values["mi_partnership"] = float(min(max(math.floor(partnership + 0.5), 1), 5))
        evidence["mi_partnership"] = sorted(set(sharing + exploring + persuading + confront)) or coded
    else:
        values["mi_partnership"] = math.nan
        evidence["mi_partnership"] = []
    return Summary(values, evidence)
