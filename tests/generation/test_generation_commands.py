"""The generation commands."""

from typer.testing import CliRunner

from carelens.generation.commands import app
from carelens.llm.cache import ResultCache

runner = CliRunner()


def test_conditions_lists_the_five() -> None:
    result = runner.invoke(app, ["conditions"])
    assert result.exit_code == 0
    for name in ("social_media", "mental_health_forum", "clinician", "forum_without_demographics",
                 "forum_with_demographics"):
        assert name in result.output


def test_cache_stats_and_clear(tmp_path) -> None:
    path = tmp_path / "c.sqlite"
    with ResultCache(path) as store:
        store.put("k1", "openai:gpt-4o", {"messages": []}, "ok", "hi", {}, {})
        store.put("k2", "openai:gpt-4o", {"messages": []}, "ok", "hi", {}, {})
        store.put("k3", "local:smollm2-135m", {"messages": []}, "ok", "hi", {}, {})
    shown = runner.invoke(app, ["cache", "--path", str(path)])
    assert shown.exit_code == 0 and "openai:gpt-4o" in shown.output and "2" in shown.output
    cleared = runner.invoke(app, ["cache", "--path", str(path), "--clear", "openai:gpt-4o"])
    assert "removed 2" in cleared.output
    with ResultCache(path) as store:
        assert store.stats() == {"local:smollm2-135m": 1}


def test_ask_reports_status(fake, tmp_path) -> None:
    study = tmp_path / "study.toml"
    study.write_text('[study]\nname = "s"\n[[data]]\nfile = "x.tsv"\n'
                     '[generation.providers.openai-compatible]\nmax_attempts = 1\n', encoding="utf-8")
    fake.add_fault("refusal", times=1)
    spec = f"openai-compatible:fake@{fake.base_url}"
    refused = runner.invoke(app, ["ask", spec, "I feel alone", "--condition", "clinician"])
    assert refused.exit_code == 0 and "status: refused" in refused.output
    fake.add_fault("server_error")
    failed = runner.invoke(app, ["ask", spec, "I feel alone", "--study", str(study)])
    assert failed.exit_code == 1 and "HTTP 500" in failed.output
    assert "mental health clinician" in fake.requests[0].last_user
    assert fake.count(500) == 1
