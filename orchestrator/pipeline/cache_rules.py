"""What the configuration says about caching each task type: policy, TTL, sharing, semantic threshold.

`tasks.<t>.cache` overrides the `cache` section's defaults field by field; a request's own cache.policy
overrides the task's policy. Conversations never use the cache: their answers depend on turns the request
does not carry (see `is_conversation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.domain import CachePolicy, GenerationRequest


@dataclass(frozen=True, slots=True)
class TaskCache:
    # For requests that leave cache.policy unspecified.
    policy: CachePolicy = CachePolicy.BYPASS
    ttl_seconds: float = 3600.0
    # True: answers are shared by every service (the key leaves the caller out).
    shared: bool = False
    # Cosine similarity from which a paraphrase is answered from the cache; None: no semantic cache.
    semantic_threshold: float | None = None


class CacheRules:
    """Task cache settings by task type; a task type the configuration does not name gets the defaults."""

    def __init__(self, default: TaskCache | None = None, tasks: Mapping[str, TaskCache] | None = None) -> None:
        self.default = default or TaskCache()
        self._tasks = dict(tasks or {})

    def for_task(self, task_type: str) -> TaskCache:
        return self._tasks.get(task_type, self.default)

    def policy(self, request: GenerationRequest) -> CachePolicy:
        """The policy that applies: the request's, else its task's; BYPASS for conversations, always."""
        if is_conversation(request):
            return CachePolicy.BYPASS
        if request.cache_policy is not CachePolicy.DEFAULT:
            return request.cache_policy
        return self.for_task(request.task_type).policy

    @property
    def semantic(self) -> bool:
        """Whether any task (or the default) uses the semantic cache."""
        rules = [self.default, *self._tasks.values()]
        return any(rule.semantic_threshold is not None for rule in rules)


def is_conversation(request: GenerationRequest) -> bool:
    """A request continuing a stored conversation: its answer depends on turns it does not carry, so neither
    the exact nor the semantic cache nor single-flight may answer it."""
    return bool(request.conversation_id)
