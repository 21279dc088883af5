"""Context pruning: strategies, the greedy fill that skips (never breaks), and its invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.context.pruning import (
    PruneResult,
    PruningStrategy,
    StrategyKind,
    item_cost,
    priority_order,
    prune,
    render_context,
    render_item,
    strategy_from_name,
)
from orchestrator.domain import ContextItem

T0 = datetime(2024, 1, 1, tzinfo=UTC)
RELEVANCE = strategy_from_name("relevance")
RECENCY = strategy_from_name("recency")
HYBRID = strategy_from_name("hybrid")


def item(name: str, relevance: float = 0.0, age_hours: float | None = None) -> ContextItem:
    timestamp = None if age_hours is None else T0 - timedelta(hours=age_hours)
    return ContextItem(content=name, source=f"src-{name}", relevance_score=relevance, timestamp=timestamp)


def names(result: PruneResult) -> list[str]:
    return [i.content for i in result.kept]


# --- strategies -------------------------------------------------------------------------------------------------


def test_relevance_keeps_the_most_relevant_items_that_fit() -> None:
    items = [item("a", 0.1), item("b", 0.9), item("c", 0.5), item("d", 0.7)]

    result = prune(items, [10, 10, 10, 10], budget=25, strategy=RELEVANCE)

    assert names(result) == ["b", "d"]
    assert result.tokens_used == 20


def test_recency_keeps_the_newest_items_and_treats_missing_timestamps_as_oldest() -> None:
    items = [item("undated"), item("old", age_hours=48), item("new", age_hours=1), item("mid", age_hours=5)]

    result = prune(items, [10, 10, 10, 10], budget=30, strategy=RECENCY)

    assert names(result) == ["old", "new", "mid"]


def test_hybrid_weighs_relevance_against_recency() -> None:
    items = [item("relevant-but-old", 0.9, age_hours=100), item("fresh-but-vague", 0.2, age_hours=0)]

    result = prune(items, [10, 10], budget=10, strategy=HYBRID)

    # 0.7 * 0.9 + 0.3 * 0 = 0.63 beats 0.7 * 0.2 + 0.3 * 1 = 0.44
    assert names(result) == ["relevant-but-old"]


def test_hybrid_weights_change_the_outcome() -> None:
    items = [item("relevant-but-old", 0.9, age_hours=100), item("fresh-but-vague", 0.2, age_hours=0)]

    result = prune(items, [10, 10], budget=10, strategy=strategy_from_name("hybrid", 0.2, 0.8))

    assert names(result) == ["fresh-but-vague"]


def test_hybrid_scores_undated_items_as_least_recent() -> None:
    items = [item("undated", 0.5), item("dated", 0.5, age_hours=3)]

    assert priority_order(items, HYBRID) == [1, 0]


def test_ties_keep_the_original_order() -> None:
    items = [item("a", 0.5), item("b", 0.5), item("c", 0.5)]

    for strategy in (RELEVANCE, RECENCY, HYBRID):
        assert priority_order(items, strategy) == [0, 1, 2]


def test_nan_relevance_ranks_last_instead_of_breaking_the_sort() -> None:
    items = [item("nan", float("nan")), item("low", 0.1), item("high", 0.9)]

    assert priority_order(items, RELEVANCE) == [2, 1, 0]


def test_naive_and_aware_timestamps_compare_with_naive_taken_as_utc() -> None:
    naive_new = ContextItem("naive-new", timestamp=datetime(2024, 1, 2))
    aware_old = ContextItem("aware-old", timestamp=datetime(2024, 1, 1, tzinfo=UTC))

    assert priority_order([aware_old, naive_new], RECENCY) == [1, 0]


# --- the greedy fill --------------------------------------------------------------------------------------------


def test_a_big_item_that_does_not_fit_is_skipped_and_a_smaller_later_one_is_kept() -> None:
    items = [item("first", 0.9), item("too-big", 0.8), item("small", 0.1)]

    result = prune(items, [50, 60, 30], budget=100, strategy=RELEVANCE)

    assert names(result) == ["first", "small"]
    assert result.tokens_used == 80


def test_dropped_items_are_counted_and_indexed() -> None:
    items = [item("a", 0.9), item("b", 0.1), item("c", 0.5), item("d", 0.2)]

    result = prune(items, [40, 40, 40, 40], budget=90, strategy=RELEVANCE)

    assert result.dropped == 2
    assert result.dropped_indices == [1, 3]
    assert result.kept_indices == [0, 2]


def test_survivors_come_back_in_their_original_order_not_priority_order() -> None:
    items = [item("low", 0.1), item("high", 0.9), item("mid", 0.5)]

    result = prune(items, [1, 1, 1], budget=3, strategy=RELEVANCE)

    assert names(result) == ["low", "high", "mid"]
    assert result.kept_indices == [0, 1, 2]


@pytest.mark.parametrize("budget", [0, -5])
def test_a_budget_of_zero_or_less_keeps_nothing(budget: int) -> None:
    items = [item("free", 0.9), item("paid", 0.5)]

    result = prune(items, [0, 5], budget=budget, strategy=RELEVANCE)

    assert result.kept == []
    assert result.dropped == 2
    assert result.tokens_used == 0


def test_no_items_keeps_nothing() -> None:
    result = prune([], [], budget=100, strategy=HYBRID)

    assert result == PruneResult(kept=[], kept_indices=[], dropped_indices=[], tokens_used=0)


def test_reprune_of_survivors_for_a_fallback_with_a_smaller_window_keeps_a_subset() -> None:
    items = [item(f"i{n}", relevance=n / 10) for n in range(10)]
    counts = [5 + 3 * n for n in range(10)]
    first = prune(items, counts, budget=120, strategy=RELEVANCE)

    second = prune(first.kept, [counts[i] for i in first.kept_indices], budget=50, strategy=RELEVANCE)

    assert set(names(second)) < set(names(first))
    assert second.tokens_used <= 50


def test_pruning_the_original_items_for_a_smaller_budget_may_keep_an_item_the_larger_budget_dropped() -> None:
    # Why a fallback re-prunes the survivors (above): skipping is not monotone in the budget.
    items = [item("big", 0.9), item("mid-a", 0.5), item("mid-b", 0.4)]

    larger = prune(items, [6, 5, 5], budget=10, strategy=RELEVANCE)
    smaller = prune(items, [6, 5, 5], budget=5, strategy=RELEVANCE)

    assert names(larger) == ["big"]
    assert names(smaller) == ["mid-a"]


def test_mismatched_counts_or_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="token counts"):
        prune([item("a")], [1, 2], budget=10, strategy=HYBRID)
    with pytest.raises(ValueError, match="negative"):
        prune([item("a")], [-1], budget=10, strategy=HYBRID)


# --- parsing and rendering --------------------------------------------------------------------------------------


def test_strategy_names_parse_and_empty_means_hybrid_with_default_weights() -> None:
    assert strategy_from_name("Relevance ").kind is StrategyKind.RELEVANCE
    assert strategy_from_name("recency").kind is StrategyKind.RECENCY
    assert strategy_from_name("") == PruningStrategy(StrategyKind.HYBRID, 0.7, 0.3)
    assert strategy_from_name("hybrid", 0.5, 0.5) == PruningStrategy(StrategyKind.HYBRID, 0.5, 0.5)


@pytest.mark.parametrize("name", ["newest", "relevance-first", "fifo"])
def test_unknown_strategy_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="unknown context pruning strategy"):
        strategy_from_name(name)


@pytest.mark.parametrize("weight", [-0.1, float("nan"), float("inf")])
def test_negative_or_non_finite_weights_are_rejected(weight: float) -> None:
    with pytest.raises(ValueError, match="relevance_weight"):
        strategy_from_name("hybrid", relevance_weight=weight)


def test_render_item_shows_the_source_line_only_when_there_is_a_source() -> None:
    assert render_item(ContextItem("body", source="docs/a.md")) == "[source: docs/a.md]\nbody\n"
    assert render_item(ContextItem("body")) == "body\n"


def test_render_context_is_exactly_the_concatenated_blocks() -> None:
    items = [ContextItem("one", source="a"), ContextItem("two")]

    assert render_context(items) == "[source: a]\none\ntwo\n"


def test_item_cost_prefers_the_items_own_token_count_else_counts_the_rendered_block() -> None:
    def count(text: str) -> int:
        return len(text)

    assert item_cost(ContextItem("body", source="s", token_count=3), count) == 3
    assert item_cost(ContextItem("body", source="s"), count) == len("[source: s]\nbody\n")


# --- properties -------------------------------------------------------------------------------------------------

_items = st.builds(
    ContextItem,
    content=st.text(max_size=3),
    relevance_score=st.floats(min_value=0, max_value=1) | st.sampled_from([0.0, 0.5, 1.0]),
    timestamp=st.none() | st.integers(0, 10**6).map(lambda s: T0 + timedelta(seconds=s)),
)
_weights = st.floats(min_value=0, max_value=1)
_strategies = st.one_of(
    st.sampled_from([RELEVANCE, RECENCY, HYBRID]),
    st.builds(PruningStrategy, st.just(StrategyKind.HYBRID), _weights, _weights),
)

Case = tuple[list[ContextItem], list[int], int, PruningStrategy]


@st.composite
def _cases(draw: st.DrawFn) -> Case:
    items = draw(st.lists(_items, max_size=25))
    counts = draw(st.lists(st.integers(0, 60), min_size=len(items), max_size=len(items)))
    return items, counts, draw(st.integers(-10, 400)), draw(_strategies)


cases = settings(max_examples=150, deadline=None)(given(_cases()))


@cases
def test_property_never_over_budget_and_tokens_used_is_the_kept_sum(case: Case) -> None:
    items, counts, budget, strategy = case

    result = prune(items, counts, budget, strategy)

    assert result.tokens_used == sum(counts[i] for i in result.kept_indices)
    assert result.tokens_used <= max(budget, 0)


@cases
def test_property_kept_and_dropped_partition_the_input_without_duplicates(case: Case) -> None:
    items, counts, budget, strategy = case

    result = prune(items, counts, budget, strategy)

    assert len(set(result.kept_indices)) == len(result.kept_indices)
    assert sorted(result.kept_indices + result.dropped_indices) == list(range(len(items)))
    assert result.kept == [items[i] for i in result.kept_indices]
    assert result.dropped == len(items) - len(result.kept)


@cases
def test_property_survivors_keep_their_original_order(case: Case) -> None:
    items, counts, budget, strategy = case

    result = prune(items, counts, budget, strategy)

    assert result.kept_indices == sorted(result.kept_indices)


@cases
def test_property_result_is_deterministic(case: Case) -> None:
    items, counts, budget, strategy = case

    assert prune(items, counts, budget, strategy) == prune(list(items), list(counts), budget, strategy)


@cases
def test_property_greedy_is_maximal_no_dropped_item_fits_the_remaining_budget(case: Case) -> None:
    items, counts, budget, strategy = case

    result = prune(items, counts, budget, strategy)

    if budget > 0:
        remaining = budget - result.tokens_used
        assert all(counts[i] > remaining for i in result.dropped_indices)


@cases
def test_property_the_first_item_in_priority_order_that_fits_the_budget_is_kept(case: Case) -> None:
    items, counts, budget, strategy = case

    result = prune(items, counts, budget, strategy)

    fitting = [i for i in priority_order(items, strategy) if counts[i] <= budget]
    if budget > 0 and fitting:
        assert fitting[0] in result.kept_indices


@cases
def test_property_reprune_of_survivors_with_a_smaller_budget_keeps_a_subset(case: Case) -> None:
    items, counts, budget, strategy = case
    first = prune(items, counts, budget, strategy)

    second = prune(first.kept, [counts[i] for i in first.kept_indices], budget // 2, strategy)

    assert {first.kept_indices[j] for j in second.kept_indices} <= set(first.kept_indices)
    assert second.tokens_used <= max(budget // 2, 0)
