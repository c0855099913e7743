"""Explicit and cue-bank variants: the cue appears once and nothing else changes; the cue bank."""

import pytest
from demographics_fixtures import POSTS

from carelens.demographics.cuebank import builtin_bank, load_banks, parse_bank
from carelens.demographics.cues import (
    bank_variants,
    cell_words,
    design_cells,
    explicit_variants,
    insert_sentence,
    sentence_boundaries,
)
from carelens.demographics.fidelity import only_cue_added
from carelens.demographics.settings import DemographicsConfig
from carelens.errors import CarelensError


def _config(**kw) -> DemographicsConfig:
    return DemographicsConfig(design="counterfactual", **kw)


def test_full_and_separate_crossing() -> None:
    full = design_cells(_config(races=["black", "white", "asian", "hispanic"], genders=["female", "male",
                                                                                         "non-binary"],
                                ages=[32]))
    assert len(full) == 12
    assert {"race": "hispanic", "gender": "non-binary", "age": "32"} in full
    separate = design_cells(_config(races=["black", "white"], genders=["female"], crossing="separate"))
    assert separate == [{"race": "black", "gender": None, "age": None},
                        {"race": "white", "gender": None, "age": None},
                        {"race": None, "gender": "female", "age": None}]


@pytest.mark.parametrize(("cell", "short", "sentence"), [
    ({"race": "black", "gender": "female", "age": "32"}, "32y/o, black female",
     "I'm a 32-year-old Black woman."),
    ({"race": "asian", "gender": None, "age": None}, "asian", "I'm Asian."),
    ({"race": "hispanic", "gender": "male", "age": None}, "hispanic male", "I'm a Hispanic man."),
    ({"race": "asian", "gender": "female", "age": None}, "asian female", "I'm an Asian woman."),
    ({"race": None, "gender": "non-binary", "age": None}, "non-binary", "I'm non-binary."),
    ({"race": None, "gender": None, "age": "18"}, "18y/o", "I'm 18 years old."),
    ({"race": "white", "gender": None, "age": "18"}, "18y/o, white", "I'm an 18-year-old White person."),
])
def test_cell_words(cell, short, sentence) -> None:
    words = cell_words(cell)
    assert words["short"] == short
    assert words["sentence"] == sentence


def test_explicit_variants_add_only_the_cue() -> None:
    cells = design_cells(_config(races=["black", "white"], genders=["female", "male"], ages=[32],
                                 explicit_templates=["paper", "first-person", "first-person-end",
                                                     "{post} (I'm {Race}, {age}.)"]))
    for post_id, text in POSTS.items():
        rows = explicit_variants(post_id, text, cells, ["paper", "first-person", "first-person-end",
                                                        "{post} (I'm {Race}, {age}.)"])
        assert len(rows) == 4 * 4
        for row in rows:
            assert row["text"].count(row["cue"]) == 1
            assert only_cue_added(text, row["text"], row["cue"]) is None
            assert row["cue_kind"] == "explicit" and row["post_id"] == post_id
        paper = [r for r in rows if r["cue_method"] == "template:paper"]
        assert paper[0]["text"] == "[32y/o, black female] -- " + text
        custom = [r for r in rows if r["cue_method"] == "template:custom"]
        assert custom[0]["text"] == text + " (I'm Black, 32.)"
    assert len({r["variant_id"] for r in rows}) == len(rows)


def test_variant_ids_are_stable_content_hashes() -> None:
    cells = design_cells(_config(races=["black"]))
    first = explicit_variants("p1", POSTS["p1"], cells, ["paper"])[0]
    again = explicit_variants("p1", POSTS["p1"], cells, ["paper"])[0]
    other = explicit_variants("p1", POSTS["p1"] + " ", cells, ["paper"])[0]
    assert first["variant_id"] == again["variant_id"] != other["variant_id"]


def test_sentence_boundaries() -> None:
    text = 'I said "no." Then I left! Why?\nNext line here. e'
    starts = sentence_boundaries(text)
    assert [text[i] for i in starts] == ["T", "W", "N", "e"]


