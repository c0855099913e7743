"""The study file: valid files parse, every problem is reported with its key path."""

import pytest

from carelens.config import load_study, parse_study
from carelens.errors import CarelensError

MINIMAL = '[study]\nname = "t"\n[[data]]\ndataset = "counsel-chat"\nposts = 5\n'


def test_minimal_study_gets_defaults(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    loaded = load_study(path)
    assert loaded.study.generation.responders == ["peer"]
    assert loaded.output_dir == tmp_path / "runs" / "t"
    assert len(loaded.sha256) == 64


def test_all_problems_reported_with_key_paths():
    text = (
        '[study]\nname = "t"\nseeed = 1\n[[data]]\ndataset = "reddit"\n[[data]]\nfile = "a.csv"\n'
        'dataset = "epitome"\n[analysis]\ncorrection = "bonf"\n'
    )
    with pytest.raises(CarelensError) as info:
        parse_study(text, "s.toml")
    message = str(info.value)
    assert message.startswith("s.toml: 4 problem(s)")
    assert "study.seeed: unknown key (did you mean 'seed'?)" in message
    assert "data[0].dataset: unknown dataset 'reddit'; allowed: counsel-chat" in message
    assert "data[1]: give exactly one of 'dataset'" in message
    assert "analysis.correction: Input should be 'holm', 'fdr_bh', 'bonferroni' or 'none'" in message


def test_toml_syntax_error_names_line():
    with pytest.raises(CarelensError, match=r"s.toml: not valid TOML: .*line 2"):
        parse_study("[study]\nname = \n", "s.toml")


def test_missing_required_sections():
    with pytest.raises(CarelensError, match="study: required key is missing"):
        parse_study('[[data]]\ndataset = "epitome"\n', "s.toml")


def test_missing_and_undecodable_study_files(tmp_path):
    with pytest.raises(CarelensError, match="study file not found"):
        load_study(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"[study]\nname = '\xff'\n")
    with pytest.raises(CarelensError, match="not UTF-8"):
        load_study(bad)


def test_typo_inside_a_named_table_lists_its_keys():
    text = (
        '[study]\nname = "t"\n[[data]]\ndataset = "epitome"\n'
        "[generation.sampling.clinician]\ntemprature = 1\n"
    )
    with pytest.raises(CarelensError) as info:
        parse_study(text, "s.toml")
    assert (
        "generation.sampling.clinician.temprature: unknown key (did you mean 'temperature'?); "
        "allowed keys: temperature, top_p, max_tokens, seed"
    ) in str(info.value)
