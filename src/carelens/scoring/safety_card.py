"""The Markdown form of the safety model's card (``python -m carelens.scoring.safety_card``)."""

import json
from typing import Any

from carelens.scoring.safety_model import MODEL_FILE


def _matrix(matrix: list[list[int]], labels: list[str]) -> list[str]:
    lines = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    lines += [
        f"| {label} | " + " | ".join(str(v) for v in row) + " |"
        for label, row in zip(labels, matrix, strict=True)
    ]
    return [*lines, ""]


def _binary_row(name: str, figures: dict[str, Any]) -> str:
    return (
        f"| {name} | {figures['n']} | {figures['positives']} | {figures['precision']:.3f} | "
        f"{figures['recall']:.3f} | {figures['f1']:.3f} |"
    )


def render_markdown(card: dict[str, Any]) -> str:
    """Data, thresholds, cross-validated figures and confusion matrices of the three models."""
    data, cv = card["data"], card["cv"]
    hand, weak, rule = data["hand_written"], data["weak"], card["harm_threshold_rule"]
    lines = [
        f"## Training ({card['created']}, `{card['command']}`)",
        "",
        f"- Encoder {card['encoder']} (float32), plus named rule flags: post "
        f"{', '.join(card['features']['post'])};"
        f" reply {', '.join(card['features']['reply'])}.",
        f"- Hand-written sentences (`{hand['file']}`, sha256 `{hand['sha256'][:16]}…`): post sentences by "
        f"level {hand['post_sentences_by_level']}; reply sentences by kind "
        f"{hand['reply_sentences_by_kind']}; "
        f"each weighs {card['hand_weight']} weak ones.",
        f"- Weak sentences (texts not stored; checksum of their ids `{weak['checksum'][:16]}…`): "
        f"{weak['risk_sentences']} risk, {weak['not_risk_sentences']} not-risk, "
        f"{weak['safe_reply_sentences']} "
        f"safe reply sentences from {weak['sources']}.",
        f"- Logistic regressions, {card['hyperparameters']}; thresholds {card['thresholds']}.",
        f"- Harm threshold: {rule['out_of_fold']} out of fold, raised to {card['thresholds']['harm']}, where "
        f"the scorer ({rule['precision']}) rates {rule['gpt4_rated_harmful']} of the {rule['gpt4_replies']} "
        f"recorded GPT-4 replies harmful (budget {rule['gpt4_budget']}).",
        f"- Rule flags of every training sentence: sha256 `{card['features']['flags_sha256'][:16]}…` "
        "(a test checks that today's rules give the same).",
        f"- Took {card['timing']['total_seconds']} s on {card['timing']['cpu_count']} CPUs.",
        "",
        f"## Cross-validation (sentences): {cv['method']}",
        "",
        "| model, sentences | n | positives | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
        _binary_row("risk, hand-written", cv["risk_sentence_hand"]),
        _binary_row("risk, weak", cv["risk_sentence_weak"]),
        _binary_row("harm, hand-written", cv["harm_sentence_hand"]),
        _binary_row("harm, hand-written + weak", cv["harm_sentence_all"]),
        "",
        f"Harm false alarms on weak safe reply sentences: {cv['harm_sentence_weak_false_alarm_rate']:.2%}. "
        f"Risk level of hand-written risk sentences: accuracy {cv['level_hand']['accuracy']:.3f}, macro-F1 "
        f"{cv['level_hand']['macro_f1']:.3f}. Harm kind of hand-written harmful sentences: accuracy "
        f"{cv['harm_kind_hand']['accuracy']:.3f}.",
        "",
        "Risk (hand-written, out of fold): threshold / precision / recall: "
        + "; ".join(f"{t:.2f} / {p:.2f} / {r:.2f}" for t, p, r in cv["risk_sentence_hand_curve"]),
        "",
        "**Risk sentences, hand-written** (0 not risk, 1 risk)",
        "",
        *_matrix(cv["risk_sentence_hand"]["confusion_matrix"], ["0", "1"]),
        "**Risk level, hand-written risk sentences**",
        "",
        *_matrix(cv["level_hand"]["confusion_matrix"], ["1 low", "2 high", "3 imminent"]),
        "**Harm, hand-written reply sentences** (0 safe, 1 harmful)",
        "",
        *_matrix(cv["harm_sentence_hand"]["confusion_matrix"], ["0", "1"]),
        "**Harm kind, hand-written harmful sentences**",
        "",
        *_matrix(cv["harm_kind_hand"]["confusion_matrix"], cv["harm_kind_hand"]["classes"]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(json.loads(MODEL_FILE.read_text(encoding="utf-8"))["card"]))
