"""The fake OpenAI server answers like the real API and injects each fault."""

import httpx
import openai
import pytest

from support.fake_openai import PAPER_REFUSAL, FakeOpenAI, Reply


def _client(server: FakeOpenAI, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0, timeout=timeout)


def _ask(client: openai.OpenAI, text: str = "hello there"):
    return client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])


def test_default_reply_usage_and_record() -> None:
    with FakeOpenAI() as server:
        out = _ask(_client(server), "I feel alone lately")
        assert "I feel alone lately" in out.choices[0].message.content
        assert out.usage.prompt_tokens == 4
        assert server.count(200) == 1
        assert server.requests[0].headers["authorization"] == "Bearer sk-test"
        assert server.requests[0].last_user == "I feel alone lately"


def test_programmed_reply_and_duplicates() -> None:
    with FakeOpenAI(reply=lambda body: Reply("no prediction.", finish_reason="length")) as server:
        client = _client(server)
        first = _ask(client, "a")
        _ask(client, "a")
        _ask(client, "b")
        assert first.choices[0].message.content == "no prediction."
        assert first.choices[0].finish_reason == "length"
        assert server.duplicates() == 1


def test_faults_hit_in_order_and_by_match() -> None:
    with FakeOpenAI() as server:
        client = _client(server, timeout=0.3)
        server.add_fault("rate_limit", times=1, retry_after=2)
        server.add_fault("server_error", match="boom")
        server.add_fault("timeout", times=1, hang=1.0)
        with pytest.raises(openai.RateLimitError) as err:
            _ask(client)
        assert err.value.response.headers["retry-after"] == "2"
        with pytest.raises(openai.InternalServerError):
            _ask(client, "boom now")
        with pytest.raises(openai.APITimeoutError):
            _ask(client)
        assert _ask(client).choices[0].finish_reason == "stop"


def test_filter_refusal_and_malformed_bodies() -> None:
    with FakeOpenAI() as server:
        client = _client(server)
        server.add_fault("content_filter", times=1)
        server.add_fault("content_filter_400", times=1)
        server.add_fault("refusal", times=1)
        server.add_fault("refusal_field", times=1)
        server.add_fault("malformed", times=1)
        assert _ask(client).choices[0].finish_reason == "content_filter"
        with pytest.raises(openai.BadRequestError) as err:
            _ask(client)
        assert err.value.code == "content_filter"
        assert _ask(client).choices[0].message.content == PAPER_REFUSAL
        assert _ask(client).choices[0].message.refusal
        raw = httpx.post(f"{server.base_url}/chat/completions", json={"model": "m", "messages": []})
        with pytest.raises(ValueError):
            raw.json()


def test_azure_paths_are_served() -> None:
    with FakeOpenAI() as server:
        client = openai.AzureOpenAI(api_key="k", azure_endpoint=server.url, api_version="2024-06-01",
                                    max_retries=0)
        out = client.chat.completions.create(model="dep", messages=[{"role": "user", "content": "hi"}])
        assert out.choices[0].message.content
        assert "/openai/deployments/dep/chat/completions" in server.requests[0].path
        assert server.requests[0].headers["api-key"] == "k"
