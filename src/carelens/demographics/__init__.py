"""Demographic designs: cue variants, fidelity checks, the inference probe, and what they yield.

Stages (``stage``): ``build_variants`` (table ``variants``) and ``run_probe`` (table ``inferences``).
For analysis and the report: ``observational.observational_groups`` (posts grouped by the probe's
inferred race) and ``manipulation.manipulation_table`` / ``manipulation.confusion_matrix`` (does the
probe read the cues). Data files: ``cue_bank.toml`` (implicit cues with provenance) and ``terms.toml``
(how race, ethnicity, nationality and gender words map to categories).
"""
