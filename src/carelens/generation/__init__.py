"""carelens.generation: model replies under prompt conditions.

``stage.generate`` is the generate stage; ``prompts`` the paper's conditions; ``settings`` the
[generation] study-file section. Requests go through the shared client, ``carelens.llm``.
"""