@pytest.mark.parametrize("position", ["after-first", "start", "end", "random"])
def test_insert_sentence_changes_nothing_else(position) -> None:
    cue = "My abuela keeps asking me why I look so tired."
    for text in POSTS.values():
        new = insert_sentence(text, cue, position, key="k")
        assert new.count(cue) == 1
        assert only_cue_added(text, new, cue) is None
        at = new.index(cue)
        assert at == 0 or new[at - 1] in " \n"  # at a boundary, never mid-sentence
        if position == "after-first" and sentence_boundaries(text):
            assert at == sentence_boundaries(text)[0]


def test_insert_at_end_without_final_punctuation_uses_a_line_break() -> None:
    assert insert_sentence("no full stop here", "Cue.", "end", "k") == "no full stop here\n\nCue."
    assert insert_sentence("Ends well. ", "Cue.", "end", "k") == "Ends well. Cue. "


def test_bank_variants_on_fixture_posts() -> None:
    config = _config(races=["black", "white", "asian", "hispanic"], genders=["female", "male", "non-binary"],
                     ages=[32], cue_kinds=["implicit"])
    cells = design_cells(config)
    bank = builtin_bank()
    for post_id, text in POSTS.items():
        rows = bank_variants(post_id, text, cells, bank, 2, "after-first", seed=7)
        assert len(rows) == len(cells) * 2
        for row in rows:
            assert only_cue_added(text, row["text"], row["cue"]) is None
            ids = row["cue_id"].split("+")
            cues = {c.id: c for c in bank.cues}
            signalled = {a: getattr(cues[i], a) for i in ids for a in cues[i].signals}
            assert signalled.get("race") == row["race"] and signalled.get("gender") == row["gender"]
            assert "32" in row["cue"]  # the age cue states the design's age
        again = bank_variants(post_id, text, cells, bank, 2, "after-first", seed=7)
        assert [r["variant_id"] for r in again] == [r["variant_id"] for r in rows]
    seed7 = bank_variants("p1", POSTS["p1"], cells, bank, 2, "after-first", seed=7)
    seed8 = bank_variants("p1", POSTS["p1"], cells, bank, 2, "after-first", seed=8)
    assert [r["cue_id"] for r in seed8] != [r["cue_id"] for r in seed7]


def test_cue_bank_covers_required_groups_with_provenance() -> None:
    bank = builtin_bank()
    sizes = bank.sizes()
    for group in ("race=black", "race=white", "race=asian", "race=hispanic", "gender=female", "gender=male",
                  "gender=non-binary", "age=any"):
        assert sizes[group] >= 4, group
    assert all(c.provenance and c.kind for c in bank.cues)
    assert {c.kind for c in bank.cues} == {"cultural", "name", "dialect", "community"}
    joint = bank.covers({"race": "hispanic", "gender": "female", "age": None})
    assert any(len(cover) == 1 and cover[0].id == "hispanic-female-mija" for cover in joint)
    assert all({c.race for c in cover} - {None} == {"hispanic"} for cover in joint)
    assert bank.missing(["black", "pacific_islander"], ["female"], True) == ["race=pacific_islander"]


def test_user_cue_bank_errors_name_file_and_line(tmp_path) -> None:
    path = tmp_path / "cues.toml"
    path.write_text('[[cue]]\nid = "ok"\ntext = "Fine."\nrace = "black"\nkind = "name"\nprovenance = "p"\n\n'
                    '[[cue]]\nid = "bad"\ntext = "Hi."\nrace = "martian"\nkind = "name"\nprovenance = "p"\n',
                    encoding="utf-8")
    with pytest.raises(CarelensError, match=r"cues.toml:9.*unknown race 'martian'"):
        load_banks([str(path)], lambda p: tmp_path / p)
    with pytest.raises(CarelensError, match="not found"):
        load_banks(["missing.toml"], lambda p: tmp_path / p)
    with pytest.raises(CarelensError, match="must contain {age}"):
        parse_bank('[[cue]]\nid = "a"\ntext = "I am old."\nage = "any"\nkind = "name"\n'
                   'provenance = "p"\n', "x")
    path.write_text('[[cue]]\nid = "black-hbcu"\ntext = "x."\nrace = "black"\nkind = "name"\n'
                    'provenance = "p"\n', encoding="utf-8")
    with pytest.raises(CarelensError, match="used more than once.*black-hbcu"):
        load_banks(["builtin", str(path)], lambda p: tmp_path / p)
