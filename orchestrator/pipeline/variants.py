"""Prompt experiments: which version of a request's template it gets, when its task type runs several.

The pick is a hash of the calling service, the task type and the request id (the conversation id when the
request continues a conversation), so the same caller retrying the same request, or talking on in the
same conversation, always gets the same variant, on every replica. SHA-256 spreads any id format evenly,
so the shares follow the weights (tests: a 90/10 split holds within 3 points over 2,000 requests).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from orchestrator.domain import GenerationRequest

_SCALE = float(2**64)


@dataclass(frozen=True, slots=True)
class Variant:
    version: str
    weight: float


def variant_key(request: GenerationRequest) -> str:
    """What decides the pick: one conversation (or one request) of one service in one task type."""
    subject = request.conversation_id or request.request_id
    return f"{request.caller.service}\n{request.task_type}\n{subject}"


def pick_variant(variants: tuple[Variant, ...], key: str) -> str:
    """The version whose share of [0, 1) the key's hash falls in ("" without variants)."""
    if not variants:
        return ""
    point = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / _SCALE
    threshold = point * sum(v.weight for v in variants)
    for variant in variants[:-1]:
        threshold -= variant.weight
        if threshold < 0:
            return variant.version
    return variants[-1].version


def template_version(request: GenerationRequest, variants: tuple[Variant, ...]) -> str:
    """The version to render: the caller's pinned version, else the task's experiment pick, else "" (latest)."""
    if request.template_version or not request.template_id:
        return request.template_version
    return pick_variant(variants, variant_key(request))
