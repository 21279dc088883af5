"""Context pruning: which context items fit a model's token budget. Pure functions, no I/O.

Counting tokens is the caller's job (the pipeline counts with the chosen model's tokenizer): `prune` takes one
count per item, best made with `item_cost`, which counts the *rendered* block (`render_item`) so that what is
counted is what is sent.

The strategy decides who survives; the survivors keep their ORIGINAL request order, because the caller chose
that order for the model to read (e.g. oldest conversation first) and a priority order would scramble it.

Greedy with skipping is not monotone in the budget: pruning the same items for a smaller budget may keep an item
the larger budget dropped (a small item that fits once a big one no longer does). When a fallback model with a
smaller window must see a subset of what was chosen, prune the survivors again (`prune(result.kept, ...)`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from orchestrator.domain import ContextItem

__all__ = [
    "PruneResult",
    "PruningStrategy",
    "StrategyKind",
    "item_cost",
    "priority_order",
    "prune",
    "render_context",
    "render_item",
    "strategy_from_name",
]


class StrategyKind(enum.Enum):
    RELEVANCE = "relevance"  # highest relevance_score first
    RECENCY = "recency"  # newest timestamp first; items without one are the oldest
    HYBRID = "hybrid"  # relevance_weight * relevance + recency_weight * recency in [0, 1]


@dataclass(frozen=True, slots=True)
class PruningStrategy:
    """How to rank items. The weights only matter for HYBRID; both must be finite and >= 0."""

    kind: StrategyKind = StrategyKind.HYBRID
    relevance_weight: float = 0.7
    recency_weight: float = 0.3

    def __post_init__(self) -> None:
        for name in ("relevance_weight", "recency_weight"):
            weight = getattr(self, name)
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {weight!r}")


def strategy_from_name(name: str, relevance_weight: float = 0.7, recency_weight: float = 0.3) -> PruningStrategy:
    """The strategy called `name` ("relevance", "recency", "hybrid"; case-insensitive; empty: hybrid).

    Raises ValueError for an unknown name or a negative or non-finite weight.
    """
    key = name.strip().lower() or StrategyKind.HYBRID.value
    try:
        kind = StrategyKind(key)
    except ValueError:
        known = ", ".join(k.value for k in StrategyKind)
        raise ValueError(f"unknown context pruning strategy {name!r}; expected one of: {known}") from None
    return PruningStrategy(kind, relevance_weight, recency_weight)


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What survived. Indices point into the input sequence; both index lists are ascending."""

    kept: list[ContextItem]
    kept_indices: list[int]
    dropped_indices: list[int]
    tokens_used: int

    @property
    def dropped(self) -> int:
        return len(self.dropped_indices)


def render_item(item: ContextItem) -> str:
    """The text block the model sees for one item: `[source: <source>]` (if any), the content, a newline."""
    if item.source:
        return f"[source: {item.source}]\n{item.content}\n"
    return f"{item.content}\n"


def render_context(items: Iterable[ContextItem]) -> str:
    """The items' blocks, concatenated with nothing in between, so the text is exactly what `item_cost` counted."""
    return "".join(render_item(item) for item in items)


def item_cost(item: ContextItem, count: Callable[[str], int]) -> int:
    """Tokens the item takes: its own `token_count` when set (trusted as given), else `count(render_item(item))`."""
    cost = item.token_count if item.token_count is not None else count(render_item(item))
    if cost < 0:
        raise ValueError(f"a token count cannot be negative, got {cost}")
    return cost


def _epoch(ts: datetime) -> float:
    """Seconds since the epoch; a naive timestamp is taken as UTC so naive and aware ones compare."""
    return (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)).timestamp()


def _orderable(score: float) -> float:
    """NaN sorts last instead of breaking the sort's total order."""
    return -math.inf if math.isnan(score) else score


def _scores(items: Sequence[ContextItem], strategy: PruningStrategy) -> list[float]:
    """One priority score per item; higher goes first."""
    if strategy.kind is StrategyKind.RELEVANCE:
        return [_orderable(item.relevance_score) for item in items]
    times = [_epoch(item.timestamp) if item.timestamp is not None else None for item in items]
    if strategy.kind is StrategyKind.RECENCY:
        return [t if t is not None else -math.inf for t in times]
    # HYBRID, as the seed design: recency = 1 - (newest - t) / max(1 s, newest - oldest); no timestamp: 0.
    known = [t for t in times if t is not None]
    newest = max(known, default=0.0)
    time_range = max(1.0, newest - min(known, default=0.0))
    w_rel, w_rec = strategy.relevance_weight, strategy.recency_weight
    scores = []
    for item, t in zip(items, times, strict=True):
        recency = 1.0 - (newest - t) / time_range if t is not None else 0.0
        relevance = w_rel * item.relevance_score if w_rel else 0.0
        scores.append(_orderable(relevance + w_rec * recency))
    return scores


def priority_order(items: Sequence[ContextItem], strategy: PruningStrategy) -> list[int]:
    """Indices of `items`, most wanted first; ties keep the original order."""
    scores = _scores(items, strategy)
    return sorted(range(len(items)), key=lambda i: -scores[i])  # sorted is stable: equal scores keep index order


def prune(
    items: Sequence[ContextItem], token_counts: Sequence[int], budget: int, strategy: PruningStrategy
) -> PruneResult:
    """Keep the most wanted items whose token counts fit `budget`, whole, each at most once.

    Greedy in priority order: an item that does not fit the remaining budget is skipped and later, smaller items
    are still tried, so no dropped item would fit what is left. `token_counts[i]` is the cost of `items[i]`
    (see `item_cost`). A budget <= 0 keeps nothing. Survivors are returned in their original order.
    O(n log n).
    """
    if len(token_counts) != len(items):
        raise ValueError(f"{len(items)} context items but {len(token_counts)} token counts")
    if any(c < 0 for c in token_counts):
        raise ValueError("a token count cannot be negative")
    keep = [False] * len(items)
    remaining = budget
    if budget > 0:
        smallest = min(token_counts, default=0)
        for i in priority_order(items, strategy):
            if token_counts[i] <= remaining:
                keep[i] = True
                remaining -= token_counts[i]
                if remaining < smallest:  # nothing left can fit
                    break
    kept_indices = [i for i, k in enumerate(keep) if k]
    return PruneResult(
        kept=[items[i] for i in kept_indices],
        kept_indices=kept_indices,
        dropped_indices=[i for i, k in enumerate(keep) if not k],
        tokens_used=budget - remaining if budget > 0 else 0,
    )
