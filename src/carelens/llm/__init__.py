"""carelens.llm: the one client through which every stage asks a model.

``engine`` (ChatRequest, ChatResult, SamplingParams, run_requests) sends requests with retries, rate
limits (``limits``) and the SQLite ``cache``; ``providers`` reach OpenAI-compatible endpoints and the
embedded local model; ``specs`` parses responder specs; ``privacy`` strips identifiers; ``detect``
classifies refusals and content filters; ``settings`` holds the client settings (``ClientConfig``).
"""
