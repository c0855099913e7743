"""carelens.generation: model replies under prompt conditions.

``engine`` (ChatRequest, ChatResult, SamplingParams, run_requests) is the API every stage uses to ask a
model; ``stage.generate`` is the generate stage; ``settings`` the [generation] study-file section.
"""
