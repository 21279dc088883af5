"""What the configuration says about each task type, as the pipeline uses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orchestrator.context.pruning import PruningStrategy
from orchestrator.domain import SamplingParams
from orchestrator.evaluation import Validator
from orchestrator.pipeline.variants import Variant
from orchestrator.routing.policy import TaskRoute


@dataclass(frozen=True, slots=True)
class TaskPolicy:
    route: TaskRoute = field(default_factory=TaskRoute)
    # Defaults for the sampling params a request leaves unset.
    params: SamplingParams = field(default_factory=SamplingParams)
    # Which context items survive when they do not all fit (a request may choose another).
    strategy: PruningStrategy = field(default_factory=PruningStrategy)
    # Conversation turns dropped for the budget are summarised by this model (None: they are just dropped).
    summary_model: str | None = None
    summary_max_tokens: int = 200
    # Checks on every answer after its format and schema (re-asked, then fallen back, like schema failures).
    validators: tuple[Validator, ...] = ()
    # The template versions of the task's prompt experiment (none: the version the request names, or the latest).
    variants: tuple[Variant, ...] = ()


class Tasks:
    """Task policies by name; a task type the configuration does not name gets the defaults."""

    def __init__(self, policies: Mapping[str, TaskPolicy]) -> None:
        self._policies = dict(policies)
        self._default = TaskPolicy()

    def get(self, task_type: str) -> TaskPolicy:
        return self._policies.get(task_type, self._default)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._policies)
