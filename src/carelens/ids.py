"""Stable content-hash identifiers: the same content always gets the same id."""

import hashlib
import json
from typing import Any


def stable_id(prefix: str, *parts: Any, length: int = 16) -> str:
    """Return ``prefix-<hex>`` where hex is a sha256 over the JSON of ``parts``.

    >>> stable_id("p", "mh-eval-reddit", "hello") == stable_id("p", "mh-eval-reddit", "hello")
    True
    """
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]
    return f"{prefix}-{digest}"


def original_variant_id(post_id: str) -> str:
    """The id of the unchanged-original variant of a post (the control)."""
    return stable_id("v", post_id, "original")
