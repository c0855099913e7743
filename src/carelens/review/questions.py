"""What a clinician answers: per response EPITOME, MITI globals, the AI guess and a comment; once per
rater the share of AI responses (``AI_SHARE``).

EPITOME (Sharma et al., EMNLP 2020) rates three empathy mechanisms 0 = none, 1 = weak, 2 = strong.
The MITI 4.2.1 globals (Moyers et al. 2014) rate the response 1-5; cultivating change talk and softening
sustain talk may be N/A when the seeker voices no change or sustain talk. Anchors are condensed from
the MITI manual with "clinician" read as "responder" and "client" as "seeker".

The per-item AI guess (``AI_GUESS``) and the rater's single estimate of the share of AI responses
among those they rated (``AI_SHARE``, a percentage 0-100, as the paper asked it) are both kept: the
first gives accuracy per item, the second the rater's overall impression.

The keys below are the ``question`` values of the ``ratings`` table; ``NA`` is the stored N/A.
"""

from dataclasses import dataclass, field

NA = "NA"


@dataclass(frozen=True)
class Question:
    """One question: its key, scale and the text shown to the rater."""

    key: str
    short: str  # the badge shown beside the label
    label: str
    kind: str  # "ordinal", "nominal", "percent" (a number 0-100) or "text"
    levels: tuple[str, ...] = ()
    level_labels: dict[str, str] = field(default_factory=dict)
    allows_na: bool = False
    required: bool = True
    definition: str = ""
    anchors: dict[str, str] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    per_rater: bool = False  # asked once per rater for the whole round, not per item

    @property
    def choices(self) -> tuple[str, ...]:
        """Every storable answer: the levels, then N/A where allowed."""
        return self.levels + ((NA,) if self.allows_na else ())

    def valid(self, value: str) -> bool:
        if self.kind == "text":
            return len(value) <= COMMENT_MAX
        if self.kind == "percent":
            return percent(value) is not None
        return value in self.choices


def percent(value: str) -> str | None:
    """A percentage 0-100 in canonical form ("40", "37.5"; "40.0" and "40%" are read as "40"), else None."""
    text = value.strip().removesuffix("%").strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return f"{number:g}" if 0 <= number <= 100 and len(text) <= 12 else None


COMMENT_MAX = 5000

EPITOME_LEVELS = {"0": "None", "1": "Weak", "2": "Strong"}

EPITOME = (
    Question(
        key="ER", short="ER", label="Emotional reactions", kind="ordinal", levels=("0", "1", "2"),
        level_labels=EPITOME_LEVELS,
        definition="Does the response express emotions such as warmth, compassion or concern that the "
                   "responder felt after reading the post?",
        anchors={"0": "No emotional reaction.",
                 "1": "Alludes to an emotion without naming it.",
                 "2": "Names the emotion the responder feels."},
        examples={"1": "Everything will be fine.", "2": "I feel really sad for you."},
    ),
    Question(
        key="IP", short="IP", label="Interpretations", kind="ordinal", levels=("0", "1", "2"),
        level_labels=EPITOME_LEVELS,
        definition="Does the response communicate an understanding of the feelings and experiences "
                   "inferred from the post?",
        anchors={"0": "No interpretation.",
                 "1": "Says it understands, without saying what.",
                 "2": "Names the inferred feeling or experience, or relates a similar experience."},
        examples={"1": "I understand how you feel.",
                  "2": "This must be terrifying. / I also have anxiety attacks at times, "
                       "which make me really terrified."},
    ),
    Question(
        key="EX", short="EX", label="Explorations", kind="ordinal", levels=("0", "1", "2"),
        level_labels=EPITOME_LEVELS,
        definition="Does the response explore feelings and experiences the seeker did not state, "
                   "to understand them better?",
        anchors={"0": "No exploration.",
                 "1": "A generic question.",
                 "2": "A specific question that labels the seeker's feelings or experience."},
        examples={"1": "What happened?", "2": "Are you feeling alone right now?"},
    ),
)

MITI_LEVELS = {"1": "1", "2": "2", "3": "3", "4": "4", "5": "5"}

MITI = (
    Question(
        key="MITI_CCT", short="CCT", label="Cultivating change talk", kind="ordinal",
        levels=tuple(MITI_LEVELS), level_labels=MITI_LEVELS, allows_na=True,
        definition="How much the responder encourages the seeker's own language in favour of change "
                   "(desire, ability, reasons, need, commitment). N/A: the seeker voices no change talk.",
        anchors={"1": "No explicit attention to, or preference for, the seeker's language in favour of "
                      "change.",
                 "2": "Sporadically attends to change talk; frequently misses chances to encourage it.",
                 "3": "Often attends to change talk but misses some chances to encourage it.",
                 "4": "Consistently attends to change talk and tries to encourage it.",
                 "5": "Marked, consistent effort to increase the depth, strength or momentum of change "
                      "talk."},
    ),
    Question(
        key="MITI_SST", short="SST", label="Softening sustain talk", kind="ordinal",
        levels=tuple(MITI_LEVELS), level_labels=MITI_LEVELS, allows_na=True,
        definition="How much the responder avoids strengthening the seeker's language in favour of the "
                   "status quo. N/A: the seeker voices no sustain talk.",
        anchors={"1": "Consistently responds in a way that deepens arguments for the status quo.",
                 "2": "Usually explores, focuses on or responds to sustain talk.",
                 "3": "Gives preference to sustain talk, with some shifts away from it.",
                 "4": "Typically avoids emphasising sustain talk.",
                 "5": "Marked, consistent effort to decrease the depth, strength or momentum of sustain "
                      "talk."},
    ),
    Question(
        key="MITI_PARTNERSHIP", short="PART", label="Partnership", kind="ordinal", levels=tuple(MITI_LEVELS),
        level_labels=MITI_LEVELS,
        definition="How much the responder treats the exchange as a partnership: the seeker's ideas and "
                   "expertise shape it, rather than the responder taking the expert role.",
        anchors={"1": "Takes the expert role throughout; collaboration is absent.",
                 "2": "Responds superficially to chances to collaborate.",
                 "3": "Includes the seeker's goals, ideas and values, but lukewarmly or erratically.",
                 "4": "Fosters collaboration and power sharing; the seeker's contributions matter.",
                 "5": "Actively fosters power sharing; the seeker's contributions substantially shape "
                      "the exchange."},
    ),
)

AI_GUESS = Question(
    key="AI_GUESS", short="AI", label="Written by AI or by a person?", kind="nominal", levels=("ai", "human"),
    level_labels={"ai": "AI", "human": "A person"},
    definition="Your best guess of who wrote the response.",
)

COMMENT = Question(key="COMMENT", short="NOTE", label="Comment (optional)", kind="text", required=False)

AI_SHARE = Question(
    key="AI_SHARE", short="AI %", label="Of all the responses you rated, what percentage do you think "
                                        "were written by AI?", kind="percent", per_rater=True,
    definition="One estimate for the whole round, from 0 to 100 percent.",
)

QUESTIONS: tuple[Question, ...] = (*EPITOME, *MITI, AI_GUESS, COMMENT)  # asked of every item
RATER_QUESTIONS: tuple[Question, ...] = (AI_SHARE,)  # asked once per rater
BY_KEY: dict[str, Question] = {q.key: q for q in (*QUESTIONS, *RATER_QUESTIONS)}
REQUIRED: tuple[str, ...] = tuple(q.key for q in QUESTIONS if q.required)
MECHANISMS: tuple[str, ...] = tuple(q.key for q in EPITOME)
