"""The Markdown form of an empathy model card (the JSON card holds the same facts)."""

import json
from typing import Any

MECHANISM_NAMES = {"ER": "Emotional Reactions", "IP": "Interpretations", "EX": "Explorations"}


def _figure(value: float, sd: float | None = None) -> str:
    return f"{value:.3f}" + (f" ± {sd:.3f}" if sd is not None else "")


def render_markdown(card: dict[str, Any]) -> str:
    """A readable card: data, split, figures against the paper's baseline, confusion matrices."""
    data, split, heldout, cv = card["data"], card["split"], card["heldout"], card["cv"]
    timing = card["timing"]
    lines = [
        f"# Model card: {card['model']}",
        "",
        f"{card['description'].strip()}",
        "",
        f"- Created {card['created']} with carelens {card['carelens_version']}; seed {card['seed']}.",
        f"- Encoder: {card['encoder']}; input: {card['input']}; "
        f"truncation: {card['truncate_tokens'] or 'none (whole response)'} word pieces; "
        f"precision: {card['precision']}.",
        f"- Data: {data['dataset']}, {data['upstream']}, checksum `{data['checksum'][:16]}…`; "
        f"{data['pairs']} pairs on {data['seeker_posts']} seeker posts "
        f"({data['duplicate_rows_collapsed']} duplicate rows collapsed, "
        f"{data['conflicting_rows_dropped']} rows with conflicting labels dropped"
        + (f", subset of {data['limit']}" if data["limit"] else "")
        + ").",
        f"- Held-out split: {split['method']}: {split['train_pairs']} training / {split['test_pairs']} "
        f"test pairs ({split['test_posts']} test posts).",
        f"- Embedding all responses took {timing['embedding_seconds']} s, training "
        f"{timing['train_seconds']} s, cross-validation {timing['cv_seconds']} s "
        f"on {timing['cpu_count']} CPUs (load average {timing['load_average_at_start']} at "
        f"start, {timing['load_average_at_end']} at end; above the CPU count means a shared machine).",
        "",
        "## Figures (3-class accuracy / macro-F1)",
        "",
        "| mechanism | held-out | 5-fold CV (mean ± sd) | paper baseline | beats baseline (held-out) |",
        "|---|---|---|---|---|",
    ]
    for mechanism, name in MECHANISM_NAMES.items():
        h, base = heldout[mechanism], card["paper_baseline"][mechanism]
        cv_text = "not run"
        if cv:
            c = cv[mechanism]
            cv_text = (
                f"{_figure(c['accuracy'], c['accuracy_sd'])} / {_figure(c['macro_f1'], c['macro_f1_sd'])}"
            )
        beats = h["accuracy"] > base["accuracy"] and h["macro_f1"] > base["macro_f1"]
        lines.append(
            f"| {name} ({mechanism}) | {h['accuracy']:.3f} / {h['macro_f1']:.3f} | {cv_text} | "
            f"{base['accuracy']:.3f} / {base['macro_f1']:.3f} | {'yes' if beats else 'no'} |"
        )
    lines += [
        "",
        "Paper baseline: the retrained RoBERTa-base classifiers of Gabriel et al. (2024), on a random "
        "(not grouped) 90/10 split.",
        "",
    ]
    if cv:
        lines += [f"Cross-validation: {cv['method']}.", ""]
    windowed = card.get("windowed")
    if windowed:
        lines += [
            f"## As scored: `{windowed['scorer']}` ({windowed['rule']})",
            "",
            "Same model and splits; each reply's level decided over its windows.",
            "",
            "| mechanism | held-out | 5-fold CV (mean ± sd) |",
            "|---|---|---|",
        ]
        for mechanism, name in MECHANISM_NAMES.items():
            h, c = windowed["heldout"][mechanism], (windowed["cv"] or {}).get(mechanism)
            cv_text = (
                f"{_figure(c['accuracy'], c['accuracy_sd'])} / {_figure(c['macro_f1'], c['macro_f1_sd'])}"
                if c
                else "not run"
            )
            lines.append(f"| {name} ({mechanism}) | {h['accuracy']:.3f} / {h['macro_f1']:.3f} | {cv_text} |")
        lines.append("")
    lines += ["## Held-out confusion matrices (rows: true level 0/1/2, columns: predicted)", ""]
    for mechanism in MECHANISM_NAMES:
        matrix = heldout[mechanism]["confusion_matrix"]
        lines += [f"**{mechanism}**", "", "| true \\ predicted | 0 | 1 | 2 |", "|---|---|---|---|"]
        lines += [
            f"| {level} | " + " | ".join(str(v) for v in row) + " |" for level, row in enumerate(matrix)
        ]
        lines.append("")
    lines += ["## Hyper-parameters", "", "```json", json.dumps(card["hyperparameters"], indent=2), "```", ""]
    return "\n".join(lines)
